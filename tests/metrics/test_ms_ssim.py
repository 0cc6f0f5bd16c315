import pytest
import torch
from pytorch_msssim import ms_ssim

from compressai_plf.metrics import ms_ssim_per_frame, ms_ssim_window


@pytest.mark.parametrize(
    "h, w, win", [(64, 64, 3), (90, 160, 5), (160, 160, 9), (161, 300, 11), (256, 256, 11)]
)
def test_window_fits_size(h, w, win):
    # pytorch-msssim requires min(H, W) > (win - 1) * 16
    assert ms_ssim_window(h, w) == win


def test_window_too_small():
    with pytest.raises(ValueError, match="min"):
        ms_ssim_window(32, 64)


def test_identity_is_one_and_noise_lowers_it():
    x = torch.rand(2, 3, 3, 64, 64)
    torch.testing.assert_close(ms_ssim_per_frame(x, x), torch.ones(3))
    noisy = (x + 0.05 * torch.randn_like(x)).clamp(0, 1)
    noisier = (x + 0.2 * torch.randn_like(x)).clamp(0, 1)
    a, b = ms_ssim_per_frame(x, noisy), ms_ssim_per_frame(x, noisier)
    assert (a < 1).all() and (b < a).all()


def test_time_folded_into_batch_and_data_range():
    x = torch.rand(2, 3, 1, 64, 64)
    y = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)
    per = ms_ssim_per_frame(x, y, reduction="none")
    for t in range(3):
        ref = ms_ssim(x[:, t], y[:, t], data_range=1.0, win_size=3, size_average=False)
        torch.testing.assert_close(per[:, t], ref)
    torch.testing.assert_close(ms_ssim_per_frame(x * 255, y * 255, data_range=255), per.mean(0))


def test_bad_window():
    x = torch.rand(1, 1, 1, 64, 64)
    with pytest.raises(ValueError, match="too large"):
        ms_ssim_per_frame(x, x, win_size=11)
    with pytest.raises(ValueError, match="odd"):
        ms_ssim_per_frame(x, x, win_size=4)
