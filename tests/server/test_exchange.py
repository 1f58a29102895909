"""``exchange``: one message wave over a Grid's push and pull, with its own poll interval."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest

from fedsift.server.waves import exchange


class SlowGrid:
    """Each message's reply shows up after a given number of pulls (None: never)."""

    def __init__(self, pulls_until_reply: list[int | None]) -> None:
        self.delays = pulls_until_reply
        self.pulls = 0
        self.asked: list[set[str]] = []

    def push_messages(self, messages):  # type: ignore[no-untyped-def]
        return [f"m{i}" for i, _ in enumerate(messages)]

    def pull_messages(self, message_ids):  # type: ignore[no-untyped-def]
        ids = set(message_ids)
        self.asked.append(ids)
        self.pulls += 1
        ready = [f"m{i}" for i, d in enumerate(self.delays) if d is not None and d <= self.pulls]
        return [SimpleNamespace(metadata=SimpleNamespace(reply_to_message_id=m)) for m in ready if m in ids]


def test_pulls_until_every_reply_is_in_and_asks_only_for_missing_ones() -> None:
    grid = SlowGrid([1, 3, 2])
    replies = exchange(grid, ["a", "b", "c"], timeout=10.0, poll_s=0.001)  # type: ignore[arg-type, list-item]
    assert sorted(r.metadata.reply_to_message_id for r in replies) == ["m0", "m1", "m2"]
    assert grid.pulls == 3
    assert grid.asked == [{"m0", "m1", "m2"}, {"m1", "m2"}, {"m1"}]


def test_replies_come_back_in_push_order_whatever_order_they_arrive_in() -> None:
    """Pulling by a set of ids once made the label order follow Python's string hashing, run to run."""
    grid = SlowGrid([3, 1, 2, 1])
    replies = exchange(grid, ["a", "b", "c", "d"], timeout=10.0, poll_s=0.001)  # type: ignore[arg-type, list-item]
    assert [r.metadata.reply_to_message_id for r in replies] == ["m0", "m1", "m2", "m3"]

    class Shuffled(SlowGrid):
        def pull_messages(self, message_ids):  # type: ignore[no-untyped-def]
            return list(reversed(list(super().pull_messages(message_ids))))

    shuffled = Shuffled([1, 1, 1])
    replies = exchange(shuffled, ["a", "b", "c"], timeout=10.0, poll_s=0.001)  # type: ignore[arg-type, list-item]
    assert [r.metadata.reply_to_message_id for r in replies] == ["m0", "m1", "m2"]


def test_a_reply_that_never_comes_is_left_out_after_the_timeout(caplog: pytest.LogCaptureFixture) -> None:
    grid = SlowGrid([1, None])
    with caplog.at_level(logging.WARNING, logger="fedsift.server.waves"):
        replies = exchange(grid, ["a", "b"], timeout=0.05, poll_s=0.01)  # type: ignore[arg-type, list-item]
    assert [r.metadata.reply_to_message_id for r in replies] == ["m0"]
    assert 1 <= grid.pulls <= 10  # bounded by the timeout, polled at poll_s
    assert "1 of 2 replies did not come within" in caplog.text


def test_no_messages_pulls_nothing() -> None:
    grid = SlowGrid([])
    assert exchange(grid, [], timeout=1.0) == []  # type: ignore[arg-type]
    assert grid.pulls == 0


def test_the_deployment_benchmark_times_each_wave_to_its_last_pull(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fedsift.simulations.benchmarks.deployment_bench import TimedGrid

    msgs = [SimpleNamespace(metadata=SimpleNamespace(message_type="query")) for _ in range(2)]
    log = tmp_path / "waves.jsonl"
    timed = TimedGrid(SlowGrid([1, 2]), log)  # type: ignore[arg-type]
    assert len(exchange(timed, msgs, timeout=10.0, poll_s=0.001)) == 2  # type: ignore[arg-type]
    timed._inner = SlowGrid([1, None])  # the second wave: one reply never comes
    assert len(exchange(timed, msgs, timeout=0.02, poll_s=0.005)) == 1  # type: ignore[arg-type]
    assert len(log.read_text().splitlines()) == 1  # still open until flushed
    timed.flush()
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["type"], r["sent"], r["replies"]) for r in rows] == [("query", 2, 2), ("query", 2, 1)]
    assert all(0 <= r["seconds"] < 5 for r in rows)
