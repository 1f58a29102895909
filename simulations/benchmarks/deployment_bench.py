"""Round wall time and memory of a real deployment: SuperLink + N SuperNodes on this machine.

Usage::

    python -m fedsift.simulations.benchmarks.deployment_bench --supernodes 20 --rounds 2 \\
        --json runs/bench/deployment.json

Starts a :class:`~fedsift.simulations.deployment.LocalFederation` (TLS, SuperNode auth,
127.0.0.1 only), runs the trial apps (digits, α = 0.5, margin, budget 20, one training
wave per round) with ``flwr run`` and reports per round the wall time (the results
lines' ``seconds``), the message waves inside it (each timed from push to last reply by a
thin Grid wrapper in the ServerApp) and memory: the RSS of the SuperLink with all its
children (SuperExec, the ServerApp process) and the total RSS of the SuperNodes with
theirs (SuperExec, ClientApp processes), sampled every second (psutil if installed,
else ``/proc``).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flwr.app import Context, Message
from flwr.serverapp import Grid, ServerApp

from fedsift.offline import apply_offline_environment

logger = logging.getLogger(__name__)


class TimedGrid(Grid):
    """A Grid that forwards everything and appends each message wave's time to a JSON-lines file.

    A wave runs from its ``push_messages`` to its last ``pull_messages``: the one that
    brought its last reply, or, when some replies never came, the last before the server
    gave up on them. A wave is written once all its replies are in, at the next push, or
    at :meth:`flush`.
    """

    def __init__(self, inner: Grid, log: Path) -> None:
        self._inner = inner
        self._log = log
        self._wave: dict[str, Any] | None = None

    def set_run(self, run: Any) -> None:
        self._inner.set_run(run)

    @property
    def run(self) -> Any:
        return self._inner.run

    def create_message(self, *args: Any, **kwargs: Any) -> Message:  # type: ignore[override]
        return self._inner.create_message(*args, **kwargs)

    def get_node_ids(self) -> Iterable[int]:
        return self._inner.get_node_ids()

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        msgs = list(messages)
        self._close_wave()
        start = time.perf_counter()
        ids = list(self._inner.push_messages(msgs))
        self._wave = {"start": start, "type": ",".join(sorted({m.metadata.message_type for m in msgs})),
                      "sent": len(msgs), "replies": 0, "pending": set(ids), "end": start}
        return ids

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        replies = list(self._inner.pull_messages(message_ids))
        if self._wave is not None:
            self._wave["end"] = time.perf_counter()
            self._wave["replies"] += len(replies)
            self._wave["pending"].difference_update(m.metadata.reply_to_message_id for m in replies)
            if not self._wave["pending"]:
                self._close_wave()
        return replies

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> Iterable[Message]:
        from fedsift.server.waves import exchange

        return exchange(self, list(messages), 3600.0 if timeout is None else timeout)

    def flush(self) -> None:
        """Write the wave still open (one whose replies did not all come)."""
        self._close_wave()

    def _close_wave(self) -> None:
        wave, self._wave = self._wave, None
        if wave is None:
            return
        with self._log.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"t": time.time(), "type": wave["type"], "sent": wave["sent"],
                                 "replies": wave["replies"], "seconds": wave["end"] - wave["start"]}) + "\n")


timed_server_app = ServerApp()


@timed_server_app.main()
def _timed_main(grid: Grid, context: Context) -> None:
    from fedsift.simulations.trial_apps import server_app

    log = str(context.run_config.get("wave-log", ""))
    context.run_config = {k: v for k, v in context.run_config.items() if k != "wave-log"}  # not a campaign key
    if not log:
        server_app(grid, context)
        return
    timed = TimedGrid(grid, Path(log))
    try:
        server_app(timed, context)
    finally:
        timed.flush()


def _tree_rss(pid: int) -> int:
    """RSS of ``pid`` and its descendants (psutil if installed, else ``/proc``)."""
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        from fedsift.simulations.deployment import descendants, rss_bytes

        return rss_bytes([pid, *descendants(pid)])
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


class MemorySampler:
    """Samples SuperLink-tree and SuperNodes-tree RSS every ``interval`` s in a thread."""

    def __init__(self, federation: Any, interval: float = 1.0) -> None:
        self.federation = federation
        self.interval = interval
        self.samples: list[tuple[float, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def sample(self) -> tuple[float, int, int]:
        fed = self.federation
        link = _tree_rss(fed.superlink.pid) if fed.superlink is not None else 0
        nodes = sum(_tree_rss(n.process.pid) for n in fed.supernodes if n.process.alive())
        row = (time.time(), link, nodes)
        self.samples.append(row)
        return row

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10.0)


def _rows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def measure(supernodes: int, rounds: int, budget: int, train_rounds: int, folder: Path,
            timeout: float, superlink_db: str = "file", reply_timeout: float = 120.0) -> dict[str, Any]:
    """Start the federation, run the campaign, return timings and memory.

    Parameters
    ----------
    supernodes, rounds, budget, train_rounds
        Size of the federation and of the campaign.
    folder : Path
        Working folder (PKI, logs, results).
    timeout : float
        Upper bound on the run, in seconds.
    superlink_db : str
        ``file`` (SQLite, as ``fedsift server start`` runs it) or ``memory``.
    reply_timeout : float
        How long a message wave waits for missing replies.

    Returns
    -------
    dict
        ``rounds`` (per-round rows with their waves), memory figures in MiB and
        start-up/run seconds.
    """
    from fedsift.simulations.deployment import LocalFederation, write_trial_app

    results, waves = folder / "results.jsonl", folder / "waves.jsonl"
    app = write_trial_app(folder / "app", defaults={"wave-log": ""},
                          server_app="fedsift.simulations.benchmarks.deployment_bench:timed_server_app")
    t0 = time.perf_counter()
    with LocalFederation(folder / "federation", supernodes, start_timeout=60.0 + 6.0 * supernodes,
                         superlink_db=superlink_db) as fed:
        startup = time.perf_counter() - t0
        with MemorySampler(fed) as sampler:
            idle = sampler.sample()
            t1 = time.perf_counter()
            res = fed.run(app, {"dataset": "digits", "clients": supernodes, "num-rounds": rounds, "budget": budget,
                          "train-rounds": train_rounds, "strategy": "margin", "results-path": str(results),
                          "wave-log": str(waves), "node-wait-s": 120.0, "reply-timeout-s": reply_timeout},
                    timeout=timeout, check=False)
            run_seconds = time.perf_counter() - t1
    mib = 1024.0 * 1024.0
    wave_rows = _rows(waves)
    out_rounds = [{"round": r["round"], "labels": r["labels"], "devices": r["devices"], "seconds": r["seconds"],
                   "accuracy": r["accuracy"]} for r in _rows(results) if r["round"] >= 1]
    # Every round opens with its query wave: waves up to the next query belong to it.
    queue = list(wave_rows)
    for row in out_rounds:
        taken: list[dict[str, Any]] = []
        while queue and (not taken or queue[0]["type"] != "query"):
            taken.append(queue.pop(0))
        row["waves"] = [{"type": w["type"], "seconds": round(w["seconds"], 2), "sent": w["sent"],
                         "replies": w["replies"]} for w in taken]
        row["wave_seconds"] = sum(w["seconds"] for w in taken)
    locked = sum(log.read_text(errors="replace").count("database is locked")
                 for log in (folder / "federation" / "logs").glob("superlink*.log"))
    lost = sum(log.read_text(errors="replace").count("Failed to send message")
               for log in (folder / "federation" / "logs").glob("supernode-*.log"))
    return {
        "supernodes": supernodes, "superlink_db": superlink_db, "reply_timeout_s": reply_timeout,
        "superlink_db_locked_errors": locked, "replies_lost": lost, "run_status": res.status, "flwr_run_exit": res.returncode, "rounds": out_rounds,
        "startup_seconds": startup, "run_seconds": run_seconds,
        "superlink_rss_idle_mib": idle[1] / mib, "supernodes_rss_idle_mib": idle[2] / mib,
        "superlink_rss_peak_mib": max(s[1] for s in sampler.samples) / mib,
        "supernodes_rss_peak_mib": max(s[2] for s in sampler.samples) / mib,
        "samples": len(sampler.samples),
    }


def _print(result: dict[str, Any]) -> None:
    print(f"SuperLink ({result['superlink_db']} state) + {result['supernodes']} SuperNodes (TLS, SuperNode auth) "
          f"on 127.0.0.1: replies lost {result['replies_lost']} (SuperLink 'database is locked' errors "
          f"{result['superlink_db_locked_errors']}); "
          f"start-up {result['startup_seconds']:.1f} s, flwr run {result['run_seconds']:.1f} s, "
          f"run {result['run_status'] or '?'} (flwr run exit {result['flwr_run_exit']})")
    print(f"{'round':>5} {'labels':>6} {'devices':>7} {'round s':>8} {'waves':>5} {'wave s':>7}  waves (type: s)")
    for r in result["rounds"]:
        detail = ", ".join(f"{w['type']}: {w['seconds']:.1f}" for w in r["waves"])
        print(f"{r['round']:>5} {r['labels']:>6} {r['devices']:>7} {r['seconds']:>8.1f} {len(r['waves']):>5} "
              f"{r['wave_seconds']:>7.1f}  {detail}")
    print(f"{'RSS (MiB)':<34} {'idle':>8} {'peak':>8}")
    print(f"{'SuperLink + children':<34} {result['superlink_rss_idle_mib']:>8.0f} "
          f"{result['superlink_rss_peak_mib']:>8.0f}")
    n = result["supernodes"]
    print(f"{f'{n} SuperNodes + children (total)':<34} {result['supernodes_rss_idle_mib']:>8.0f} "
          f"{result['supernodes_rss_peak_mib']:>8.0f}")
    print(f"{'per SuperNode':<34} {result['supernodes_rss_idle_mib'] / max(n, 1):>8.0f} "
          f"{result['supernodes_rss_peak_mib'] / max(n, 1):>8.0f}")


def main(argv: list[str] | None = None) -> None:
    apply_offline_environment()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supernodes", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--budget", type=int, default=20)
    parser.add_argument("--train-rounds", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1200.0, help="upper bound on the run, seconds")
    parser.add_argument("--superlink-db", choices=("file", "memory"), default="file",
                        help="SuperLink state: SQLite file (as `fedsift server start`) or Flower's in-memory state")
    parser.add_argument("--reply-timeout", type=float, default=120.0, help="seconds a wave waits for replies")
    parser.add_argument("--folder", type=Path, default=None, help="working folder (default: a temp dir)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    with tempfile.TemporaryDirectory(prefix="fedsift-deploy-bench-") as tmp:
        folder = args.folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        result = measure(args.supernodes, args.rounds, args.budget, args.train_rounds, folder, args.timeout,
                         args.superlink_db, args.reply_timeout)
    _print(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
