import numpy as np
import pytest
import torch
from compressai.utils.video.plot.__main__ import parse_json_file

from compressai_plf.anchors import X264LowDelayP, anchor_rd_results, encoder_available
from compressai_plf.plot.__main__ import main as plot_main
from compressai_plf.results import save_results

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


def test_generic_sweep_against_hand_computed_values():
    """A fake codec that adds 0.1 (q=1) or 0.2 (q=2) and spends [100, 20] bits per clip."""
    from compressai_plf.anchors.rd_sweep import rd_sweep

    clips = torch.full((2, 2, 1, 8, 8), 0.5)

    def code(q, clip):
        return clip + 0.1 * q, [100.0, 20.0]

    res = rd_sweep(code, clips, [1, 2], "fake", "a fake codec", fps=10)["results"]
    np.testing.assert_allclose(res["mse"], [0.01, 0.04], rtol=1e-5)  # float32 frames
    np.testing.assert_allclose(res["psnr"], [20.0, 10 * np.log10(1 / 0.04)], rtol=1e-5)
    np.testing.assert_allclose(res["bpp"], [120 / (2 * 64)] * 2)
    np.testing.assert_allclose(res["bitrate"], [120 * 10 / 2 / 1000] * 2)
    assert res["bits-per-frame"] == [[100.0, 20.0], [100.0, 20.0]]


def test_generic_sweep_rejects_a_wrong_reconstruction_shape():
    from compressai_plf.anchors.rd_sweep import rd_sweep

    with pytest.raises(ValueError, match="decoded"):
        rd_sweep(lambda q, c: (c[:1], [1.0, 1.0]), torch.rand(1, 2, 1, 8, 8), [1], "bad")
