"""The federated-training benchmark's settings are real campaign settings."""

from __future__ import annotations

import pytest

from fedsift.server.errors import ConfigError
from fedsift.simulations.benchmarks import fed_training as ft
from fedsift.simulations.benchmarks.label_efficiency import _campaign as _schedule


def _campaign(dataset: str, strategy: str, seed: int):  # type: ignore[no-untyped-def]
    """The benchmark's campaign with the data's dimensions filled in, as ``run`` does."""
    campaign = _schedule(dataset, strategy, seed)
    campaign.num_features, campaign.num_classes = 40, 10  # MNIST-1D
    return campaign


@pytest.mark.parametrize("name", list(ft.SETTINGS))
def test_each_setting_names_campaign_fields_with_values_in_range(name: str) -> None:
    base = _campaign("mnist1d", "random", 0)
    campaign = ft.with_setting(base, ft.SETTINGS[name])
    for key, value in ft.SETTINGS[name].items():
        assert getattr(campaign, key) == value
    # the base campaign (which the central arm trains with) is left as it was
    assert base == _campaign("mnist1d", "random", 0)


def test_a_misspelt_setting_is_refused_not_silently_added() -> None:
    with pytest.raises(TypeError, match="train_round"):
        ft.with_setting(_campaign("mnist1d", "random", 0), {"train_round": 20})


def test_an_out_of_range_setting_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="server_momentum"):
        ft.with_setting(_campaign("mnist1d", "random", 0), {"server_momentum": 1.0})


def _result(central: list[list[float]], fed: list[list[float]]) -> dict:
    labels = list(range(100, 100 * (len(central[0]) + 1), 100))

    def arm(curves: list[list[float]]) -> dict:
        return {"labels": labels, "curves": curves, "mean": [], "std": [], "setting": {}}

    return {"dataset": "mnist1d", "clients": 50, "alpha": 0.5, "rounds": len(labels), "seeds": [1, 2],
            "arms": {"fed": arm(fed), ft.CENTRAL: arm(central)}}


def test_compare_pairs_each_arm_with_central_by_seed() -> None:
    result = _result(central=[[0.5, 0.7], [0.3, 0.5]], fed=[[0.4, 0.6], [0.3, 0.3]])
    row = ft.compare(result["arms"])["fed"]
    # seed 1: central mean 0.6, fed 0.5 -> 10 points; seed 2: 0.4 against 0.3 -> 10 points
    assert row["behind"] == pytest.approx(10.0) and row["se"] == pytest.approx(0.0)
    assert row["final_behind"] == pytest.approx(15.0)  # (0.1 + 0.2) / 2
    assert row["auc"] == pytest.approx(40.0) and row["final"] == pytest.approx(0.45)
    assert ft.compare(result["arms"])[ft.CENTRAL]["behind"] == pytest.approx(0.0)


def test_compare_refuses_arms_measured_at_other_label_counts() -> None:
    result = _result(central=[[0.5, 0.7], [0.3, 0.5]], fed=[[0.4, 0.6], [0.3, 0.3]])
    result["arms"]["fed"]["labels"] = [100, 300]
    with pytest.raises(ValueError, match="fed: its label counts"):
        ft.compare(result["arms"])


def test_a_stored_result_reads_back_and_reports(tmp_path, capsys) -> None:
    import json

    path = tmp_path / "ft.json"
    path.write_text(json.dumps(_result(central=[[0.5, 0.7], [0.3, 0.5]], fed=[[0.4, 0.6], [0.3, 0.3]])))
    ft.main(["--report", str(path)])
    out = capsys.readouterr().out
    assert "| fed | 40.0 | 10.0 ± 0.0 | 0.450 | 15.0 |" in out


@pytest.mark.parametrize("text, why", [
    ("[]", "not a fed-training result"),
    ("{not json", "not a fed-training result"),
    ('{"seeds": [1], "arms": {}}', "central"),
    ('{"seeds": [1, 2], "arms": {"central (pooled labels, from scratch)": {"labels": [1], "curves": [[0.5]]}}}',
     "one curve per seed"),
])
def test_a_malformed_result_is_refused_by_name(tmp_path, text: str, why: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(SystemExit, match=why):
        ft.main(["--report", str(path)])
