"""The central team's and the devices' commands, end to end, as separate processes.

``fedsift certs`` writes the keys; ``fedsift server start`` runs a SuperLink (TLS,
SuperNode auth) and registers three devices; three ``fedsift client run`` processes
serve the deployment ClientApp from a JSONL, a CSV and an SQLite pool, each with its
privacy folder (pseudonyms, consent, sealing to the labeling service) and a pinned
model key. Rounds are triggered with ``fedsift round run`` one phase at a time; the
labels come back through ``fedsift labels import`` from a stand-in labeling service
that opens the sealed releases. All on 127.0.0.1; about 2-3 minutes on 2 cores.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization

from fedsift.client.labels import DeviceStore
from fedsift.privacy.consent import ConsentStore
from fedsift.privacy.sealing import LabelingService
from fedsift.server.state import CampaignState
from fedsift.simulations import SimulatedOracle, load_dataset
from fedsift.simulations.deployment import ManagedProcess, free_port
from fedsift.simulations.oracle import sealed_opener

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
NODES, PER_DEVICE, BUDGET = 3, 60, 6


def fedsift(*args: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "fedsift"), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def spawn(name: str, args: list[str], env: dict[str, str], logs: Path) -> ManagedProcess:
    log = logs / f"{name}.log"
    handle = log.open("ab")
    popen = subprocess.Popen([str(BIN / "fedsift"), *args], stdout=handle, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    return ManagedProcess(name, popen, log, handle)


def wait_for(what: str, check, timeout: float, procs: list[ManagedProcess]) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        dead = [p for p in procs if not p.alive()]
        if dead or time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name} ---\n{p.tail(40)}" for p in procs)
            pytest.fail(f"{what}: {'process exited' if dead else 'timed out'}\n{tails}")
        time.sleep(0.5)


def write_pool(root: Path, d: int) -> Path:
    """Device ``d``'s pool from digits (JSONL, CSV or SQLite); ids are local names that must never leave."""
    data = load_dataset("digits")
    rows = data.x_train[d * PER_DEVICE:(d + 1) * PER_DEVICE].astype(np.float32)
    ids = [f"local-{d}-{i:04d}" for i in range(PER_DEVICE)]
    if d == 0:
        path = root / "pool.jsonl"
        path.write_text("".join(json.dumps({"id": i, "x": r.tolist()}) + "\n" for i, r in zip(ids, rows)))
    elif d == 1:
        path = root / "pool.csv"
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["id", *(f"f{j}" for j in range(rows.shape[1]))])
            w.writerows([i, *map(repr, r.tolist())] for i, r in zip(ids, rows))
    else:
        path = root / "pool.sqlite"
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE samples (id TEXT PRIMARY KEY, x BLOB, meta TEXT)")
        db.executemany("INSERT INTO samples VALUES (?, ?, NULL)", [(i, r.astype("<f4").tobytes())
                                                                   for i, r in zip(ids, rows)])
        db.commit()
        db.close()
    with ConsentStore(root / "privacy" / "consent.db") as store:
        for i in ids:
            store.grant(scope="labeling", sample_id=i)
            store.grant(scope="training", sample_id=i)
    return path


@pytest.fixture()
def deployment(tmp_path: Path) -> Iterator[dict]:
    env = dict(os.environ)
    home = tmp_path / "flwr-home"
    env["FLWR_HOME"] = str(home)
    logs = tmp_path / "logs"
    logs.mkdir()
    pki = tmp_path / "pki"
    out = fedsift("certs", "--out", str(pki), "--supernodes", str(NODES), env=env, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    port = free_port()
    keys = ", ".join(f'"{pki}/supernode-{i}.pub"' for i in range(NODES))
    (tmp_path / "server.toml").write_text(f"""
[superlink]
port = {port}
database = "state/superlink.db"
ca_cert = "pki/ca.crt"
server_cert = "pki/server.crt"
server_key = "pki/server.key"

[federation]
name = "trial"
flwr_home = "flwr-home"
supernode_keys = [{keys}]

[state]
path = "state/campaign.db"
""")
    procs: list[ManagedProcess] = []
    try:
        server = spawn("server", ["server", "start", "--config", str(tmp_path / "server.toml")], env, logs)
        procs.append(server)
        wait_for("SuperLink up and 3 keys registered", lambda: server.tail(200).count("registered ") >= NODES,
                 90, procs)
        for d in range(NODES):
            dev = tmp_path / f"device-{d}"
            (dev / "privacy").mkdir(parents=True)
            shutil.copy(pki / "labeling" / "signer.pub", dev / "privacy" / "labeling-signer.pub")
            shutil.copy(pki / "labeling" / "keyset.json", dev / "privacy" / "keyset.json")
            pool = write_pool(dev, d)
            (dev / "device.toml").write_text(f"""
[device]
id = "device-{d}"
data_path = "{pool}"
store_path = "state/device.db"
privacy_dir = "privacy"
model_pubkey = "{pki}/model.key.pub"
max_batch = 32

[superlink]
address = "127.0.0.1:{port}"
root_certificates = "{pki}/ca.crt"
auth_key = "{pki}/supernode-{d}"

[supernode]
port = {free_port()}
flwr_home = "flwr-home"
""")
            procs.append(spawn(f"device-{d}", ["client", "run", "--config", str(dev / "device.toml")], env, logs))

        def online() -> bool:
            ls = subprocess.run([str(BIN / "flwr"), "supernode", "ls", "trial", "--format", "json"], env=env,
                                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
            try:
                nodes = json.loads(ls.stdout[ls.stdout.index("{"):]).get("nodes", [])
            except ValueError:
                return False
            return sum(n.get("status") == "online" for n in nodes) >= NODES

        wait_for("3 devices online", online, 120, procs)
        yield {"env": env, "root": tmp_path, "pki": pki, "procs": procs, "state": tmp_path / "state" / "campaign.db"}
    finally:
        for p in reversed(procs):
            p.stop(timeout=15)


def round_run(dep: dict, phase: str) -> None:
    args = ["round", "run", "--federation", "trial", "--state", str(dep["state"]), "--phase", phase,
            "--budget", str(BUDGET), "--rounds", "2", "--set", "num-features=64", "--set", "num-classes=10",
            "--set", f"min-nodes={NODES}", "--set", "train-rounds=1", "--set", "warmup-train-rounds=0",
            "--set", "cold-start-rounds=1",
            "--set", f"model-key={dep['pki'] / 'model.key'}", "--set", "reply-timeout-s=120.0"]
    out = fedsift(*args, env=dep["env"])
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]


@pytest.mark.timeout(420)
def test_rounds_triggered_phase_by_phase_with_human_labels(deployment: dict) -> None:
    state = deployment["state"]
    round_run(deployment, "select")
    with CampaignState(state) as st:
        assert st.open_selection()[:2] == (1, "selected")
        queued = st.pending()
    assert len(queued) == BUDGET
    # What left the devices: HPKE-sealed payloads under pseudonymous ids, never a local id.
    assert all(q.content_type == "hpke" and not q.candidate_id.startswith("local-") for q in queued)
    data = load_dataset("digits")
    assert not any(data.x_train[i].astype(np.float32).tobytes() in q.payload for q in queued for i in range(180))

    status = fedsift("round", "status", "--state", str(state), env=deployment["env"])
    assert status.returncode == 0 and "selected" in status.stdout and f"{BUDGET} item(s) waiting" in status.stdout
    pending = fedsift("labels", "pending", "--state", str(state), env=deployment["env"])
    assert pending.returncode == 0 and len(pending.stdout.strip().splitlines()) == BUDGET

    # The labeling service opens the sealed releases; its annotators' labels are imported.
    pki = deployment["pki"]
    signer = serialization.load_pem_private_key((pki / "labeling" / "signer.key").read_bytes(), None)
    service = LabelingService.load_keys(pki / "labeling" / "hpke-keys.json", signer)  # type: ignore[arg-type]
    oracle = SimulatedOracle(data.x_train, data.y_train, opener=sealed_opener(service))
    labels = oracle.label(queued)
    assert len(labels) == BUDGET
    labels_file = deployment["root"] / "labels.jsonl"
    labels_file.write_text("".join(json.dumps({"device_id": s.device_id, "candidate_id": s.candidate_id,
                                               "label": s.label, "annotator": "ann-1"}) + "\n" for s in labels))
    imported = fedsift("labels", "import", str(labels_file), "--state", str(state), env=deployment["env"])
    assert imported.returncode == 0 and f"imported {BUDGET} new label(s)" in imported.stdout, imported.stdout

    round_run(deployment, "train")
    with CampaignState(state) as st:
        results = {int(r["round"]): r for r in st.load_results()}
        assert st.open_selection() is None and not st.undelivered()
    assert results[1]["labels"] == BUDGET and results[1]["model_version"] == 1
    stores = [deployment["root"] / f"device-{d}" / "state" / "device.db" for d in range(NODES)]
    counts = []
    for path in stores:
        with DeviceStore(path) as store:
            counts.append(len(store.labels()))
    assert sum(counts) == BUDGET  # each label on its device, once

    # "all" selects round 2 and stops there: its items wait for the annotators.
    round_run(deployment, "all")
    with CampaignState(state) as st:
        assert st.open_selection()[:2] == (2, "selected") and st.queue_counts()[2]["waiting"] == BUDGET
        second = st.pending()
    labels_file.write_text("".join(json.dumps({"device_id": s.device_id, "candidate_id": s.candidate_id,
                                               "label": s.label}) + "\n" for s in oracle.label(second)))
    assert fedsift("labels", "import", str(labels_file), "--state", str(state), env=deployment["env"]).returncode == 0
    round_run(deployment, "all")  # finishes round 2 with its labels; the campaign has 2 rounds
    with CampaignState(state) as st:
        results = {int(r["round"]): r for r in st.load_results()}
        assert st.open_selection() is None and not st.undelivered() and not st.pending()
    assert sorted(results) == [0, 1, 2] and results[2]["model_version"] == 2 and results[2]["labels"] == 2 * BUDGET


def test_a_bad_label_import_stores_nothing(tmp_path: Path) -> None:
    env = dict(os.environ)
    state = tmp_path / "campaign.db"
    CampaignState(state).close()
    bad = tmp_path / "labels.jsonl"
    for text, problem in [('{"device_id": "d", "candidate_id": "c", "label": 1}\n', "no such item"),
                          ('{"device_id": "d", "candidate_id": "c", "label": "cat"}\n', "not a class index"),
                          ('{"device_id": "d", "candidate_id": "c", "label": 1, "x": 2}\n', "only"),
                          ("not json\n", "labels.jsonl:1")]:
        bad.write_text(text)
        out = fedsift("labels", "import", str(bad), "--state", str(state), env=env, timeout=60)
        assert out.returncode == 2 and problem in out.stdout, out.stdout + out.stderr
    with CampaignState(state) as st:
        assert st.label_pairs() == []
