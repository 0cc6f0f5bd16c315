import numpy as np
import pytest
import torch
from compressai.utils.video.plot.__main__ import parse_json_file

from compressai_plf.anchors import X264LowDelayP, anchor_rd_results, encoder_available
from compressai_plf.plot import save_results
from compressai_plf.plot.__main__ import main as plot_main

pytestmark = pytest.mark.skipif(
    not encoder_available("libx264"), reason="ffmpeg/ffprobe with libx264 not found"
)


def test_sweep_layout_and_monotonic_rate(tmp_path):
    g = torch.Generator().manual_seed(0)
    base = torch.nn.functional.avg_pool2d(torch.rand(2, 1, 80, 80, generator=g), 5, 1, 2)
    clips = torch.stack([base[:, :, 0:64, 2 * i : 2 * i + 64] for i in range(3)], dim=1)
    data = anchor_rd_results(lambda q: X264LowDelayP(quality=q), clips, [20, 40], fps=10)
    res = data["results"]
    assert data["name"] == "x264" and res["q"] == [20, 40]
    assert res["bitrate"][0] > res["bitrate"][1] and res["mse"][0] < res["mse"][1]
    # kbps = mean bits per clip * fps / frames / 1000
    expected = [sum(b) * 10 / 3 / 1000 for b in res["bits-per-frame"]]
    np.testing.assert_allclose(res["bitrate"], expected)
    assert len(res["mse-per-frame"][0]) == 3 and "ms-ssim" in res
    path = tmp_path / "x264.json"
    save_results(data, path)
    assert parse_json_file(path, "psnr")["xs"] == res["bitrate"]
    written = plot_main([str(path), "--out", str(tmp_path / "plots")])
    assert {p.name for p in written} >= {"rd-psnr.png", "per-frame-bits-x264.png"}


def test_bad_clips():
    with pytest.raises(ValueError, match="N, T, C, H, W"):
        anchor_rd_results(lambda q: X264LowDelayP(quality=q), torch.rand(3, 1, 64, 64), [20])
