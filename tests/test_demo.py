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
    assert {"mse", "jd", "fmd"} <= set(results["heads"])
    res = results["results"]
    for head in ("mse", "jd", "fmd"):
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


def test_contrast_grid_draws_the_first_kept_clip_that_shows_the_contrast(tmp_path):
    import numpy as np

    from compressai_plf.demo import contrast_grid

    (tmp_path / "sequences").mkdir()
    (tmp_path / "grids").mkdir()

    def record(kept, corrected):
        return {
            "results": {
                "permanence-per-frame/jd": [1, kept],
                "correction-per-frame/fmd": [0, corrected],
            }
        }

    # clip 1: JD keeps, FMD corrects; clip 3 too, but only clips 0-2 are kept for grids
    records = [record(1, 0), record(1, 1), record(0, 1), record(1, 1)]
    (tmp_path / "sequences" / "q9.json").write_text(json.dumps(records))
    frames = {k: np.random.rand(3, 2, 1, 8, 8) for k in ("source", "mse", "jd", "fmd")}
    np.savez(tmp_path / "grids" / "q9.npz", **frames)
    path = contrast_grid(tmp_path, "q9", 256)
    assert path == tmp_path / "plots" / "contrast-q9.png" and path.is_file()
    (tmp_path / "sequences" / "q9.json").write_text(json.dumps([record(1, 0)] * 3 + records[3:]))
    assert contrast_grid(tmp_path, "q9", 256) is None  # the only such clip was not kept
