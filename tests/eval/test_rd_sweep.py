"""The rate-distortion sweep: every codec through the evaluation loop, one rate convention."""

import numpy as np
import pytest
import torch
from compressai.utils.video.plot.__main__ import parse_json_file

from compressai_plf.anchors import X264LowDelayP, encoder_available
from compressai_plf.eval import ClipSet, CodedResult, anchor_rd_results, rd_sweep
from compressai_plf.plot import rate_distortion
from compressai_plf.plot.__main__ import main as plot_main
from compressai_plf.results import save_results

needs_x264 = pytest.mark.skipif(
    not encoder_available("libx264"), reason="ffmpeg/ffprobe with libx264 not found"
)


@needs_x264
def test_anchor_sweep_layout_and_monotonic_rate(tmp_path):
    g = torch.Generator().manual_seed(0)
    base = torch.nn.functional.avg_pool2d(torch.rand(2, 1, 80, 80, generator=g), 5, 1, 2)
    clips = torch.stack([base[:, :, 0:64, 2 * i : 2 * i + 64] for i in range(3)], dim=1)
    data = anchor_rd_results(
        lambda q: X264LowDelayP(quality=q), ClipSet.from_frames(clips, 10), [20, 40]
    )
    res = data["results"]
    assert data["name"] == "x264" and res["q"] == [20, 40]
    assert res["bitrate"][0] > res["bitrate"][1] and res["mse"][0] < res["mse"][1]
    # kbps = mean bits per clip (the streams' bytes) * fps / frames / 1000
    expected = [sum(b) * 10 / 3 / 1000 for b in res["bits-per-frame"]]
    np.testing.assert_allclose(res["bitrate"], expected)
    np.testing.assert_allclose(res["bitrate"], [b * 8 * 10 / 3 / 1000 for b in res["file-bytes"]])
    assert len(res["mse-per-frame"][0]) == 3 and "ms-ssim" in res
    path = tmp_path / "x264.json"
    save_results(data, path)
    assert parse_json_file(path, "psnr")["xs"] == res["bitrate"]
    written = plot_main([str(path), "--out", str(tmp_path / "plots")])
    assert {p.name for p in written} >= {"rd-psnr.png", "per-frame-bits-x264.png"}


def test_bad_clips():
    with pytest.raises(ValueError, match="N, T, C, H, W"):
        ClipSet.from_frames(torch.rand(3, 1, 64, 64), 25)


class FakeCodec:
    """Adds 0.1 * q to every pixel; writes 20 bytes per clip (160 bits, a header included) of
    which [100, 20] bits are coded data (120 payload bits)."""

    heads = ("mse",)

    def __init__(self, q):
        self.label = q

    def code(self, clip, index):
        return CodedResult({"mse": clip.frames + 0.1 * self.label}, [100.0, 20.0], 20, 120.0)


def test_sweep_against_hand_computed_values():
    clips = ClipSet.from_frames(torch.full((2, 2, 1, 8, 8), 0.5), fps=10)
    res = rd_sweep([FakeCodec(1), FakeCodec(2)], clips, "fake", "a fake codec")["results"]
    np.testing.assert_allclose(res["mse"], [0.01, 0.04], rtol=1e-5)  # float32 frames
    np.testing.assert_allclose(res["psnr"], [20.0, 10 * np.log10(1 / 0.04)], rtol=1e-5)
    # the rate is the bytes written (160 bits), not the payload (120 bits)
    np.testing.assert_allclose(res["bpp"], [160 / (2 * 64)] * 2)
    np.testing.assert_allclose(res["bitrate"], [160 * 10 / 2 / 1000] * 2)  # at the clips' rate
    np.testing.assert_allclose(res["bitrate-payload"], [120 * 10 / 2 / 1000] * 2)
    assert res["file-bytes"] == [20, 20] and res["payload-bits"] == [120.0, 120.0]
    assert res["bits-per-frame"] == [[100.0, 20.0], [100.0, 20.0]]
    assert res["q"] == [1, 2]


def test_sweep_writes_one_curve_per_codec(tmp_path, monkeypatch):
    clips = ClipSet.from_frames(
        torch.rand(1, 3, 1, 8, 8, generator=torch.Generator().manual_seed(0)), 10
    )
    runs = [rd_sweep([FakeCodec(1), FakeCodec(2)], clips, name) for name in ("fake-a", "fake-b")]
    rate = ["bitrate", "bpp"] + [
        f"{r}-{c}" for r in ("bitrate", "bpp") for c in ("file", "payload")
    ]
    counts = ["file-bytes", "file-bits", "payload-bits", "bits-per-frame"]
    metrics = ["mse", "psnr", "mse-per-frame", "psnr-per-frame"]  # no flow-diff unless asked
    assert set(runs[0]["results"]) == {"q", *rate, *counts, *metrics}
    figures = []
    monkeypatch.setattr(rate_distortion, "save", lambda fig, path: figures.append(fig))
    rate_distortion.plot_rate_distortion(runs, "psnr", tmp_path / "rd.png")
    labels = [line.get_label() for line in figures[0].axes[0].get_lines()]
    assert labels == ["fake-a", "fake-b"]


def test_sweep_measures_flow_when_asked():
    clips = ClipSet.from_frames(
        torch.rand(1, 3, 1, 8, 8, generator=torch.Generator().manual_seed(0)), 10
    )
    res = rd_sweep([FakeCodec(1)], clips, "fake", flow=True)["results"]
    assert "flow-diff" in res and len(res["flow-diff-per-frame"][0]) == 2
    assert not any("/" in k for k in res)


def test_sweep_rejects_a_wrong_reconstruction_shape():
    class Cropping(FakeCodec):
        def code(self, clip, index):
            return CodedResult({"mse": clip.frames[:1]}, [1.0, 1.0], 1, 8.0)

    with pytest.raises(ValueError, match="decoded"):
        rd_sweep([Cropping(1)], ClipSet.from_frames(torch.rand(1, 2, 1, 8, 8), 25), "bad")
