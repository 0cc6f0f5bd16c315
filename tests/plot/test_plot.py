import json
from pathlib import Path

import numpy as np
import pytest
import torch
from compressai.utils.video.plot.__main__ import main as compressai_plot_main
from compressai.utils.video.plot.__main__ import parse_json_file

from compressai_plf.plot import (
    heads_of,
    load_grid,
    load_results,
    make_results,
    per_frame_metrics,
    save_results,
    scalar_metrics,
    split_key,
    validate_results,
)
from compressai_plf.plot.__main__ import main


def _results(name="plf-mmnist"):
    heads = {}
    for i, head in enumerate(["mse", "jd", "fmd", "sa"]):
        heads[head] = {
            "mse": [[0.02, 0.018, 0.016, 0.014][i], 0.012, 0.008],
            "w1": [4.0 - i, 2.0, 1.0],
            "psnr-rgb": [17.0, 19.2, 21.0],
            "mse-per-frame": [[0.0, 0.02, 0.03], [0.0, 0.01, 0.012], [0.0, 0.008, 0.007]],
            "w1-per-frame": [[0.0, 3.0, 4.0], [0.0, 2.0, 2.5], [0.0, 1.0, 1.1]],
            "digit-agreement-per-frame": [[1.0, 0.9, 0.8], [1.0, 0.95, 0.9], [1, 1, 1]],
        }
    return make_results(
        name,
        bitrate=[2.0, 8.0, 16.0],
        metrics={
            "psnr-rgb": [17.0, 19.2, 21.0],
            "ms-ssim-rgb": [0.8, 0.9, 0.95],
            "mse": [0.02, float("inf"), 0.008],
        },
        heads=heads,
        q=["R2", "R8", "R16"],
        description="synthetic",
    )


@pytest.fixture
def results_file(tmp_path):
    path = tmp_path / "plf-mmnist.json"
    save_results(_results(), path)
    return path


def test_layout_keys_and_helpers(results_file):
    data = json.loads(results_file.read_text())
    res = data["results"]
    assert res["bitrate"] == [2.0, 8.0, 16.0] and res["q"] == ["R2", "R8", "R16"]
    assert res["mse/jd"] == [0.018, 0.012, 0.008]
    assert res["mse"][1] is None  # inf is not JSON: stored as null
    assert len(res["w1-per-frame/sa"]) == 3 and len(res["w1-per-frame/sa"][0]) == 3
    assert split_key("w1-per-frame/jd") == ("w1", "jd", True)
    assert split_key("psnr-rgb") == ("psnr-rgb", None, False)
    assert heads_of(res) == ["mse", "jd", "fmd", "sa"]
    assert set(scalar_metrics(res)) == {"psnr-rgb", "ms-ssim-rgb", "mse", "w1"}
    assert set(per_frame_metrics(res)) == {"mse", "w1", "digit-agreement"}
    assert load_results(results_file)["name"] == "plf-mmnist"


def test_readable_by_compressai_plot_tool(results_file, tmp_path):
    # CompressAI's own parser: bitrate on x, the metric on y (MS-SSIM converted to dB).
    rv = parse_json_file(results_file, "psnr-rgb")
    assert rv["name"] == "plf-mmnist" and rv["xs"] == [2.0, 8.0, 16.0]
    assert list(rv["ys"]) == [17.0, 19.2, 21.0]
    ms = parse_json_file(results_file, "ms-ssim-rgb")
    np.testing.assert_allclose(ms["ys"], -10 * np.log10(1 - np.array([0.8, 0.9, 0.95])))
    # Per-head keys are plottable by CompressAI's tool too.
    assert list(parse_json_file(results_file, "mse/jd")["ys"]) == [0.018, 0.012, 0.008]
    out = tmp_path / "compressai.png"
    compressai_plot_main(["-f", str(results_file), "-m", "psnr-rgb", "-o", str(out)])
    assert out.stat().st_size > 0


def test_validation_errors(tmp_path):
    good = _results()
    with pytest.raises(ValueError, match="results"):
        validate_results({"name": "x"})
    bad = json.loads(json.dumps(good))
    bad["results"]["mse/jd"] = [0.1]
    with pytest.raises(ValueError, match="one entry per rate point"):
        validate_results(bad)
    bad = json.loads(json.dumps(good))
    bad["results"]["w1-per-frame/jd"] = [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="lists of numbers"):
        validate_results(bad)
    bad = json.loads(json.dumps(good))
    bad["results"]["w1/jd"] = ["a", "b", "c"]
    with pytest.raises(ValueError, match="numbers"):
        validate_results(bad)
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_results(path)


def _grid_file(tmp_path, suffix):
    t = 3
    src = np.random.default_rng(0).random((2, t, 1, 16, 16)).astype(np.float32)
    clips = {"source": src, "mse": src * 0.5, "jd": src[:, ::-1].copy(), "fmd": src, "sa": src}
    path = tmp_path / f"clips{suffix}"
    if suffix == ".npz":
        np.savez(path, **clips)
    else:
        torch.save({k: torch.from_numpy(v) for k, v in clips.items()}, path)
    return path


def test_cli_writes_every_plot(results_file, tmp_path):
    anchor = tmp_path / "x264.json"
    save_results(
        make_results("x264-lowdelay", [3.0, 9.0, 20.0], {"psnr-rgb": [18, 20, 23]}), anchor
    )
    grid_npz, grid_pt = _grid_file(tmp_path, ".npz"), _grid_file(tmp_path, ".pt")
    out = tmp_path / "plots"
    args = [str(results_file), str(anchor), "--out", str(out)]
    written = main(args + ["--grid", str(grid_npz), "--grid", str(grid_pt), "--sample", "1"])
    names = {p.name for p in written}
    expected = {
        "rd-psnr-rgb.png",
        "rd-ms-ssim-rgb.png",
        "rd-mse.png",
        "rd-w1.png",
        "dp-mse-vs-w1.png",
        "per-frame-mse-plf-mmnist.png",
        "per-frame-w1-plf-mmnist.png",
        "per-frame-digit-agreement-plf-mmnist.png",
        "grid-clips-npz.png",
        "grid-clips-pt.png",
    }
    assert expected <= names
    assert len(written) == len(names) == 10  # one file per plot, none overwritten
    for p in written:
        assert p.is_file() and p.stat().st_size > 1000


def test_grid_names_are_distinct(tmp_path):
    from compressai_plf.plot.__main__ import grid_names

    paths = [Path("a/q1.npz"), Path("b/q1.npz"), Path("q1.pt"), Path("q5.npz")]
    assert grid_names(paths) == ["q1-npz-1", "q1-npz-2", "q1-pt", "q5"]


def test_grid_loading(tmp_path):
    clips = load_grid(_grid_file(tmp_path, ".pt"))
    assert list(clips) == ["source", "mse", "jd", "fmd", "sa"]
    bad = tmp_path / "bad.npz"
    np.savez(bad, mse=np.zeros((2, 1, 8, 8)))
    with pytest.raises(ValueError, match="source"):
        load_grid(bad)


def test_cli_errors(results_file, tmp_path):
    with pytest.raises(SystemExit, match="^error: .*not found"):  # one line, no traceback
        main([str(results_file), "--out", str(tmp_path), "--metric", "lpips"])
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path)])
