"""The trial apps in a real deployment: SuperLink + SuperNodes over TLS with SuperNode auth.

Every process binds and connects 127.0.0.1 only (the suite's netguard checks it) and is
stopped by the fixtures. Each message wave costs 4-7 s in deployment (SuperNodes poll
every 3 s and start a ClientApp process per message), a round here three waves: the
file takes about 4 minutes on 2 cores.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fedsift.client.labels import DeviceStore
from fedsift.server.state import CampaignState
from fedsift.simulations.deployment import LocalFederation, write_trial_app

pytestmark = pytest.mark.e2e

NODES = 3
BUDGET = 6


def trial_run_config(results: Path, rounds: int, reply_timeout_s: float = 60.0) -> dict[str, object]:
    return {"dataset": "digits", "clients": NODES, "num-rounds": rounds, "budget": BUDGET, "train-rounds": 1,
            "warmup-train-rounds": 0,
            "strategy": "margin", "seed": 0, "results-path": str(results), "node-wait-s": 60.0,
            "reply-timeout-s": reply_timeout_s}


def read_rows(results: Path) -> list[dict]:
    if not results.exists():
        return []
    return [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="class")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalFederation]:
    with LocalFederation(tmp_path_factory.mktemp("federation"), NODES, tls=True, auth=True,
                         start_timeout=90.0) as fed:
        yield fed


class TestOverTlsWithNodeAuth:
    """One federation (TLS, SuperNode auth) for the class, stopped before the next test starts."""

    @pytest.mark.timeout(120)
    def test_unregistered_supernode_is_refused(self, federation: LocalFederation) -> None:
        registered = {n.node_id for n in federation.supernodes if n.registered}
        node = federation.add_supernode(register=False, wait=False)
        # Flower's SuperNode gives up at once when the SuperLink refuses its key
        # (it logs Flower's exit code 305, SUPERNODE_CONNECTION_ERROR, and exits with status 1).
        try:
            code = node.process.popen.wait(timeout=60)
        except Exception:  # noqa: BLE001  (a SuperNode still running after 60 s was let in, or hangs)
            pytest.fail(f"unregistered SuperNode still running after 60 s\n{federation.log_tails()}")
        log = node.process.tail(100)
        assert code != 0, log
        assert "Exit Code: 305" in log and "Failed to activate SuperNode" in log, log
        assert federation.superlink is not None
        assert "No SuperNode found with the given public key" in federation.superlink.tail(400)
        assert "SuperNode ID:" not in node.process.tail(100)
        listed = {int(n["node-id"]) for n in federation.list_nodes()}
        assert listed == registered
        assert federation.online_node_ids() == registered

    @pytest.mark.timeout(300)
    def test_two_rounds_finish_after_a_supernode_dies(self, federation: LocalFederation, tmp_path: Path) -> None:
        """Round 1 on every node; one SuperNode is killed; round 2 runs on the others.

        The last test of the class: it leaves the class's federation a node short.
        """
        results = tmp_path / "results.jsonl"
        app = write_trial_app(tmp_path / "app")
        run = federation.start_run(app, trial_run_config(results, rounds=2, reply_timeout_s=30.0))
        deadline = time.monotonic() + 150
        while not any(r["round"] == 1 for r in read_rows(results)):
            if time.monotonic() > deadline or not run.process.alive():
                pytest.fail(f"round 1 did not finish\n{federation.log_tails()}")
            time.sleep(0.5)
        federation.kill_supernode(NODES - 1)
        run.wait(timeout=150)
        rows = [r for r in read_rows(results) if r["round"] >= 1]
        assert [r["round"] for r in rows] == [1, 2], federation.log_tails()
        # Exactly the budget each round, with a node gone too: none lost, none duplicated.
        assert [r["labels"] for r in rows] == [BUDGET, 2 * BUDGET]
        assert [r["new_labels"] for r in rows] == [BUDGET, BUDGET]
        assert [r["model_version"] for r in rows] == [1, 2]
        assert [r["devices"] for r in rows] == [NODES, NODES - 1]
        assert rows[0]["rejected"] == []
        assert all(0.0 <= r["accuracy"] <= 1.0 for r in rows)


def state_snapshot(path: Path) -> tuple[tuple[int, str] | None, int, list[int]]:
    """(open selection (round, phase), undelivered labels, rounds with a result) of a state store."""
    if not path.exists():
        return None, 0, []
    with CampaignState(path) as st:
        sel = st.open_selection()
        return (sel[:2] if sel else None), len(st.undelivered()), [int(r["round"]) for r in st.load_results()]


@pytest.mark.timeout(420)
def test_server_and_superlink_killed_between_selection_and_delivery_lose_and_duplicate_no_label(tmp_path: Path) -> None:
    results, state_path = tmp_path / "results.jsonl", tmp_path / "state.db"
    app = write_trial_app(tmp_path / "app")
    config = {**trial_run_config(results, rounds=2), "state-path": str(state_path)}
    with LocalFederation(tmp_path / "federation", NODES, start_timeout=90.0) as fed:
        run = fed.start_run(app, config)
        deadline = time.monotonic() + 150
        # Round 1 is selected and its labels journaled, none delivered yet: crash the server now.
        while state_snapshot(state_path)[:2] != ((1, "selected"), BUDGET):
            if time.monotonic() > deadline or not run.process.alive():
                pytest.fail(f"round 1 was not selected in time\n{fed.log_tails()}")
            time.sleep(0.1)
        assert fed.kill_serverapp() == 1
        run.process.stop()
        open_round, undelivered, done = state_snapshot(state_path)
        assert open_round is not None and open_round[0] == 1 and done == [0], "the kill came too late to test"
        # The whole server side goes down: the SuperLink restarts on its database too, the
        # SuperNodes reconnect. A new ServerApp on the same state store finishes round 1,
        # then runs round 2.
        fed.restart_superlink()
        fed.wait_online(NODES, 90)
        # The first messages after a restart are slow (each SuperNode installs the new run's
        # app and starts a ClientApp process): under a loaded CI machine 60 s was seen to pass.
        fed.run(app, {**config, "reply-timeout-s": 180.0}, timeout=300)
        stores = [fed.folder / f"device-{i}.db" for i in range(NODES)]
        device_labels = []
        for path in stores:
            with DeviceStore(path) as store:
                device_labels.append(store.labels())
    rows = [r for r in read_rows(results) if r["round"] >= 1]
    assert [r["round"] for r in rows] == [1, 2]
    assert [r["labels"] for r in rows] == [BUDGET, 2 * BUDGET]
    assert [r["model_version"] for r in rows] == [1, 2]
    with CampaignState(state_path) as st:
        pairs = st.label_pairs()
        assert len(pairs) == len(set(pairs)) == 2 * BUDGET and not st.undelivered()
        assert [r["round"] for r in st.load_results()] == [0, 1, 2]
    # On the devices: every label exactly once.
    assert sum(len(d) for d in device_labels) == 2 * BUDGET
