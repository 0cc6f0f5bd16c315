"""The README's main job runs end to end (tiny step counts)."""

from __future__ import annotations

import json

from compressai_plf.demo import main


def test_demo_writes_results_plots_and_grid(mnist_root, tmp_path):
    out = tmp_path / "demo"
    summary = main(
        [
            "--out",
            str(out),
            "--data-root",
            str(mnist_root),
            "--steps",
            "2",
            "--head-steps",
            "1",
            "--clips",
            "2",
            "--batch-size",
            "4",
        ]
    )
    results = json.loads((out / "demo.json").read_text())
    assert set(results["heads"]) == {"mse", "jd", "fmd", "sa"}
    res = results["results"]
    for head in ("mse", "jd", "fmd", "sa"):
        assert len(res[f"mse-per-frame/{head}"][0]) == 3  # one value per frame
    plots = {p.name for p in (out / "plots").iterdir()}
    assert "grid-demo.png" in plots and all((out / "plots" / p).stat().st_size > 0 for p in plots)
    assert summary["universal_stage"]["steps"] == 1
