"""The state store: Flower's ids, the labeling queue, and files that are not state stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedsift.server.deploy_config import ServerDeployConfig, SuperLinkConfig, superlink_command
from fedsift.server.errors import ConfigError, StateError
from fedsift.server.labeling import LabeledSample, ReleasedSample
from fedsift.server.state import CampaignState


def test_node_ids_keep_all_64_bits(tmp_path: Path) -> None:
    with CampaignState(tmp_path / "s.db") as st:
        st.save_nodes({"a": 2**64 - 1, "b": 2**63 + 5, "c": 7})
    with CampaignState(tmp_path / "s.db") as st:
        assert st.load_nodes() == {"a": 2**64 - 1, "b": 2**63 + 5, "c": 7}


def test_queue_labels_once_and_refuses_unknown_items_whole(tmp_path: Path) -> None:
    with CampaignState(tmp_path / "s.db") as st:
        items = [ReleasedSample(1, "d1", f"c{i}", b"payload", "hpke", i == 0) for i in range(3)]
        assert st.enqueue(items) == 3 and st.enqueue(items) == 0
        with pytest.raises(StateError, match="'nope': no such item"):
            st.submit_labels([LabeledSample("d1", "c1", 4), LabeledSample("d1", "nope", 1)])
        assert st.label_pairs() == [] and len(st.pending()) == 3  # nothing half-written
        assert st.submit_labels([LabeledSample("d1", "c0", 2, "ann")]) == 1
        assert [(s.candidate_id, s.random_slice) for _, s in st.undelivered()] == [("c0", True)]
        assert st.queue_counts() == {1: {"released": 3, "waiting": 2, "labeled": 1, "delivered": 0}}


def test_a_file_that_is_not_a_state_store_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "s.db"
    bad.write_bytes(b"not sqlite at all" * 200)
    with pytest.raises(StateError, match="s.db"):
        CampaignState(bad)


def test_superlink_settings_are_checked_and_rendered() -> None:
    with pytest.raises(ConfigError, match="supernode_auth"):
        SuperLinkConfig(insecure=True, supernode_auth=True).validate()
    with pytest.raises(ConfigError, match="ca_cert"):
        SuperLinkConfig().validate()
    with pytest.raises(ConfigError, match="port"):
        SuperLinkConfig(port=0).validate()
    cfg = SuperLinkConfig(port=9100, database="/s/l.db", ca_cert="ca", server_cert="crt", server_key="key")
    args = superlink_command(cfg.validate(), Path("/v/bin"))
    assert args[0] == "/v/bin/flower-superlink" and "--enable-supernode-auth" in args
    assert "--disable-runtime-dependency-installation" in args and "--insecure" not in args
    bad_name = ServerDeployConfig()
    bad_name.superlink = SuperLinkConfig(insecure=True, supernode_auth=False)
    bad_name.federation.name = "a b"
    with pytest.raises(ConfigError, match="federation.name"):
        bad_name.validate()


def test_writes_are_transactions_and_foreign_databases_are_refused(tmp_path: Path) -> None:
    import sqlite3

    from fedsift.privacy.transactions import transaction

    with CampaignState(tmp_path / "s.db") as st:
        with pytest.raises(RuntimeError):
            with transaction(st.db):
                st.db.execute("INSERT INTO meta VALUES ('x', '1')")
                raise RuntimeError("crash mid-write")
        assert st.db.execute("SELECT COUNT(*) FROM meta WHERE key = 'x'").fetchone()[0] == 0
    other = sqlite3.connect(tmp_path / "other.db")
    other.execute("CREATE TABLE samples (id TEXT)")
    other.commit()
    other.close()
    with pytest.raises(StateError, match="not a fedsift state store"):
        CampaignState(tmp_path / "other.db")
    with sqlite3.connect(tmp_path / "other.db") as db:
        assert [t for (t,) in db.execute("SELECT name FROM sqlite_master")] == ["samples"]  # left untouched


def test_the_model_shape_is_pinned_and_labels_must_be_its_classes(tmp_path: Path) -> None:
    with CampaignState(tmp_path / "s.db") as st:
        st.pin_model_shape({"num_features": 64, "num_classes": 10, "hidden": [128]})
        st.pin_model_shape({"num_features": 64, "num_classes": 10, "hidden": [128]})
        with pytest.raises(StateError, match="num_classes"):
            st.pin_model_shape({"num_features": 64, "num_classes": 3, "hidden": [128]})
        st.enqueue([ReleasedSample(1, "d1", "c0", b"p", "hpke")])
        with pytest.raises(StateError, match="not a class of this campaign"):
            st.submit_labels([LabeledSample("d1", "c0", 12)])
        assert st.label_pairs() == []
