"""Loopback-only guard for the test suite and every subprocess it starts.

Loaded by ``tests/conftest.py`` in the pytest process and, through ``PYTHONPATH``, as
``sitecustomize`` in every Python subprocess (SuperLink, SuperNodes, Ray workers, the
CLI). Any ``connect``/``sendto`` to an address outside 127.0.0.0/8 or ::1 is refused
and recorded in the file named by ``FEDSIFT_NETGUARD_LOG``; conftest fails the test
that caused it. Written by hand because no library hooks sockets across processes.
"""

from __future__ import annotations

import ipaddress
import os
import socket

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(address: object) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # AF_UNIX paths and abstract sockets never leave the machine
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    host = host.split("%", 1)[0]
    if host in _LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False  # an unresolved host name: not provably loopback
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _record(kind: str, address: object) -> None:
    log = os.environ.get("FEDSIFT_NETGUARD_LOG")
    line = f"{os.getpid()} {kind} {address!r}\n"
    if log:
        try:
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(line)
        except OSError:
            pass


def install() -> None:
    """Patch ``socket.socket`` once in this process."""
    if getattr(socket.socket, "_fedsift_guarded", False):
        return
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_sendto = socket.socket.sendto

    def connect(self, address):  # type: ignore[no-untyped-def]
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            _record("connect", address)
            raise PermissionError(f"fedsift netguard: non-loopback connect to {address!r}")
        return original_connect(self, address)

    def connect_ex(self, address):  # type: ignore[no-untyped-def]
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            _record("connect_ex", address)
            raise PermissionError(f"fedsift netguard: non-loopback connect to {address!r}")
        return original_connect_ex(self, address)

    def sendto(self, data, *args):  # type: ignore[no-untyped-def]
        address = args[-1] if args else None
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            _record("sendto", address)
            raise PermissionError(f"fedsift netguard: non-loopback sendto {address!r}")
        return original_sendto(self, data, *args)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[method-assign]
    socket.socket._fedsift_guarded = True  # type: ignore[attr-defined]


if os.environ.get("FEDSIFT_NETGUARD_LOG"):
    install()
