"""A real Flower deployment on loopback: one SuperLink, N SuperNodes, ``flwr run``.

:class:`LocalFederation` starts ``flower-superlink`` (TLS from a trial PKI,
``--enable-supernode-auth``, its database in the folder, 127.0.0.1 on a free port),
registers each SuperNode's public key with ``flwr supernode register``, starts the
``flower-supernode`` processes (each on its own free port, with its node config) and
waits, bounded, until the SuperLink lists them online. ``run`` then executes
``flwr run APP_DIR NAME --stream`` against it; :func:`write_trial_app` writes an app
folder for the fedsift trial apps (:mod:`fedsift.simulations.trial_apps`).

Every process gets the offline environment (:mod:`fedsift.offline`), its own
``FLWR_HOME`` under the folder, the caller's ``PYTHONPATH`` and a log file under
``<folder>/logs``; failures name what failed and carry the tails of those logs. Every
process started is stopped on exit (terminate, then kill after a timeout), with the
processes it started (SuperExec, ServerApp and ClientApp processes) found through
``/proc``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from fedsift.offline import apply_offline_environment
from fedsift.client.device_config import DeviceConfig, SuperLinkAddress, SuperNodeSettings, supernode_command
from fedsift.server.deploy_config import SuperLinkConfig, connection_toml, superlink_command
from fedsift.protocols.flwr_config import ConfigValue, toml_pairs
from fedsift.server.flwr_app import write_app

from .errors import SimulationError

logger = logging.getLogger(__name__)

BIN = Path(sys.executable).parent
"""The venv's ``bin``: ``flower-superlink``, ``flower-supernode``, ``flwr`` and the
``flower-superexec`` / ``flwr-serverapp`` / ``flwr-clientapp`` they start by name."""

NodeConfigFor = Callable[[int, int], Mapping[str, ConfigValue]]

TRIAL_APP_DEFAULTS: dict[str, ConfigValue] = {
    "dataset": "digits", "clients": 2, "alpha": 0.5, "seed": 0, "num-rounds": 2, "budget": 20,
    "strategy": "margin", "train-rounds": 1, "warmup-train-rounds": 0, "results-path": "", "provenance-dir": "",
    "state-path": "",
    "model-key": "", "phase": "all", "node-wait-s": 120.0, "reply-timeout-s": 120.0,
}
"""Every run config key of the trial apps (``flwr run`` refuses keys without a default)."""


class DeploymentError(SimulationError):
    """A process of the local federation failed or did not get ready in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_trial_app(app_dir: str | Path, defaults: Mapping[str, ConfigValue] | None = None,
                    server_app: str = "fedsift.simulations.trial_apps:server_app",
                    client_app: str = "fedsift.simulations.trial_apps:client_app") -> Path:
    """Write a Flower app folder for the trial apps (:func:`fedsift.server.flwr_app.write_app`).

    Parameters
    ----------
    app_dir : str or Path
        Folder to write into (created).
    defaults : mapping, optional
        Run config defaults on top of :data:`TRIAL_APP_DEFAULTS`.
    server_app, client_app : str
        ``module:attribute`` of the components.
    """
    return write_app(app_dir, {**TRIAL_APP_DEFAULTS, **(defaults or {})}, server_app, client_app,
                     name="fedsift-trial")


# ------------------------------------------------------------------ processes
def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode("ascii", "replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (children first level first), from ``/proc``.

    Flower starts SuperExec in a session of its own, so process groups do not reach it:
    the parent links do.
    """
    children = _children_map()
    out: list[int] = []
    todo = list(children.get(pid, []))
    while todo and len(out) < 10_000:
        p = todo.pop(0)
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().decode("ascii", "replace").rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def rss_bytes(pids: list[int]) -> int:
    """Summed resident set size of ``pids`` (those that are gone count 0)."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def _signal_all(targets: list[tuple[int, str | None]], sig: int) -> None:
    for pid, started in targets:
        if started is not None and _start_time(pid) == started:  # not a reused pid
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class ManagedProcess:
    """A process this module started, with its log file."""

    name: str
    popen: subprocess.Popen  # type: ignore[type-arg]
    log: Path
    handle: IO[bytes]

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tree(self) -> list[int]:
        """Its pid and those of every live process below it."""
        return [self.pid, *descendants(self.pid)] if self.alive() else descendants(self.pid)

    def tail(self, lines: int = 30) -> str:
        """The last ``lines`` of its log."""
        if not self.handle.closed:
            self.handle.flush()
        return _tail(self.log, lines)

    def stop(self, timeout: float = 10.0, kill: bool = False) -> int | None:
        """Terminate (or kill) it and everything it started; kill what is left after ``timeout``.

        Returns
        -------
        int or None
            Its exit status (None if it could not be reaped).
        """
        targets = [(p, _start_time(p)) for p in self.tree()]
        _signal_all(targets, signal.SIGKILL if kill else signal.SIGTERM)
        deadline = time.monotonic() + timeout
        try:
            self.popen.wait(timeout=max(timeout, 0.1))
        except subprocess.TimeoutExpired:
            pass
        while time.monotonic() < deadline and any(_start_time(p) == s for p, s in targets if s):
            time.sleep(0.1)
        _signal_all(targets, signal.SIGKILL)
        try:
            self.popen.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            logger.error("%s (pid %d) did not exit after SIGKILL", self.name, self.pid)
        if not self.handle.closed:
            self.handle.close()
        return self.popen.returncode


@dataclass
class SuperNodeHandle:
    """One SuperNode of the federation."""

    index: int
    process: ManagedProcess
    port: int
    node_id: int | None
    private_key: Path | None
    registered: bool
    node_config: dict[str, ConfigValue] = field(default_factory=dict)


def default_node_config(index: int, count: int) -> dict[str, ConfigValue]:
    """The trial apps' node config: partition ``index`` of ``count`` of digits, α = 0.5, seed 0."""
    return {"partition-id": index, "num-partitions": count, "dataset": "digits", "alpha": 0.5, "seed": 0}


class RunCompleted(subprocess.CompletedProcess):  # type: ignore[type-arg]
    """A finished ``flwr run``: exit status, output, the run's id and final status."""

    def __init__(self, args: list[str], returncode: int, stdout: str, run_id: int | None, status: str) -> None:
        super().__init__(args, returncode, stdout, "")
        self.run_id = run_id
        self.status = status


class RunHandle:
    """A ``flwr run`` in progress."""

    def __init__(self, process: ManagedProcess, args: list[str], federation: LocalFederation) -> None:
        self.process = process
        self.args = args
        self._federation = federation

    def run_id(self) -> int | None:
        """The run id ``flwr run`` printed, once it has."""
        match = re.search(r"Successfully started run (\d+)", self.process.tail(400))
        return int(match.group(1)) if match else None

    def wait(self, timeout: float, check: bool = True) -> RunCompleted:
        """Wait (bounded) until the run is finished on the SuperLink.

        ``flwr run --stream`` can return while the run goes on (its log stream ends on
        a SuperLink error), so the run's status is polled with ``flwr ls --run-id``
        until it is ``finished:...``.

        Parameters
        ----------
        timeout : float
            Seconds to wait; then the run is stopped and :class:`DeploymentError` raised.
        check : bool
            Raise :class:`DeploymentError` (with the logs' tails) unless ``flwr run``
            exited 0 and the run's status is ``finished:completed``.

        Returns
        -------
        RunCompleted
            Exit status, streamed output (stdout and stderr together), run id and status.
        """
        deadline = time.monotonic() + timeout
        try:
            code = self.process.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.stop()
            raise DeploymentError(f"flwr run did not finish within {timeout:.0f} s\n"
                                  f"{self._federation.log_tails()}") from None
        self.process.stop()
        output = self.process.log.read_text(encoding="utf-8", errors="replace")
        run_id, status = self.run_id(), ""
        while run_id is not None:
            status = self._federation.run_status(run_id)
            if status.startswith("finished") or time.monotonic() > deadline:
                break
            time.sleep(2.0)
        if run_id is not None and not status.startswith("finished"):
            raise DeploymentError(f"run {run_id} still {status!r} after {timeout:.0f} s "
                                  f"(flwr run exited {code})\n{self._federation.log_tails()}")
        if check and (code != 0 or status != "finished:completed"):
            raise DeploymentError(f"flwr run exited with status {code}, run {run_id} {status!r}\n"
                                  f"{self._federation.log_tails()}")
        return RunCompleted(self.args, code, output, run_id, status)


class LocalFederation:
    """SuperLink + N SuperNodes on 127.0.0.1, as a context manager.

    Parameters
    ----------
    folder : str or Path
        Working folder: PKI, database, ``FLWR_HOME`` folders, logs.
    supernodes : int
        SuperNodes to start (registered, when ``auth``).
    tls : bool
        Serve the SuperLink over TLS with a trial PKI (``fedsift.server.certs``).
    auth : bool
        ``--enable-supernode-auth``; needs ``tls`` (Flower refuses auth without TLS).
    node_config_for : callable, optional
        ``(index, count) -> node config``; defaults to :func:`default_node_config`.
    name : str
        The SuperLink connection's name in ``FLWR_HOME/config.toml``.
    start_timeout : float
        Seconds to wait for the SuperLink and for all SuperNodes to be online.
    superlink_db : str
        ``"file"`` (``superlink.db`` in the folder: registrations and runs survive a
        SuperLink restart) or ``"memory"`` (Flower's in-memory state).
    """

    def __init__(self, folder: str | Path, supernodes: int, tls: bool = True, auth: bool = True,
                 node_config_for: NodeConfigFor | None = None, name: str = "fedsift-trial",
                 start_timeout: float = 120.0, superlink_db: str = "file") -> None:
        if superlink_db not in ("file", "memory"):
            raise ValueError(f"superlink_db = {superlink_db!r}: must be 'file' or 'memory'")
        self.superlink_db = superlink_db
        if supernodes < 0:
            raise ValueError(f"supernodes = {supernodes}: must be >= 0")
        if auth and not tls:
            raise ValueError("auth = True needs tls = True: Flower refuses SuperNode auth with --insecure")
        self.folder = Path(folder).resolve()
        self.count = supernodes
        self.tls = tls
        self.auth = auth
        self.node_config_for = node_config_for or default_node_config
        self.name = name
        self.start_timeout = start_timeout
        self.port = 0
        self.superlink: ManagedProcess | None = None
        self.supernodes: list[SuperNodeHandle] = []
        self.pki: Any = None
        self._runs: list[ManagedProcess] = []
        self._cli_log = self.folder / "logs" / "flwr-cli.log"

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> LocalFederation:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the SuperLink, register the keys, start the SuperNodes, wait until online."""
        apply_offline_environment()
        (self.folder / "logs").mkdir(parents=True, exist_ok=True)
        if self.tls:
            from fedsift.server.certs import generate_trial_pki

            self.pki = generate_trial_pki(self.folder / "pki", self.count)
        self._start_superlink()
        for i in range(self.count):
            self.add_supernode(register=self.auth, wait=False)
        self.wait_online(self.count, self.start_timeout)

    def stop(self) -> None:
        """Stop runs, SuperNodes and the SuperLink (each bounded); safe to call twice."""
        procs = [*self._runs, *(n.process for n in self.supernodes)]
        procs += [self.superlink] if self.superlink is not None else []
        for proc in procs:
            try:
                proc.stop(timeout=10.0)
            except Exception:  # noqa: BLE001  (stop the others whatever happens to one)
                logger.exception("could not stop %s (pid %d)", proc.name, proc.pid)

    # ---------------------------------------------------------- processes
    def env(self, home: str) -> dict[str, str]:
        """The environment of a child: offline variables, ``PYTHONPATH``, own ``FLWR_HOME``."""
        env = dict(os.environ)
        flwr_home = self.folder / home
        flwr_home.mkdir(parents=True, exist_ok=True)
        env["FLWR_HOME"] = str(flwr_home)
        env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _spawn(self, name: str, args: list[str], home: str) -> ManagedProcess:
        log = self.folder / "logs" / f"{name}.log"
        handle = log.open("ab")
        try:
            popen = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=self.env(home), cwd=self.folder, start_new_session=True)
        except BaseException:
            handle.close()
            raise
        logger.info("started %s (pid %d): %s", name, popen.pid, " ".join(args))
        return ManagedProcess(name, popen, log, handle)

    def _start_superlink(self, port: int = 0, log_name: str = "superlink") -> None:
        self.port = port or free_port()
        database = str(self.folder / "superlink.db") if self.superlink_db == "file" else ""
        link = SuperLinkConfig(port=self.port, database=database, insecure=not self.tls,
                               supernode_auth=self.auth)
        if self.tls:
            link.ca_cert, link.server_cert, link.server_key = (str(self.pki.ca_cert), str(self.pki.server_cert),
                                                               str(self.pki.server_key))
        args = superlink_command(link.validate(), BIN)
        self.superlink = self._spawn(log_name, args, "home-superlink")
        self._write_cli_config()
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if not self.superlink.alive():
                raise DeploymentError(f"flower-superlink exited with status {self.superlink.popen.returncode}\n"
                                      f"{self.log_tails()}")
            if "Application startup complete" in self.superlink.tail(200):
                with socket.socket() as sock:
                    sock.settimeout(1.0)
                    if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                        return
            time.sleep(0.2)
        raise DeploymentError(f"flower-superlink not serving on 127.0.0.1:{self.port} after "
                              f"{self.start_timeout:.0f} s\n{self.log_tails()}")

    def _write_cli_config(self) -> None:
        home = self.folder / "home-cli"
        home.mkdir(parents=True, exist_ok=True)
        ca = str(self.pki.ca_cert) if self.tls else None
        (home / "config.toml").write_text(connection_toml(self.name, f"127.0.0.1:{self.port}", ca), encoding="utf-8")

    def flwr(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """Run the ``flwr`` CLI against this SuperLink (bounded); output also goes to ``flwr-cli.log``."""
        cmd = [str(BIN / "flwr"), *args]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=self.env("home-cli"),
                                  cwd=self.folder, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise DeploymentError(f"{' '.join(cmd)} did not finish within {timeout:.0f} s") from exc
        with self._cli_log.open("a", encoding="utf-8") as fh:
            fh.write(f"$ {' '.join(cmd)}  -> {proc.returncode}\n{proc.stdout}{proc.stderr}\n")
        return proc

    def register(self, public_key: Path) -> int:
        """Register a SuperNode public key (OpenSSH) with ``flwr supernode register``; its node id."""
        proc = self.flwr("supernode", "register", str(public_key), self.name, "--format", "json")
        try:
            return int(json.loads(proc.stdout[proc.stdout.index("{"):])["node-id"])
        except (ValueError, KeyError) as exc:
            raise DeploymentError(f"flwr supernode register {public_key} failed (status {proc.returncode}):\n"
                                  f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}") from exc

    def list_nodes(self) -> list[dict[str, Any]]:
        """The SuperLink's SuperNodes (``flwr supernode ls --format json``)."""
        proc = self.flwr("supernode", "ls", self.name, "--format", "json")
        try:
            data = json.loads(proc.stdout[proc.stdout.index("{"):])
        except ValueError as exc:
            raise DeploymentError(f"flwr supernode ls failed (status {proc.returncode}):\n"
                                  f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}") from exc
        return list(data.get("nodes", []))

    def run_status(self, run_id: int) -> str:
        """A run's status on the SuperLink (``flwr ls --run-id``), e.g. ``finished:completed``."""
        proc = self.flwr("ls", self.name, "--run-id", str(run_id), "--format", "json")
        try:
            runs = json.loads(proc.stdout[proc.stdout.index("{"):]).get("runs", [])
        except ValueError:
            return f"unknown (flwr ls exited {proc.returncode})"
        return str(runs[0].get("status", "")) if runs else "unknown"

    def online_node_ids(self) -> set[int]:
        """Ids of the SuperNodes the SuperLink lists as online."""
        return {int(n["node-id"]) for n in self.list_nodes() if n.get("status") == "online"}

    def add_supernode(self, register: bool = True, wait: bool = True,
                      node_config: Mapping[str, ConfigValue] | None = None) -> SuperNodeHandle:
        """Start one more SuperNode (a new key pair beyond the PKI's, if needed).

        Parameters
        ----------
        register : bool
            Register its public key first; ``False`` starts one the SuperLink must refuse.
        wait : bool
            Wait (bounded) until it is online (only for a registered node).
        node_config : mapping, optional
            Defaults to ``node_config_for(index, supernodes)``.

        Returns
        -------
        SuperNodeHandle
            The new node.
        """
        index = len(self.supernodes)
        key: Path | None = None
        node_id: int | None = None
        if self.auth:
            from fedsift.server.certs import write_supernode_keys

            keys = (self.pki.supernodes[index] if index < len(self.pki.supernodes)
                    else write_supernode_keys(self.pki.folder, f"supernode-{index}"))
            key = keys.private_key
            if register:
                node_id = self.register(keys.public_key)
        config = dict(node_config if node_config is not None else self.node_config_for(index, self.count))
        # Labels and replay protection persist on the device across runs (phases, restarts).
        config.setdefault("store-path", str(self.folder / f"device-{index}.db"))
        port = free_port()
        device = DeviceConfig(superlink=SuperLinkAddress(f"127.0.0.1:{self.port}",
                                                         str(self.pki.ca_cert) if self.tls else "",
                                                         str(key) if key is not None else "", not self.tls),
                              supernode=SuperNodeSettings(port=port))
        args = supernode_command(device, BIN, toml_pairs(config))
        proc = self._spawn(f"supernode-{index}", args, f"home-supernode-{index}")
        node = SuperNodeHandle(index, proc, port, node_id, key, register, config)
        self.supernodes.append(node)
        if wait and register:
            self.wait_online(sum(1 for n in self.supernodes if n.registered and n.process.alive()),
                             self.start_timeout)
        return node

    def wait_online(self, count: int, timeout: float) -> set[int]:
        """Wait (bounded) until ``count`` SuperNodes (ours, when their ids are known) are online."""
        deadline = time.monotonic() + timeout
        expected = {n.node_id for n in self.supernodes if n.node_id is not None and n.process.alive()}
        online: set[int] = set()
        while time.monotonic() < deadline:
            dead = [n for n in self.supernodes if n.registered and not n.process.alive()
                    and n.process.popen.returncode not in (-signal.SIGKILL, -signal.SIGTERM)]
            if dead:
                raise DeploymentError(f"supernode-{dead[0].index} exited with status "
                                      f"{dead[0].process.popen.returncode}\n{self.log_tails()}")
            online = self.online_node_ids()
            if len(online & expected if expected else online) >= count:
                return online
            time.sleep(0.5)
        raise DeploymentError(f"{len(online)} of {count} SuperNodes online after {timeout:.0f} s\n"
                              f"{self.log_tails()}")

    def restart_superlink(self) -> None:
        """Stop the SuperLink (SIGTERM, then SIGKILL) and start it again on the same port and database.

        SuperNodes keep running and reconnect; registered keys and node ids live in the
        SuperLink's database.
        """
        if self.superlink is not None:
            self.superlink.stop(timeout=10.0)
        self._restarts = getattr(self, "_restarts", 0) + 1
        self._start_superlink(self.port, f"superlink-restart-{self._restarts}")

    def serverapp_pids(self) -> list[int]:
        """Pids of the ``flwr-serverapp`` processes the SuperLink's SuperExec started (the running ServerApp)."""
        if self.superlink is None:
            return []
        out = []
        for pid in descendants(self.superlink.pid):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    cmd = fh.read().split(b"\0")
            except OSError:
                continue
            if any(part.endswith(b"flwr-serverapp") for part in cmd):
                out.append(pid)
        return out

    def kill_serverapp(self) -> int:
        """SIGKILL the running ServerApp process (a server crash); how many were killed."""
        pids = self.serverapp_pids()
        _signal_all([(p, _start_time(p)) for p in pids], signal.SIGKILL)
        return len(pids)

    def kill_supernode(self, index: int) -> None:
        """SIGKILL SuperNode ``index`` and the processes it started (a crash, not a shutdown)."""
        self.supernodes[index].process.stop(timeout=5.0, kill=True)

    # ---------------------------------------------------------------- runs
    def start_run(self, app_dir: str | Path, run_config: Mapping[str, ConfigValue]) -> RunHandle:
        """Start ``flwr run APP_DIR NAME --stream --run-config ...`` without waiting."""
        args = [str(BIN / "flwr"), "run", str(Path(app_dir).resolve()), self.name, "--stream"]
        if run_config:
            args += ["--run-config", toml_pairs(run_config)]
        proc = self._spawn(f"flwr-run-{len(self._runs)}", args, "home-cli")
        self._runs.append(proc)
        return RunHandle(proc, args, self)

    def run(self, app_dir: str | Path, run_config: Mapping[str, ConfigValue], timeout: float = 600.0,
            check: bool = True) -> RunCompleted:
        """Run the app to the end (bounded); see :meth:`RunHandle.wait`."""
        return self.start_run(app_dir, run_config).wait(timeout, check=check)

    # ------------------------------------------------------------- report
    def log_tails(self, lines: int = 25) -> str:
        """The last ``lines`` of every log file, for error messages."""
        parts = []
        for log in sorted((self.folder / "logs").glob("*.log")):
            parts.append(f"--- {log.name} ---\n{_tail(log, lines)}")
        return "\n".join(parts)

    def memory(self) -> dict[str, int]:
        """RSS in bytes: SuperLink with its children, and all live SuperNodes with theirs."""
        link = rss_bytes(self.superlink.tree()) if self.superlink is not None else 0
        nodes = sum(rss_bytes(n.process.tree()) for n in self.supernodes if n.process.alive())
        return {"superlink_rss": link, "supernodes_rss": nodes}
