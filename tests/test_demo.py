"""The README's main job: the shipped zoo models, every head, from real bitstreams."""

from __future__ import annotations

import json

import pytest

import compressai_plf.zoo.pretrained as pretrained
from compressai_plf.demo import main


def test_demo_on_the_shipped_models(mnist_root, tmp_path):
    out = tmp_path / "demo"
    summary = main(
        ["--out", str(out), "--data-root", str(mnist_root), "--clips", "3", "--no-progress"]
    )
    results = json.loads((out / "demo.json").read_text())
    assert results["results"]["q"] == ["q1", "q3", "q5"]
    assert set(results["heads"]) == {"mse", "jd", "fmd", "sa"}
    res = results["results"]
    for head in ("mse", "jd", "fmd", "sa"):
        assert all(len(v) == 3 for v in res[f"mse-per-frame/{head}"])  # per frame, per model
        assert all(len(v) == 3 for v in res[f"digit-agreement-per-frame/{head}"])
    # the fixed-rate bitstreams carry exactly the zoo's bit budgets: 12 + 2 * P bits
    assert [round(b) for b in res["payload-bits"]] == [12 + 2 * 2, 12 + 2 * 8, 12 + 2 * 16]
    plots = {p.name for p in (out / "plots").iterdir()}
    assert {"per-frame-mse.png", "per-frame-digit-agreement.png", "grid-q1-clip0.png"} <= plots
    assert "Error permanence" in (out / "tables.md").read_text()
    assert len(summary["error_permanence"]) == 15  # 3 rates x (4 heads + the source ceiling)
    assert {r["head"] for r in summary["error_permanence"]} == {"mse", "jd", "fmd", "sa", "source"}


def test_demo_without_shipped_weights_says_how_to_train(monkeypatch, tmp_path, mnist_root):
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="train_video.py"):
        main(["--out", str(tmp_path / "d"), "--data-root", str(mnist_root), "--clips", "1"])
