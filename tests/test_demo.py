"""The README's main job: the shipped zoo models, every head, from real bitstreams."""

from __future__ import annotations

import json

import pytest

import compressai_plf.zoo.pretrained as pretrained
from compressai_plf.demo import main
from compressai_plf.reproduction.figures import contrast_clips
from compressai_plf.utils.cache_dir import CACHE_ENV


def test_demo_on_the_shipped_models(mnist_root, tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))  # the posterior sampler's index
    out = tmp_path / "demo"
    summary = main(
        ["--out", str(out), "--data-root", str(mnist_root), "--clips", "3", "--no-progress"]
        + ["--posterior-digits", "200", "--grid-clips", "3"]
    )
    results = json.loads((out / "demo.json").read_text())
    assert results["results"]["q"] == ["q1", "q5", "q9"]
    assert set(results["heads"]) == {"mse", "jd", "fmd", "sa"}
    res = results["results"]
    for head in ("mse", "jd", "fmd", "sa"):
        assert all(len(v) == 2 for v in res[f"mse-per-frame/{head}"])  # 2 frames, per model
        assert all(len(v) == 2 for v in res[f"digit-accuracy-per-frame/{head}"])
    # the fixed-rate bitstreams carry exactly the zoo's bit budgets: 12 + P bits
    assert [round(b) for b in res["payload-bits"]] == [12 + 2, 12 + 16, 12 + 256]
    plots = {p.name for p in (out / "plots").iterdir()}
    assert {"per-frame-mse.png", "per-frame-digit-accuracy.png"} <= plots
    tables = (out / "tables.md").read_text()
    assert "Error permanence at the high rate (q9)" in tables and "Factor of two" in tables
    rows = summary["posterior_permanence"]
    assert {(r["model"], r["head"]) for r in rows} >= {
        ("q1", "jd"),
        ("q9", "fmd"),
        ("q9", "source"),
    }
    assert summary["findings"]["rate"]["low"] == "q1"
    # the contrast grid is drawn exactly when a kept clip shows JD keeping and FMD correcting
    records = json.loads((out / "sequences" / "q9.json").read_text())
    assert (summary["contrast_grid"] is not None) == bool(contrast_clips(records[:3]))


def test_demo_without_shipped_weights_says_how_to_train(monkeypatch, tmp_path, mnist_root):
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="train_video.py"):
        main(["--out", str(tmp_path / "d"), "--data-root", str(mnist_root), "--clips", "1"])
