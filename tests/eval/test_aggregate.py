"""Evaluations of models evaluated apart: selecting and merging their columns."""

from __future__ import annotations

import pytest

from compressai_plf.eval.aggregate import merge_evaluations, select_models


def _evaluation(labels, mse, heads=("mse",), extra=None):
    results = {"q": list(labels), "mse": list(mse), "mse-per-frame": [[m, m] for m in mse]}
    results.update(extra or {})
    return {
        "name": "dp",
        "heads": list(heads),
        "results": results,
        "unavailable": {"lpips": "disabled"},
        "settings": {"clips": 4, "models": {lb: f"runs/{lb}" for lb in labels}},
        "sequences": {lb: [] for lb in labels},
    }


def test_merge_appends_columns_and_fills_missing_keys():
    a = _evaluation(["a1", "a2"], [0.1, 0.2], extra={"w1-jd": [1.0, 2.0]})
    b = _evaluation(["b1"], [0.3], heads=("mse", "jd"), extra={"confident-per-frame/jd": [[1]]})
    m = merge_evaluations(a, b)
    assert m["results"]["q"] == ["a1", "a2", "b1"]
    assert m["results"]["mse"] == [0.1, 0.2, 0.3]
    assert m["results"]["w1-jd"] == [1.0, 2.0, None]  # b has no such key
    assert m["results"]["confident-per-frame/jd"] == [[], [], [1]]  # per frame: empty lists
    assert m["heads"] == ["mse", "jd"]
    assert m["settings"]["models"] == {"a1": "runs/a1", "a2": "runs/a2", "b1": "runs/b1"}
    assert "sequences" not in m and a["results"]["q"] == ["a1", "a2"]  # inputs untouched
    with pytest.raises(ValueError, match="'a1' is in both"):
        merge_evaluations(a, _evaluation(["a1"], [0.5]))


def test_select_then_merge_restores_the_evaluation():
    full = _evaluation(["x", "y", "z"], [0.1, 0.2, 0.3])
    y = select_models(full, ["y"])
    assert y["results"]["mse"] == [0.2] and y["settings"]["models"] == {"y": "runs/y"}
    back = merge_evaluations(select_models(full, ["x", "z"]), y)
    assert back["results"]["q"] == ["x", "z", "y"]
    assert back["results"]["mse-per-frame"] == [[0.1, 0.1], [0.3, 0.3], [0.2, 0.2]]
    with pytest.raises(ValueError, match="'w' not in the evaluation"):
        select_models(full, ["w"])
