"""The allocation-speed benchmark's command line: a table for every policy, bad settings named."""

from __future__ import annotations

import pytest

from fedsift.server import available_policies
from fedsift.simulations.benchmarks import allocation_speed


def test_it_times_every_policy_on_small_inputs(capsys, tmp_path) -> None:
    out = tmp_path / "speed.json"
    allocation_speed.main(["--devices", "30", "--top-k", "5", "--budget", "20", "--repeat", "1",
                           "--kcenter-shortlist-share", "0.5", "--json", str(out)])
    text = capsys.readouterr().out
    assert "at least 50% of the offers" in text
    for policy in available_policies():
        assert policy in text
    import json
    result = json.loads(out.read_text())
    assert result["summary_bytes"] > 0
    rows = result["rows"]
    assert {r["policy"] for r in rows} == set(available_policies())
    assert all(r["picks"] == 20 and r["kcenter_shortlist_share"] == 0.5 for r in rows)
    assert all(r["kcenter_shortlist"] == 8 for r in rows)  # the campaign default for 30 devices


def test_the_default_shortlist_follows_the_device_count(capsys) -> None:
    """Without ``--kcenter-shortlist`` the width is the campaign's for that many devices: 4 below 30, 8 from 30."""
    for devices, width in ((29, 4), (30, 8)):
        allocation_speed.main(["--devices", str(devices), "--top-k", "2", "--budget", "4", "--repeat", "1"])
        assert f"k-center shortlist x{width}," in capsys.readouterr().out


@pytest.mark.parametrize("args,named", [(["--kcenter-shortlist", "-1"], "kcenter_shortlist"),
                                        (["--kcenter-shortlist-share", "1.5"], "kcenter_shortlist_share"),
                                        (["--kcenter-shortlist-share", "nan"], "kcenter_shortlist_share"),
                                        (["--devices", "0"], "--devices")])
def test_a_bad_setting_is_a_usage_error_that_names_it(capsys, args, named) -> None:
    with pytest.raises(SystemExit) as exc:
        allocation_speed.main(["--devices", "3", *args])  # a later --devices wins
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"'{named}'" in err and "Traceback" not in err
