import pytest
import torch
from compressai.registry import CRITERIONS

from compressai_plf.losses import VideoRateDistortionLoss


def fake_output(frames, offset=0.1):
    b = frames[0].shape[0]
    lk = [{"keyframe": {"y": torch.full((b, 8), 0.5)}}]  # 8 bits per sample
    lk += [
        {"motion": {"y": torch.full((b, 4), 0.25)}, "residual": {"y": torch.full((b, 2), 0.5)}}
    ] * (len(frames) - 1)  # 8 + 2 = 10 bits per sample
    return {"x_hat": [f + offset for f in frames], "likelihoods": lk}


def test_mse_loss_by_hand():
    frames = [torch.rand(2, 3, 16, 16) * 0.5 for _ in range(3)]
    out = CRITERIONS["VideoRateDistortionLoss"](lmbda=0.01)(fake_output(frames), frames)
    bits = 2 * (8 + 10 + 10)
    bpp = bits / (2 * 3 * 16 * 16)
    assert out["bpp_loss"].item() == pytest.approx(bpp)
    assert out["mse_loss"].item() == pytest.approx(0.01, rel=1e-5)
    assert out["loss"].item() == pytest.approx(bpp + 0.01 * 255**2 * 0.01, rel=1e-5)
    assert out["frame0.bpp"].item() == pytest.approx(16 / (2 * 256))
    assert out["frame1.bpp"].item() == pytest.approx(20 / (2 * 256))
    assert out["frame2.mse_loss"].item() == pytest.approx(0.01, rel=1e-5)


def test_msssim_perfect_reconstruction_costs_rate_only():
    frames = [torch.rand(1, 3, 64, 64) for _ in range(2)]
    out = VideoRateDistortionLoss(lmbda=100.0, metric="ms-ssim")(fake_output(frames, 0.0), frames)
    assert out["frame0.ms_ssim"].item() == pytest.approx(1.0, abs=1e-5)
    assert out["loss"].item() == pytest.approx(out["bpp_loss"].item(), abs=1e-3)
    worse = VideoRateDistortionLoss(lmbda=100.0, metric="ms-ssim")(
        {
            "x_hat": [torch.rand_like(f) for f in frames],
            "likelihoods": fake_output(frames)["likelihoods"],
        },
        frames,
    )
    assert worse["ms_ssim_loss"].item() > 0.5


def test_bad_inputs():
    frames = [torch.rand(1, 3, 16, 16) for _ in range(2)]
    crit = VideoRateDistortionLoss()
    with pytest.raises(ValueError, match="metric"):
        VideoRateDistortionLoss(metric="psnr")
    with pytest.raises(ValueError, match="reconstructed frames"):
        crit({"x_hat": frames[:1], "likelihoods": [{}]}, frames)
    with pytest.raises(ValueError, match="likelihoods"):
        crit({"x_hat": frames, "likelihoods": [{}]}, frames)
    with pytest.raises(ValueError, match="no 'likelihoods'"):
        crit({"x_hat": frames}, frames)
    with pytest.raises(TypeError, match="output dict"):
        crit(frames, frames)
