"""The paper's findings as pass/fail checks, on hand-made rows."""

from __future__ import annotations

import pytest

from compressai_plf.reproduction.findings import permanence_check, rate_check, realism_check


def _row(model, head, p_mse=0.01, permanence=None, correction=None, conf=None, tv=None):
    return {
        "model": model,
        "head": head,
        "p_mse": p_mse,
        "permanence": permanence,
        "correction": correction,
        "confident_per_frame": conf,
        "class_tv_per_frame": tv,
    }


def test_realism_reads_the_p_frames_only():
    rows = [
        _row("q9", "mse", conf=[0.03, 0.5], tv=[0.5, 0.16]),
        # frame 0 (a shared posterior sample) at 0.96 would lift a head at 0.64 over 0.8
        _row("q9", "fmd", conf=[0.96, 0.64], tv=[0.07, 0.13]),
        _row("q9", "jd", conf=[0.96, 0.82, 0.80], tv=[0.07, 0.06, 0.08]),
        _row("q9", "sa", conf=[0.96, 0.9], tv=[0.07, 0.2]),
    ]
    got = {r["head"]: r for r in realism_check(rows)}
    assert set(got) == {"fmd", "jd", "sa"}  # the MMSE head is not gated
    assert got["fmd"]["confident"] == pytest.approx(0.64) and not got["fmd"]["passed"]
    assert got["jd"]["confident"] == pytest.approx(0.81) and got["jd"]["passed"]
    assert got["jd"]["class_tv"] == pytest.approx(0.07)
    assert not got["sa"]["passed"]  # confident enough, but its class histogram is off


def test_permanence_targets_and_sa_between_nearer_fmd():
    rows = [
        _row("q9", "jd", permanence=0.93, correction=0.01),
        _row("q9", "fmd", permanence=0.05, correction=0.72),
        _row("q9", "sa", permanence=0.06, correction=0.60),
    ]
    got = permanence_check(rows, "q9")
    assert got["jd_passed"] and got["fmd_passed"]
    assert got["sa_between"] and got["sa_nearer_fmd"] and got["passed"]
    # SA correcting more often than FMD is "between" only within the noise tolerance
    rows[2] = _row("q9", "sa", correction=0.75)
    assert permanence_check(rows, "q9")["sa_passed"]  # 0.03 above FMD: within 0.05
    got = permanence_check(rows, "q9", tolerance=0.0)
    assert not got["sa_between"] and got["sa_nearer_fmd"] and not got["passed"]
    rows[2] = _row("q9", "sa", correction=0.80)
    assert not permanence_check(rows, "q9")["sa_between"]
    # an SA row without its statistic cannot pass silently
    rows[2] = _row("q9", "sa", correction=None)
    got = permanence_check(rows, "q9")
    assert got["jd_passed"] and got["fmd_passed"] and not got["sa_passed"] and not got["passed"]
    # JD that forgets its first digit fails, whatever FMD does
    rows = [_row("q9", "jd", permanence=0.07, correction=0.69), rows[1]]
    got = permanence_check(rows, "q9")
    assert not got["jd_passed"] and "sa_passed" not in got and not got["passed"]
    with pytest.raises(ValueError, match="no row for head 'jd' of model 'q1'"):
        permanence_check(rows, "q1")


def test_rate_ratios_and_the_papers():
    rows = [
        _row("q1", "jd", p_mse=0.025),
        _row("q1", "fmd", p_mse=0.020),
        _row("q9", "jd", p_mse=0.020),
        _row("q9", "fmd", p_mse=0.008),
    ]
    got = rate_check(rows, "q1", "q9")
    assert got["jd_ratio"] == pytest.approx(0.8) and got["fmd_ratio"] == pytest.approx(0.4)
    assert got["passed"]
    # the paper's logs: 0.0234 -> 0.0181 and 0.0237 -> 0.0116
    assert got["paper"]["jd_ratio"] == pytest.approx(0.7735, abs=1e-4)
    assert got["paper"]["fmd_ratio"] == pytest.approx(0.4895, abs=1e-4)
    swapped = rate_check(rows, "q9", "q1")  # JD's MSE then "falls" by less: x1.25 vs x2.5
    assert not swapped["passed"]
    with pytest.raises(ValueError, match="P-frame MSE of 'jd' missing"):
        rate_check([*rows[1:], _row("q1", "jd", p_mse=None)], "q1", "q9")
