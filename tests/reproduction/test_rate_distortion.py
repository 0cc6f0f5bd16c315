"""The hyperprior family's rate-distortion comparison: BD-rate rows and the command."""

from __future__ import annotations

import json
import math

import pytest
import torch

from compressai_plf.anchors import encoder_available
from compressai_plf.datasets import write_yuv420, yuv420_name
from compressai_plf.models import ScaleSpaceFlowPLF
from compressai_plf.reproduction.rate_distortion import (
    bd_rates,
    load_test_clips,
    main,
    rd_tables,
    ssf_plf_models,
)
from compressai_plf.zoo.presets import tiny_architecture


def _tiny_runs(runs, prefix, channels):
    """Untrained tiny hyperprior checkpoints where the command looks for q3/q5/q7 runs."""
    for i, q in enumerate((3, 5, 7)):
        torch.manual_seed(i)
        net = ScaleSpaceFlowPLF(**{**tiny_architecture("hyperprior"), "channels": channels})
        (runs / f"{prefix}-q{q}-mse").mkdir(parents=True)
        torch.save({"state_dict": net.state_dict()}, runs / f"{prefix}-q{q}-mse/checkpoint.pth.tar")
    return runs


def _curve(name, bpp, psnr):
    return {"name": name, "results": {"q": [1, 2, 3], "bpp": bpp, "psnr": psnr, "mse": [0.1] * 3}}


def test_half_the_rate_at_equal_psnr_is_minus_fifty_percent():
    curves = {
        "x264": _curve("x264", [0.1, 0.2, 0.4], [20.0, 25.0, 30.0]),
        "ours": _curve("ours", [0.05, 0.1, 0.2], [20.0, 25.0, 30.0]),
        "far": _curve("far", [0.1, 0.2, 0.4], [40.0, 45.0, 50.0]),
    }
    rows = {r["test"]: r for r in bd_rates(curves, ["x264"])}
    assert set(rows) == {"ours", "far"}
    assert rows["ours"]["bd_rate_percent"] == pytest.approx(-50.0)
    assert rows["ours"]["bd_psnr_db"] > 0  # more PSNR at equal rate
    # PSNR ranges that do not overlap have no BD-rate, and say why
    assert rows["far"]["bd_rate_percent"] is None and "overlap" in rows["far"]["note"]
    table = rd_tables(curves, list(rows.values()))
    assert "| ours | x264 | -50.0 |" in table and "| far | x264 | n/a |" in table


@pytest.mark.skipif(not encoder_available("libx264"), reason="ffmpeg with libx264 not found")
def test_command_writes_curves_bd_rates_and_figure(mnist_root, tmp_path):
    runs = _tiny_runs(tmp_path / "runs", "ssf_plf-hyperprior", channels=1)
    out = tmp_path / "rd"
    summary = main([
        "--data-root", str(mnist_root), "--out", str(out), "--source", "runs",
        "--runs-dir", str(runs), "--max-clips", "2", "--crf", "30", "45", "--threads", "1", "--no-progress",
    ])  # fmt: skip
    assert summary["clips"] == 2
    assert any("ssf2020 skipped" in n for n in summary["notes"])
    ours = json.loads((out / "ssf_plf.json").read_text())["results"]
    x264 = json.loads((out / "x264.json").read_text())["results"]
    assert ours["q"] == [3, 5, 7] and x264["q"] == [30, 45]
    assert all(b > 0 for b in ours["bpp"]) and x264["bpp"][0] > x264["bpp"][1]
    assert all(math.isfinite(p) for p in ours["psnr"])
    written = json.loads((out / "bd_rate.json").read_text())
    assert {(r["test"], r["anchor"]) for r in written["bd_rate"]} >= {("ssf_plf", "x264")}
    assert (out / "rd-psnr.png").stat().st_size > 0 and "BD-rate" in (out / "rd.md").read_text()


@pytest.mark.skipif(not encoder_available("libx264"), reason="ffmpeg with libx264 not found")
def test_natural_family_codes_the_yuv_files_with_the_natural_runs(tmp_path):
    """``--family natural``: every .yuv file of --data-root, RGB, the natural runs' names."""
    yuv = tmp_path / "yuv"
    yuv.mkdir()
    torch.manual_seed(0)
    frames = torch.rand(2, 3, 64, 64).mul(0.5).add(0.25)
    write_yuv420(yuv / yuv420_name("noise", 64, 64, 25), frames)
    runs = _tiny_runs(tmp_path / "runs", "ssf_plf-natural", channels=3)
    out = tmp_path / "rd"
    summary = main([
        "--family", "natural", "--data-root", str(yuv), "--out", str(out), "--source", "runs",
        "--runs-dir", str(runs), "--crf", "30", "45", "--threads", "1", "--no-progress",
    ])  # fmt: skip
    assert summary["family"] == "natural" and summary["clips"] == 1
    assert any("ssf2020 skipped" in n and str(runs) in n for n in summary["notes"])
    ours = json.loads((out / "ssf_plf.json").read_text())
    assert ours["results"]["q"] == [3, 5, 7] and "natural" in ours["description"]
    assert all(math.isfinite(p) for p in ours["results"]["psnr"])


def test_natural_family_needs_a_yuv_folder_and_its_runs(tmp_path, capsys):
    with pytest.raises(SystemExit):  # one line from the command, no traceback
        main(["--family", "natural", "--out", str(tmp_path / "rd"), "--no-progress"])
    assert "--family natural needs --data-root" in capsys.readouterr().err
    with pytest.raises(ValueError, match="needs --data-root"):
        load_test_clips(None, 1, "natural")
    with pytest.raises(FileNotFoundError, match="ssf_plf-natural-q3-mse"):
        ssf_plf_models("runs", tmp_path, "natural")
    with pytest.raises(ValueError, match="family must be one of"):
        ssf_plf_models("runs", tmp_path, "cifar")
