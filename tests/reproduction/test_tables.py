"""The paper's tables from results files, checked against hand-computed values."""

from __future__ import annotations

import pytest

from compressai_plf.reproduction.tables import (
    dp_points,
    error_permanence,
    factor_of_two,
    markdown_table,
    permanence_summary,
    posterior_factor_of_two,
    posterior_summary,
    realism_given_mmse,
    reference_comparison,
)
from compressai_plf.results import make_results


def _rates():
    # two rate points (q1: 2 bits, q5: 16 bits); JD's P-frame MSE stays, FMD's halves
    heads = {
        "mse": {"mse-per-frame": [[0.02, 0.02, 0.02], [0.02, 0.01, 0.01]], "w1-fmd": [3.0, 2.0]},
        "jd": {
            "mse-per-frame": [[0.03, 0.03, 0.03], [0.03, 0.028, 0.028]],
            "w1-fmd": [0.5, 0.4],
            "digit-agreement-per-frame": [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]],
        },
        "fmd": {
            "mse-per-frame": [[0.03, 0.04, 0.04], [0.03, 0.02, 0.02]],
            "w1-fmd": [0.2, 0.1],
            "digit-agreement-per-frame": [[0.6, 0.6, 0.6], [0.6, 0.9, 0.9]],
        },
    }
    data = make_results("rates", [1.0, 2.0], heads=heads, q=["q1", "q5"])
    return data


def test_error_permanence_rows_and_summary():
    rows = error_permanence(_rates(), {"q5": 16, "q1": 2})
    assert [(r["p_bits"], r["head"]) for r in rows][:3] == [(2, "mse"), (2, "jd"), (2, "fmd")]
    jd_low = rows[1]
    assert jd_low["mse"] == pytest.approx(0.03)
    assert jd_low["p_mse"] == pytest.approx(0.03)
    assert jd_low["w1_fmd"] == 0.5 and jd_low["w1_jd"] is None  # not measured -> None
    summary = {r["head"]: r for r in permanence_summary(rows)}
    assert summary["jd"]["p_mse_ratio"] == pytest.approx(0.028 / 0.03)
    assert summary["fmd"]["p_mse_ratio"] == pytest.approx(0.5)
    assert summary["fmd"]["agree_last_high"] == pytest.approx(0.9)
    assert summary["jd"]["agree_i_low"] == pytest.approx(0.5)
    assert summary["mse"]["agree_last_low"] is None
    # a head the lower rate's model lacks has no row there, and no low-vs-high summary
    data = _rates()
    data["results"]["mse-per-frame/sa"] = [[], [0.03, 0.02, 0.02]]
    data["heads"] = [*data["heads"], "sa"]
    rows = error_permanence(data, {"q1": 2, "q5": 16})
    assert [r["p_bits"] for r in rows if r["head"] == "sa"] == [16]
    assert "sa" not in {r["head"] for r in permanence_summary(rows)}


def test_factor_of_two_and_reference():
    rows = error_permanence(_rates(), {"q1": 2, "q5": 16})
    f2 = factor_of_two(rows)
    assert [r["p_bits"] for r in f2] == [2, 16]
    assert f2[0]["twice_mmse"] == pytest.approx(0.04)
    assert f2[0]["ratio_to_mmse"] == pytest.approx(2.0)
    assert f2[1]["ratio_to_mmse"] == pytest.approx(2.0)
    ref = {(r["head"], r["p_bits"]): r for r in reference_comparison(rows)}
    assert ref[("fmd", 16)]["paper_mse"] == 0.0116
    assert ref[("fmd", 16)]["ours_p_mse"] == pytest.approx(0.02)
    assert ref[("jd", 2)]["ours_clip_mse"] == pytest.approx(0.03)


def test_dp_points():
    uni = _rates()
    dp = dp_points([(0.01, uni, "q1", "fmd"), (0.0, uni, "q1", "mse")])
    assert [r["lambda_p"] for r in dp] == [0.0, 0.01]
    assert dp[0]["w1_fmd"] == 3.0 and dp[1]["p_mse"] == pytest.approx(0.04)
    assert dp[0]["w1_jd"] is None and {r["training"] for r in dp} == {"universal"}
    assert dp_points([(0.1, uni, "q1", "fmd")], "end-to-end")[0]["training"] == "end-to-end"
    # a weight the weight file does not record sorts last
    unknown = dp_points([(None, uni, "q1", "fmd"), (0.0, uni, "q1", "mse")])
    assert [r["lambda_p"] for r in unknown] == [0.0, None]
    with pytest.raises(ValueError, match="not in results"):
        dp_points([(0.1, uni, "q9", "fmd")])


def test_markdown_table():
    text = markdown_table(
        [{"a": 0.12345, "b": [1.0, 2.0], "c": None}], ["a", "b", "c"], ["A", "B", "C"], {"a": ".2f"}
    )
    assert text.splitlines() == ["| A | B | C |", "|---|---|---|", "| 0.12 | 1 / 2 | n/a |"]


def test_identity_rows_and_posterior_factor_of_two():
    heads = {
        "mse": {"mse-per-frame": [[0.01, 0.02, 0.02]], "digit-accuracy-per-frame": [[0.1, 0.3, 0.5]],
                "confident-per-frame": [[0.0, 0.1, 0.2]]},
        "jd": {"mse-per-frame": [[0.02, 0.03, 0.03]], "digit-accuracy-per-frame": [[0.15, 0.2, 0.2]],
               "self-consistency-per-frame": [[1.0, 0.9, 0.8]], "permanence": [0.7],
               "correction": [0.1], "confident-per-frame": [[1.0, 0.9, 0.9]]},
        "source": {"digit-accuracy-per-frame": [[0.99, 0.99, 0.98]],
                   "confident-per-frame": [[0.97, 0.96, 0.97]]},
    }  # fmt: skip
    data = make_results("post", [1.0], heads=heads, q=["q1"])
    data["heads"] = ["mse", "jd"]
    rows = {r["head"]: r for r in error_permanence(data, {"q1": 2})}
    assert set(rows) == {"mse", "jd", "source"}
    assert rows["jd"]["wrong_first"] == pytest.approx(0.85)
    assert rows["jd"]["permanence"] == 0.7 and rows["jd"]["self_consistency_last"] == 0.8
    (f2,) = posterior_factor_of_two(data, {"q1": 2})
    assert f2["ratio"] == pytest.approx(2.0)  # frame-0 MSE 0.02 over 0.01
    assert f2["sample_accuracy"] == 0.15 and f2["mmse_confident"] == 0.0
    assert f2["sample_confident"] == 1.0 and f2["source_confident"] == 0.97


def test_universality_at_matched_realism_interpolates_the_universal_curve():
    from compressai_plf.reproduction.tables import universality_at_matched_realism

    def point(lam, conf1, p_mse):  # frame 0 (0.96) is the shared given frame, left out
        return {
            "lambda_p": lam,
            "head": "fmd",
            "confident_per_frame": [0.96, conf1],
            "p_mse": p_mse,
        }

    universal = [point(0.03, 0.55, 0.006), point(0.3, 0.85, 0.012), point(0.1, 0.65, 0.007)]
    # a JD head trained in the same runs: never part of FMD's curve
    universal += [{**point(0.1, 0.75, 0.03), "head": "jd"}, {**point(1, 0.9, 0.04), "head": "jd"}]
    e2e = [point(0.1, 0.75, 0.0085), point(1.0, 0.95, 0.02), point(0.03, 0.65, 0.007)]
    rows = universality_at_matched_realism(universal, e2e)
    # 0.75 lies halfway between the universal points at 0.65 (0.007) and 0.85 (0.012)
    assert rows[0]["universal_p_mse"] == pytest.approx(0.0095)
    assert rows[0]["gap"] == pytest.approx(0.001) and rows[0]["bracketed"]
    assert rows[1]["universal_p_mse"] is None and rows[1]["gap"] is None  # beyond the curve
    assert rows[2]["gap"] == pytest.approx(0.0)  # on a universal point
    assert [r["realism"] for r in rows] == pytest.approx([0.75, 0.95, 0.65])


def _record(mse: list, fmd: list, jd: list | None = None) -> dict:
    res = {"confident-per-frame/mse": mse, "confident-per-frame/fmd": fmd}
    if jd is not None:
        res["confident-per-frame/jd"] = jd
    return {"source": "clip", "results": res}


def test_realism_given_mmse_splits_p_frames_by_the_mmse_frame():
    # frame 0 (the shared given frame) never counts; None / NaN frames are left out
    sharpener = [
        _record([0.0, 1.0, 1.0], [1.0, 1.0, 1.0], [0.0, 1.0, float("nan")]),
        _record([1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]),
        _record([0.0, 0.0, None], [1.0, 0.0, 1.0], [1.0, 0.0, 1.0]),
    ]
    only_mse = [{"results": {"confident-per-frame/mse": [1.0, 1.0]}}]  # a model without fmd
    data = {"heads": ["mse", "jd", "fmd"], "sequences": {"a": sharpener, "b": only_mse}}
    rows = {(r["model"], r["head"]): r for r in realism_given_mmse(data, {"a": 256})}
    assert set(rows) == {("a", "jd"), ("a", "fmd")}
    fmd = rows["a", "fmd"]
    # P-frames: MMSE confident at 2 (fmd 1, 1), unconfident at 3 (fmd 0, 1, 0)
    assert fmd["p_frames"] == 5 and fmd["p_bits"] == 256
    assert fmd["mmse_confident"] == pytest.approx(2 / 5)
    assert fmd["confident_where_mmse_confident"] == 1.0
    assert fmd["confident_where_mmse_unconfident"] == pytest.approx(1 / 3)
    jd = rows["a", "jd"]  # jd's NaN frame drops one confident-MMSE frame
    assert jd["p_frames"] == 4 and jd["mmse_confident"] == pytest.approx(1 / 4)
    assert jd["confident_where_mmse_confident"] == 1.0
    assert jd["confident_where_mmse_unconfident"] == pytest.approx(2 / 3)
    broken = {"heads": ["mse", "fmd"], "sequences": {"c": [_record([1.0, 1.0], [1.0])]}}
    with pytest.raises(ValueError, match="model 'c'"):
        realism_given_mmse(broken)
    # no per-clip records, no rows; posterior_summary carries the table
    assert realism_given_mmse({"heads": ["mse", "fmd"]}) == []
    heads = {"mse": {"mse-per-frame": [[0.01, 0.02, 0.02]]}, "fmd": {"mse-per-frame": [[0.02] * 3]}}
    post = make_results("post", [1.0], heads=heads, q=["a"])
    post["heads"], post["sequences"] = ["mse", "fmd"], {"a": sharpener}
    assert posterior_summary(post, {"a": 256})["realism_given_mmse"][0]["p_frames"] == 5
