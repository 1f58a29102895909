"""Provenance log benchmark: append throughput, standalone verification time, proof sizes.

Run ``python -m fedsift.simulations.benchmarks.provenance_bench [--events N] [--json OUT]``.
Targets (issue 5): >= 30,000 events/s appended in batches, < 5 s to verify 1,000,000 events.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fedsift.privacy import merkle
from fedsift.privacy import provenance as pv
from fedsift.privacy.checkpoint import generate_signer
from fedsift.privacy.provenance import ProvenanceLog

TARGET_APPEND = 30_000
TARGET_VERIFY_S = 5.0


def _event(i: int) -> tuple[str, dict]:
    """A consent decision of realistic size (~230 bytes stored)."""
    return pv.CONSENT_DECISION, {
        "candidate_id": f"{i:032x}", "device_id": f"dev-{i % 64:03d}", "round": i // 1000,
        "decision": "granted", "scope": "label", "expires": "2027-01-01T00:00:00Z", "policy": "v3",
    }


def bench_append(path: Path, events: int, batch: int, synchronous: str) -> float:
    """Events per second appended ``batch`` per transaction."""
    with ProvenanceLog(path, synchronous=synchronous) as log:
        start = time.perf_counter()
        for lo in range(0, events, batch):
            if batch == 1:
                log.append(*_event(lo))
            else:
                log.append_many([_event(i) for i in range(lo, min(lo + batch, events))])
        return events / (time.perf_counter() - start)


# The officer's situation: a fresh process that loads the key and verifies the file.
_VERIFY = """import resource, sys, time
from fedsift.privacy.verifier import load_verifier_key, verify_log
def cpu():
    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))
key = load_verifier_key(sys.argv[2])
start, cpu0 = time.perf_counter(), cpu()
result = verify_log(sys.argv[1], key)
print(time.perf_counter() - start, cpu() - cpu0, result.ok)
"""


def bench_verify(path: Path, key_path: Path, events: int, repeats: int) -> list[dict]:
    """Build a log of ``events`` with a checkpoint, then time the standalone verifier.

    Each run is a fresh interpreter (as ``fedsift audit verify`` would be); the time is of
    the ``verify_log`` call alone, interpreter start-up excluded. CPU seconds (this process
    and its worker processes) and the 1-minute load average are recorded beside the wall
    time, since other work on a shared machine stretches the wall time.
    """
    signer = generate_signer(key_path, pv.DEFAULT_ORIGIN)
    with ProvenanceLog(path, synchronous="NORMAL") as log:
        for lo in range(0, events, 10_000):
            log.append_many([_event(i) for i in range(lo, min(lo + 10_000, events))])
        log.checkpoint(signer)
    runs = []
    for _ in range(repeats):
        load = os.getloadavg()[0]
        out = subprocess.run([sys.executable, "-c", _VERIFY, str(path), f"{key_path}.vkey"],
                             check=True, capture_output=True, text=True).stdout.split()
        runs.append({"seconds": round(float(out[0]), 3), "cpu_seconds": round(float(out[1]), 3),
                     "intact": out[2] == "True", "loadavg_1m_before": load})
    return runs


def proof_sizes(path: Path, sizes: list[int]) -> list[dict]:
    """Inclusion (middle leaf) and consistency (half → full) proof lengths per tree size."""
    with ProvenanceLog(path) as log:
        leaves = log.leaf_hashes()
    rows = []
    for n in sizes:
        if n > len(leaves):
            continue
        inc = merkle.inclusion_proof(n // 2, leaves[:n])
        con = merkle.consistency_proof(n // 2, leaves[:n])
        rows.append({"n": n, "log2_n": math.ceil(math.log2(n)), "inclusion_hashes": len(inc),
                     "inclusion_bytes": 32 * len(inc), "consistency_hashes": len(con),
                     "consistency_bytes": 32 * len(con)})
    return rows


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, print a table and return (and optionally write) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the verified log")
    parser.add_argument("--append-events", type=int, default=200_000, help="events for the batched append")
    parser.add_argument("--single-events", type=int, default=3_000, help="events for per-event commits")
    parser.add_argument("--batch", type=int, default=1_000, help="events per transaction (batched)")
    parser.add_argument("--repeats", type=int, default=5, help="verifier runs (the median is reported)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    console = Console(width=max(Console().width, 90))
    with tempfile.TemporaryDirectory(prefix="fedsift-provbench-") as tmp:
        d = Path(tmp)
        batched = bench_append(d / "batched.db", args.append_events, args.batch, "FULL")
        single_full = bench_append(d / "single_full.db", args.single_events, 1, "FULL")
        single_normal = bench_append(d / "single_normal.db", args.single_events, 1, "NORMAL")
        runs = bench_verify(d / "verify.db", d / "log.key", args.events, args.repeats)
        sizes = [n for n in (1_000, 10_000, 100_000, 1_000_000) if n <= args.events] or [args.events]
        proofs = proof_sizes(d / "verify.db", sizes)
        db_bytes = (d / "verify.db").stat().st_size
    times = [r["seconds"] for r in runs]
    verify_s, verify_cpu = statistics.median(times), statistics.median(r["cpu_seconds"] for r in runs)
    figures = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "append": {"batched_events_per_s": round(batched), "batch": args.batch, "synchronous": "FULL",
                   "per_event_commit_events_per_s": {"FULL": round(single_full), "NORMAL": round(single_normal)},
                   "target_batched_events_per_s": TARGET_APPEND, "met": batched >= TARGET_APPEND},
        "verify": {"events": args.events, "seconds_median": round(verify_s, 3), "seconds_min": min(times),
                   "cpu_seconds_median": round(verify_cpu, 3), "runs": runs,
                   "intact": all(r["intact"] for r in runs), "db_bytes": db_bytes,
                   "target_s": TARGET_VERIFY_S, "met": verify_s < TARGET_VERIFY_S and args.events >= 1_000_000},
        "proof_sizes": proofs,
    }
    table = Table(title="fedsift provenance log benchmark")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_row(f"append, {args.batch}/commit (sync FULL)", f"{batched:,.0f} ev/s", f">= {TARGET_APPEND:,} ev/s")
    table.add_row("append, 1/commit (sync FULL)", f"{single_full:,.0f} ev/s", "")
    table.add_row("append, 1/commit (sync NORMAL)", f"{single_normal:,.0f} ev/s", "")
    table.add_row(f"verify {args.events:,} events (median/{len(times)})", f"{verify_s:.2f} s",
                  f"< {TARGET_VERIFY_S:.0f} s")
    table.add_row("  fastest run / CPU s (all processes)", f"{min(times):.2f} s / {verify_cpu:.1f} s", "")
    for p in proofs:
        table.add_row(f"proof hashes, n={p['n']:,}", f"incl {p['inclusion_hashes']} / cons {p['consistency_hashes']}",
                      f"<= log2 n ~ {p['log2_n']}")
    console.print(table)
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
