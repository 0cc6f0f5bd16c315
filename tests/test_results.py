"""The results module: JSON conversion, strict writing, NaN-aware means."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from compressai_plf.results import (
    json_ready,
    load_results,
    make_results,
    nanmean,
    save_results,
    write_json,
)


def test_json_ready_converts_every_numeric_kind_to_plain_json():
    value = {
        1: (np.float64(0.5), np.int64(3), np.bool_(True)),
        "t": torch.tensor([1.0, float("nan")]),
        "s": torch.tensor(2.5),
        "a": np.array([[1, 2]]),
        "inf": float("inf"),
        "path": Path("a/b"),
        "none": None,
    }
    out = json_ready(value)
    assert out == {
        "1": [0.5, 3, True],
        "t": [1.0, None],
        "s": 2.5,
        "a": [[1, 2]],
        "inf": None,
        "path": "a/b",
        "none": None,
    }
    assert type(out["1"][0]) is float and type(out["1"][1]) is int
    json.dumps(out, allow_nan=False)  # strict JSON


def test_json_ready_keeps_non_finite_floats_for_torch_files():
    out = json_ready({"a": (math.nan, np.float64(math.inf)), "t": torch.tensor(-math.inf)}, False)
    assert math.isnan(out["a"][0]) and out["a"][1] == math.inf and out["t"] == -math.inf


def test_write_json_is_strict_and_round_trips(tmp_path):
    path = write_json(
        {"x": [1.0, math.nan], "y": {"z": torch.tensor(4)}}, tmp_path / "d" / "o.json"
    )
    assert json.loads(path.read_text()) == {"x": [1.0, None], "y": {"z": 4}}


def test_nanmean_skips_none_and_nan_keeps_inf():
    assert nanmean([1.0, None, math.nan, 3.0]) == 2.0
    assert nanmean([1.0, math.inf]) == math.inf
    assert math.isnan(nanmean([None, math.nan]))
    assert nanmean([], empty=None) is None
    assert nanmean(np.array([2, 4])) == 3.0


def test_results_save_load_round_trip(tmp_path):
    data = make_results(
        "run", [10.0, 20.0], {"psnr": [30.0, math.inf]}, {"jd": {"mse": [0.1, 0.05]}}
    )
    assert data["results"]["psnr"] == [30.0, None]
    save_results(data, tmp_path / "run.json")
    back = load_results(tmp_path / "run.json")
    assert back == json.loads(json.dumps(data))
    with pytest.raises(ValueError, match="one entry per rate point"):
        make_results("bad", [1.0], {"psnr": [1.0, 2.0]})
