"""What the benchmark scripts' command lines share: quiet logging, a progress line, stored reports."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class Repeatable(argparse.Action):
    """A list option (``nargs="+"`` or ``"*"``) that a repeat adds to: ``--merge A --merge B`` is ``[A, B]``.

    argparse's plain list option silently keeps only the last occurrence, and its ``"extend"`` action adds to
    a non-empty default (``--seeds 7`` after a default of 100..104 would run six seeds). This one replaces the
    default on the first occurrence and extends from then on.
    """

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        current = getattr(namespace, self.dest, None)
        items = [] if current is None or current is self.default else list(current)
        setattr(namespace, self.dest, items + list(values))


def quiet_logs() -> None:
    """Warnings and worse only; Flower's and the campaign's per-round lines off (errors still shown)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    import flwr  # noqa: F401  (importing flwr resets its logger: set levels afterwards)

    for name in ("flwr", "fedsift.server", "fedsift.simulations.runner"):
        logging.getLogger(name).setLevel(logging.ERROR)


class Progress:
    """``[done/total] label (seconds)`` on stderr after every finished run."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.start = total, 0, time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start

    def __call__(self, label: str) -> None:
        self.done += 1
        print(f"[{self.done}/{self.total}] {label} ({self.seconds:.0f} s)", file=sys.stderr, flush=True)


def print_stored(script: str, load: Callable[[], dict[str, Any]], report: Callable[[dict[str, Any]], str]) -> int:
    """Print ``report(load())``; a stored result that will not load ends the script with its reason."""
    from fedsift.simulations.errors import SimulationError

    try:
        print(report(load()))
    except SimulationError as exc:
        raise SystemExit(f"{script} --report: {exc}") from exc
    return 0


def read_stored(path: Path, kind: str, recompute: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """A stored result of ``{"settings": [...]}``, ``recompute`` run on each setting (derived figures).

    Raises :class:`~fedsift.simulations.errors.SimulationError` naming ``path`` and
    ``kind`` when the file is unreadable, not JSON or not of that shape.
    """
    from fedsift.simulations.errors import SimulationError

    try:
        result = json.loads(Path(path).read_text(encoding="utf-8"))
        for setting in result["settings"]:
            recompute(setting)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise SimulationError(f"{path}: not {kind} result ({exc.__class__.__name__}: {exc})") from exc
    return result


def with_wall_time(parts: list[str], result: dict[str, Any]) -> str:
    """The report's parts, and the run's wall time when the result records it."""
    if "wall_seconds" in result:
        parts = [*parts, f"wall time: {result['wall_seconds']:.0f} s"]
    return "\n\n".join(parts)
