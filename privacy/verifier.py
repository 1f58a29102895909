"""Standalone verifier of a fedsift provenance log, for privacy officers.

Standard library and ``cryptography`` only, no import from the rest of fedsift, so it can
be copied out and read in one sitting. It trusts nothing cached in the log: it recomputes
the RFC 9162 tree from the stored entry bytes, checks each entry is canonical JSON with a
contiguous index, checks C2SP signed-note checkpoints (Ed25519), and checks inclusion and
consistency proofs (RFC 9162 sections 2.1.3.2 and 2.1.4.2).
"""

from __future__ import annotations

import base64
import gc
import hashlib
import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from json.scanner import make_scanner
from multiprocessing import get_context
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

_SHA = hashlib.sha256
_PARALLEL_FROM = 100_000  # rows; below this, worker start-up costs more than it saves
_BLOCK = 8192  # rows per fetch and per batched canonical check


class VerifyError(Exception):
    """A checkpoint, key, proof or entry is malformed or does not verify."""


@dataclass(frozen=True)
class VerifierKey:
    """An Ed25519 public key and the signed-note key name it signs under (None: the origin)."""

    name: str | None
    public_key: Ed25519PublicKey


@dataclass(frozen=True)
class Checkpoint:
    """A verified checkpoint: the log's origin, tree size and root hash."""

    origin: str
    size: int
    root_hash: bytes


@dataclass
class VerifyResult:
    """Outcome of a verification; ``first_bad_entry`` names the earliest entry found bad."""

    ok: bool
    size: int = 0
    root_hash: bytes | None = None
    checkpoint: Checkpoint | None = None
    first_bad_entry: int | None = None
    problems: list[str] = field(default_factory=list)


def _reject(value: str) -> None:
    raise ValueError(f"non-integer number {value}")


_DECODER = json.JSONDecoder(parse_float=_reject, parse_constant=_reject)
_SCAN = make_scanner(_DECODER)  # the C scanner: no per-call wrapper overhead
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# Re-encoding what was just parsed: parsed JSON has no cycles, so skip the cycle bookkeeping.
_REENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                              check_circular=False)


def canonical_json(obj: object) -> bytes:
    """Encode ``obj`` as canonical JSON: sorted keys, no whitespace, UTF-8."""
    return _ENCODER.encode(obj).encode("utf-8")


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """Signed-note key ID: SHA-256(name || 0x0A || 0x01 || 32-byte Ed25519 key)[:4]."""
    return _SHA(name.encode() + b"\n\x01" + public_key.public_bytes_raw()).digest()[:4]


def load_verifier_key(path: str | Path) -> VerifierKey:
    """Load a public key from a PEM file, 32 raw bytes, or a signed-note vkey line."""
    data = Path(path).read_bytes()
    if data.lstrip().startswith(b"-----BEGIN"):
        key = load_pem_public_key(data)
        if not isinstance(key, Ed25519PublicKey):
            raise VerifyError(f"{path}: not an Ed25519 public key")
        return VerifierKey(None, key)
    if len(data) == 32:
        return VerifierKey(None, Ed25519PublicKey.from_public_bytes(data))
    name, hash_hex, b64 = data.decode().strip().split("+", 2)  # vkey: name+hash+base64
    raw = base64.b64decode(b64, validate=True)
    if len(raw) != 33 or raw[0] != 1:
        raise VerifyError(f"{path}: vkey is not an Ed25519 (type 0x01) key")
    key = Ed25519PublicKey.from_public_bytes(raw[1:])
    if key_id(name, key).hex() != hash_hex:
        raise VerifyError(f"{path}: vkey hash {hash_hex} does not match its key")
    return VerifierKey(name, key)


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise VerifyError(f"{what}: {text[:40]!r} is not base64") from None


def open_note(note: str, key: VerifierKey, default_name: str | None = None) -> str:
    """Return the text of a C2SP signed note once a signature by ``key`` verifies over it.

    Signatures by other keys are ignored, as the signed-note spec requires; a failing
    signature by ``key`` rejects the note. Raise VerifyError when no signature verifies.
    """
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise VerifyError("signed note: no blank line between text and signatures")
    text, lines = note[: cut + 1], note[cut + 2 :].splitlines()
    name = key.name or default_name or ""
    kid, verified = key_id(name, key.public_key), False
    for line in lines:
        dash, _, rest = line.partition(" ")
        sig_name, _, sig_b64 = rest.partition(" ")
        if dash != "\u2014" or not sig_b64:
            raise VerifyError(f"signed note: malformed signature line {line!r}")
        sig = _b64(sig_b64, "signature")
        if sig_name != name or sig[:4] != kid:
            continue
        try:
            key.public_key.verify(sig[4:], text.encode("utf-8"))
        except InvalidSignature:
            raise VerifyError(f"signed note: signature by {name} does not verify") from None
        verified = True
    if not verified:
        raise VerifyError(f"signed note: no signature by the given key ({name}, id {kid.hex()})")
    return text


def open_checkpoint(note: str, key: VerifierKey) -> Checkpoint:
    """Verify a C2SP tlog-checkpoint (origin, size, base64 root) signed by ``key``; return it.

    A key without a name is taken to sign under the checkpoint's origin, as C2SP recommends.
    """
    body = note.split("\n", 3)
    if len(body) < 4 or not body[1].isdigit() or (body[1] != "0" and body[1][0] == "0"):
        raise VerifyError("checkpoint: note text is not origin / tree size / root hash")
    text = open_note(note, key, default_name=body[0])
    origin, size, root = body[0], int(body[1]), _b64(body[2], "checkpoint root hash")
    if len(root) != 32 or text.count("\n") < 3:
        raise VerifyError(f"checkpoint: root hash is {len(root)} bytes, expected 32")
    return Checkpoint(origin, size, root)


def root_from_inclusion(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    """Root implied by an inclusion proof (RFC 9162 2.1.3.2); raise VerifyError if malformed."""
    if not 0 <= index < size:
        raise VerifyError(f"inclusion: index {index} outside tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise VerifyError("inclusion: proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = _SHA(b"\x01" + p + r).digest()
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _SHA(b"\x01" + r + p).digest()
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise VerifyError("inclusion: proof is shorter than the tree is deep")
    return r


def verify_consistency(size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes) -> bool:
    """True when ``proof`` shows tree (size1, root1) is a prefix of (size2, root2), RFC 9162 2.1.4.2."""
    if size1 == size2:
        return not proof and root1 == root2
    if size1 == 0 or size1 > size2:
        return size1 == 0 and not proof
    if not proof:
        return False
    if size1 & (size1 - 1) == 0:  # an exact power of two: the old root is the first node
        proof = [root1, *proof]
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = _SHA(b"\x01" + c + fr).digest(), _SHA(b"\x01" + c + sr).digest()
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _SHA(b"\x01" + sr + c).digest()
        fn, sn = fn >> 1, sn >> 1
    return fr == root1 and sr == root2 and sn == 0


def _first_noncanonical(entries: list[bytes], base: int = 0) -> tuple[int, str] | None:
    """First entry that is not canonical JSON of an object with its own index, or None."""
    try:  # fast path: parse row by row (C scanner), re-encode the whole block in one call
        strs = [e.decode("utf-8") for e in entries]
        objs, ends = zip(*[_SCAN(s, 0) for s in strs]) if strs else ((), ())
        if list(ends) == list(map(len, strs)) and _REENCODER.encode(objs) == "[" + ",".join(strs) + "]" and [
            o.get("index") if type(o) is dict else None for o in objs
        ] == list(range(base, base + len(objs))):
            return None
    except (UnicodeDecodeError, ValueError, StopIteration, TypeError, AttributeError):
        pass
    for i, e in enumerate(entries):  # slow path, only to name the first bad entry
        if type(e) is not bytes:
            return base + i, f"entry {base + i}: stored as {type(e).__name__}, not bytes"
        try:
            obj = _DECODER.decode(e.decode("utf-8"))
        except ValueError as exc:  # UnicodeDecodeError is a ValueError
            return base + i, f"entry {base + i}: not valid float-free JSON ({exc})"
        if canonical_json(obj) != e:
            return base + i, f"entry {base + i}: not canonical JSON (re-encoding changes its bytes)"
        if not isinstance(obj, dict) or obj.get("index") != base + i:
            return base + i, f"entry {base + i}: is not an event object recording index {base + i}"
    return None


def _blocks(uri: str, sql: str, args: tuple) -> Iterator[list[tuple]]:
    """Rows in blocks: one cursor pass, little memory churn, no full copy of the log in RAM."""
    with closing(sqlite3.connect(uri, uri=True)) as con:
        cur = con.execute(sql, args)
        while rows := cur.fetchmany(_BLOCK):
            yield rows


def _check_chunk(uri: str, lo: int, hi: int) -> tuple[int, str] | None:
    gc.disable()  # a worker process of ours, short-lived
    for rows in _blocks(uri, "SELECT entry FROM entries ORDER BY idx LIMIT ? OFFSET ?", (hi - lo, lo)):
        if found := _first_noncanonical([r[0] for r in rows], lo):
            return found
        lo += len(rows)
    return None


def _roots(leaves: list[bytes], sizes: set[int]) -> dict[int, bytes]:
    """Roots of the prefixes ``sizes`` in one level-by-level pass over the whole tree."""
    nodes: dict[int, list[bytes]] = {m: [] for m in sizes if 0 < m <= len(leaves)}
    level, h = leaves, 0
    while level:
        for m, got in nodes.items():  # prefix m = complete subtrees, one per set bit of m
            if (m >> h) & 1:
                got.append(level[(m >> h) - 1])
        if len(level) == 1:
            break
        nxt = [_SHA(b"\x01" + a + b).digest() for a, b in zip(level[0::2], level[1::2])]
        level, h = nxt + level[-1:] if len(level) & 1 else nxt, h + 1
    out = {0: _SHA(b"").digest()}
    for m, got in nodes.items():
        r = got[0]
        for left in got[1:]:
            r = _SHA(b"\x01" + left + r).digest()
        out[m] = r
    return out


def _scan_entries(uri: str, n: int) -> tuple[list[bytes], list[tuple[int, str]]]:
    """Leaf hashes of the first ``n`` entries and the problems found, checking in parallel."""
    pool, futures, cut, workers = None, [], 0, min((os.cpu_count() or 1) - 1, 3)
    if n >= _PARALLEL_FROM and workers > 0:  # workers check the first `cut` rows meanwhile
        # This process also fetches and hashes every entry; 40% of the checks balanced it on 2 cores.
        cut = n - int(n * max(0.0, 0.4 - 0.15 * (workers - 1)))
        pool = ProcessPoolExecutor(workers, mp_context=get_context("fork") if sys.platform == "linux" else None)
        bounds = [cut * w // workers for w in range(workers + 1)]
        futures = [pool.submit(_check_chunk, uri, lo, hi) for lo, hi in zip(bounds, bounds[1:])]
    leaves: list[bytes] = []
    bad: list[tuple[int, str]] = []
    found: tuple[int, str] | None = None
    try:
        for rows in _blocks(uri, "SELECT idx, entry FROM entries ORDER BY idx LIMIT ?", (n,)):
            base, block = len(leaves), [r[1] for r in rows]
            if not bad and [r[0] for r in rows] != list(range(base, base + len(rows))):
                i = next(i for i, r in enumerate(rows, base) if r[0] != i)
                bad.append((i, f"entry {i}: index {rows[i - base][0]} breaks the sequence 0..{n - 1}"))
            try:
                leaves += [_SHA(b"\x00" + e).digest() for e in block]
            except TypeError:  # a row stored as TEXT or a number; hashed as text, flagged below
                leaves += [_SHA(b"\x00" + (e if type(e) is bytes else str(e).encode())).digest() for e in block]
            if found is None and base + len(block) > cut:  # this process's share of the checks
                found = _first_noncanonical(block[max(cut - base, 0):], max(cut, base))
        bad += [found] if found else []
        bad += [f for f in (fut.result() for fut in futures) if f]
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    return leaves, bad


def _recorded_mismatch(uri: str, leaves: list[bytes]) -> tuple[int, str] | None:
    """First entry whose bytes differ from the leaf hash recorded at write time (a hint only)."""
    i = 0
    for rows in _blocks(uri, "SELECT leaf_hash FROM entries ORDER BY idx LIMIT ?", (len(leaves),)):
        for (h,) in rows:
            if h != leaves[i]:
                return i, f"entry {i}: bytes differ from the leaf hash recorded when it was written"
            i += 1
    return None


def verify_log(db_path: str | Path, key: VerifierKey, checkpoint: str | None = None,
               trusted: str | None = None) -> VerifyResult:
    """Verify a provenance log file against a signed checkpoint (default: the latest stored).

    ``trusted`` is an older checkpoint the officer kept: the log must still extend it, which
    catches truncation and rollback to an older signed state.
    """
    uri = Path(db_path).resolve().as_uri() + "?mode=ro"
    gc_was_on = gc.isenabled()
    gc.disable()  # a million small objects, no cycles: the collector only costs time here
    try:
        with closing(sqlite3.connect(uri, uri=True)) as con:
            if checkpoint is None:
                row = con.execute("SELECT note FROM checkpoints ORDER BY size DESC, rowid DESC LIMIT 1").fetchone()
                checkpoint = row[0] if row else None
            n = con.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
        leaves, bad = _scan_entries(uri, n)
    except sqlite3.Error as exc:
        raise VerifyError(f"{db_path}: not a readable provenance log ({exc})") from None
    finally:
        if gc_was_on:
            gc.enable()
    res = VerifyResult(ok=False, size=n)
    cps: dict[str, Checkpoint] = {}
    if checkpoint is None:
        res.problems.append("no signed checkpoint to verify the log against")
    for label, note in (("trusted checkpoint", trusted), ("checkpoint", checkpoint)):
        try:
            if note is not None:
                cps[label] = open_checkpoint(note, key)
        except VerifyError as exc:
            res.problems.append(f"{label}: {exc}" if label.startswith("trusted") else str(exc))
    res.checkpoint = cps.get("checkpoint")
    roots = _roots(leaves, {n} | {cp.size for cp in cps.values()})
    res.root_hash = roots[n]
    for label, cp in cps.items():
        if cp.size > n:
            res.problems.append(f"{label} covers {cp.size} entries but the log holds {n}: truncated or rolled back")
        elif roots[cp.size] != cp.root_hash:
            res.problems.append(f"{label} root at size {cp.size} does not match the entries: altered")
            bad += [f for f in [None if bad else _recorded_mismatch(uri, leaves)] if f]
    if len(cps) == 2 and cps["trusted checkpoint"].size > cps["checkpoint"].size:
        res.problems.append("checkpoint is older than the trusted checkpoint: rolled back")
    if bad:
        first = min(bad)
        res.first_bad_entry = first[0]
        res.problems.insert(0, first[1])
    res.ok = not res.problems
    return res


def verify_bundle(bundle: dict, key: VerifierKey, trusted: str | None = None) -> VerifyResult:
    """Verify a proof bundle: one entry, its inclusion path and the signed checkpoint."""
    res = VerifyResult(ok=False)
    try:
        cp = res.checkpoint = open_checkpoint(bundle["checkpoint"], key)
        index, size = int(bundle["index"]), int(bundle["tree_size"])
        entry = _b64(bundle["entry"], "bundle entry")
        path = [_b64(p, "inclusion path") for p in bundle["inclusion_path"]]
        res.size, res.root_hash = size, cp.root_hash
        if size != cp.size:
            raise VerifyError(f"bundle tree size {size} differs from its checkpoint's {cp.size}")
        if _first_noncanonical([entry], index):
            res.first_bad_entry = index
            raise VerifyError(f"entry {index}: not canonical JSON recording index {index}")
        if root_from_inclusion(index, size, _SHA(b"\x00" + entry).digest(), path) != cp.root_hash:
            res.first_bad_entry = index
            raise VerifyError(f"entry {index}: inclusion proof does not lead to the checkpoint root")
        if trusted is not None:
            old = open_checkpoint(trusted, key)
            cons = bundle.get("consistency") or {}
            proof = [_b64(p, "consistency path") for p in cons.get("path", [])]
            if cons.get("from_size", old.size) != old.size or not verify_consistency(
                old.size, cp.size, proof, old.root_hash, cp.root_hash
            ):
                raise VerifyError(f"checkpoint of size {cp.size} is not consistent with the trusted one")
    except (VerifyError, KeyError, ValueError, TypeError) as exc:
        res.problems.append(str(exc) if isinstance(exc, VerifyError) else f"malformed bundle: {exc!r}")
    res.ok = not res.problems
    return res
