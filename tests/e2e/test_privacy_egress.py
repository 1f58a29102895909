"""Nothing leaves a device unmasked, nothing without consent: every outgoing message is scanned.

A simulation over digits whose samples carry metadata with synthetic PII (Faker),
with the privacy gate on every device: HMAC ids, a consent store where one of two
sources has consent, Presidio masking and HPKE sealing to a labeling service. A tap
on the in-process grid captures every reply in its serialized (wire) form.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from faker import Faker
from flwr.app import Context, Message
from flwr.clientapp import ClientApp
from flwr.common.serde import message_to_proto

from fedsift.client import DeviceAgent, LocalPool
from fedsift.client.privacy_gate import PrivacyGate
from fedsift.privacy.consent import ConsentStore
from fedsift.privacy.masking import Masker, MaskingPolicy
from fedsift.privacy.pseudonym import Pseudonymizer
from fedsift.privacy.sealing import LabelingService, Sealer
from fedsift.protocols import Release
from fedsift.server import CampaignConfig, TestSetEvaluator, build_server_app
from fedsift.simulations import InProcessGrid, SimulatedOracle, SimulatedPoolLoader, load_dataset, run_inprocess
from fedsift.simulations.oracle import sealed_opener

CLIENTS = 3


class PiiPoolLoader:
    """Digits partitions whose items carry PII in their metadata; every third item from a non-consented source."""

    def __init__(self) -> None:
        self.inner = SimulatedPoolLoader("digits", CLIENTS, 1.0, 0)
        fake = Faker()
        Faker.seed(1234)
        self.meta: dict[str, dict[str, str]] = {}
        self.pii: list[str] = []
        for i in range(len(load_dataset("digits").y_train)):
            email, phone, ssn = fake.email(), fake.numerify("(###) ###-####"), fake.ssn()
            self.pii += [email, phone, ssn]
            self.meta[f"s{i:06d}"] = {"note": f"taken by {email}, call {phone}, ssn {ssn}",
                                      "source": "camera-2" if i % 3 == 0 else "camera-1"}

    def __call__(self, context: Context) -> LocalPool:
        pool = self.inner(context)
        return LocalPool(pool.ids, pool.x, [self.meta[i] for i in pool.ids])


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("devices")
    service = LabelingService(Ed25519PrivateKey.generate())
    now = int(time.time())
    service.add_key("k1", now - 60, now + 3600)
    keyset = service.publish(now - 60, now + 3600)
    loader = PiiPoolLoader()
    masker = Masker(MaskingPolicy(fields={"source": "keep"}))
    for d in range(CLIENTS):
        with ConsentStore(root / f"device-{d:05d}" / "consent.db") as store:
            store.grant(scope="labeling", source="camera-1")
            store.grant(scope="training", source="camera-1")

    def gate(context: Context, device_id: str) -> PrivacyGate:
        folder = root / device_id
        return PrivacyGate(Pseudonymizer(folder / "id.key"), ConsentStore(folder / "consent.db"), masker,
                           Sealer(service.signer_public_key), lambda: keyset,
                           metadata=lambda local_id: loader.meta[local_id])

    return loader, gate, service, root


def run(setup, client_app: ClientApp, rounds: int = 2, budget: int = 12, results: list | None = None,
        wire: list | None = None):
    loader, gate, service, _ = setup
    data = load_dataset("digits")
    cfg = CampaignConfig(num_features=64, num_classes=10, rounds=rounds, budget=budget, min_nodes=CLIENTS,
                         strategy="margin", train_rounds=1, warmup_train_rounds=0, cold_start_rounds=1)
    results = [] if results is None else results
    wire = [] if wire is None else wire
    server = build_server_app(cfg, SimulatedOracle(data.x_train, data.y_train, opener=sealed_opener(service)),
                              TestSetEvaluator(data.x_test, data.y_test), on_round=results.append)
    grid = InProcessGrid(client_app, CLIENTS, tap=lambda m: wire.append(m))
    run_inprocess(server, grid)
    return results, wire


def test_no_pii_no_raw_sample_and_no_unconsented_release_leaves(setup) -> None:
    loader, gate, _, root = setup
    from fedsift.client import build_client_app

    results, wire = run(setup, build_client_app(loader, gate))
    assert results[-1].labels == 24 and results[-1].refused == 0
    blob = b"".join(message_to_proto(m).SerializeToString() for m in wire)
    leaked = [p for p in loader.pii if p.encode() in blob]
    assert not leaked, f"PII left a device: {leaked[:5]}"
    x = load_dataset("digits").x_train
    assert not any(x[i].astype(np.float32).tobytes() in blob for i in range(0, len(x), 7)), "a raw sample left"
    assert b"s000" not in blob, "a local sample id left a device"
    released = [rid for m in wire if "release" in m.content for rid in Release.from_recorddict(m.content).released_ids]
    assert released
    for d in range(CLIENTS):
        pseudo = Pseudonymizer(root / f"device-{d:05d}" / "id.key")
        back = {pseudo.pseudonym(i): i for i in loader.meta}
        for rid in released:
            if rid in back:
                assert loader.meta[back[rid]]["source"] == "camera-1", "released without consent"
    contents = {m.content["release"]["content_type"] for m in wire if "release" in m.content}
    assert contents == {"hpke"}


def test_consent_withdrawn_between_selection_and_release_is_refused_and_reallocated(setup) -> None:
    loader, gate, _, root = setup
    agent = DeviceAgent(loader, gate)
    withdrawn: list[str] = []
    app = ClientApp()
    app.query()(agent.query)

    @app.query("label_request")
    def label_request(msg: Message, context: Context) -> Message:
        requested = msg.content["label_request"]["candidate_ids"]
        device = f"device-{context.node_config['partition-id']:05d}"
        if requested and not withdrawn:  # the owner withdraws one item right after selection
            g = gate(context, device)
            pool = loader(context)
            local = dict(zip(g.outgoing_ids(pool.ids), pool.ids))[requested[0]]
            g.consent.withdraw(sample_id=local)
            withdrawn.append(local)
        return agent.label_request(msg, context)

    app.query("labels")(agent.labels)
    app.train()(agent.train)
    results, wire = run(setup, app, rounds=1, budget=10)
    assert withdrawn
    refusals = [r for m in wire if "release" in m.content for r in m.content["release"]["refusal_reasons"]]
    assert refusals == ["consent:withdrawn"]
    assert results[-1].refused == 1
    assert results[-1].labels == 10, "the refused item's budget was spent on another candidate"


def test_masking_and_sealing_run_without_torch(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'): raise ImportError('torch blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from fedsift.privacy.masking import Masker, MaskingPolicy\n"
        "import fedsift.client.privacy_gate, fedsift.client\n"
        "print(Masker(MaskingPolicy()).mask_text('mail a.b@example.com')[0])\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["mail", "<EMAIL_ADDRESS>", "False"]


def test_dp_summaries_report_epsilon_and_stop_at_the_budget(setup, tmp_path: Path) -> None:
    from fedsift.client import build_client_app
    from fedsift.privacy.dp import BudgetAccountant, DPConfig

    loader, gate, _, _ = setup
    cfg = DPConfig(enabled=True, mechanism="laplace", epsilon_per_round=0.5, total_epsilon=1.2)

    def dp_gate(context: Context, device_id: str) -> PrivacyGate:
        g = gate(context, device_id)
        g.dp = (cfg, BudgetAccountant(cfg.total_epsilon, cfg.total_delta, path=tmp_path / f"{device_id}.json"))
        return g

    from fedsift.server.errors import NoRepliesError

    results: list = []
    wire: list = []
    with pytest.raises(NoRepliesError, match="round 3: no device sent a valid summary.*PrivacyBudgetExceeded"):
        run(setup, build_client_app(loader, dp_gate), rounds=3, budget=6, results=results, wire=wire)
    assert [r.epsilon_max for r in results[1:]] == [0.5, 1.0]
    assert results[1].devices == results[2].devices == CLIENTS
    # Every device refused a third release of ε: the campaign stops there, naming why.
    errors = [m.error.reason for m in wire if m.has_error()]
    assert errors and all("PrivacyBudgetExceeded" in e for e in errors)


def test_devices_keep_their_own_signed_log_and_send_its_checkpoint(setup, tmp_path: Path) -> None:
    from fedsift.client import build_client_app
    from fedsift.privacy.checkpoint import generate_signer
    from fedsift.privacy.provenance import ProvenanceLog, load_events
    from fedsift.privacy.verifier import load_verifier_key, verify_log

    loader, gate, _, _ = setup
    signers = {}

    def logged_gate(context: Context, device_id: str) -> PrivacyGate:
        g = gate(context, device_id)
        if device_id not in signers:
            signers[device_id] = generate_signer(tmp_path / f"{device_id}.key", f"fedsift.device/{device_id}")
        g.log = (ProvenanceLog(tmp_path / f"{device_id}.db", origin=f"fedsift.device/{device_id}"), signers[device_id])
        return g

    results, wire = run(setup, build_client_app(loader, logged_gate), rounds=1, budget=9)
    notes = [m.content["release"]["device_checkpoint"] for m in wire if "release" in m.content]
    assert notes and all(n.startswith("fedsift.device/") for n in notes)
    for device_id in signers:
        kinds = [e.kind for e in load_events(tmp_path / f"{device_id}.db")]
        assert kinds.count("consent_decision") == kinds.count("release") == kinds.count("masking_report") > 0
        report = verify_log(tmp_path / f"{device_id}.db", load_verifier_key(tmp_path / f"{device_id}.key.vkey"))
        assert report.ok, report
