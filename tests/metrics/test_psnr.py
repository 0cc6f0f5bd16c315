import math

import pytest
import torch

from compressai_plf.metrics import mse_per_frame, psnr_per_frame


def _pair():
    x = torch.zeros(1, 2, 1, 2, 2)
    y = x.clone()
    y[0, 0] = 0.1  # MSE 0.01 -> 20 dB
    y[0, 1, 0, 0] = 0.2  # half the pixels off by 0.2: MSE 0.02 -> 10 log10(50) dB
    return x, y


def test_mse_and_psnr_hand_computed():
    x, y = _pair()
    torch.testing.assert_close(mse_per_frame(x, y), torch.tensor([0.01, 0.02]))
    expected = torch.tensor([20.0, 10 * math.log10(50)])
    torch.testing.assert_close(psnr_per_frame(x, y), expected)
    # Same PSNR on the 8-bit scale.
    torch.testing.assert_close(psnr_per_frame(x * 255, y * 255, data_range=255), expected)


def test_psnr_averages_per_sample_psnr_not_mse():
    x = torch.zeros(2, 1, 1, 4, 4)
    y = x.clone()
    y[0] = 0.1  # 20 dB
    y[1] = 0.01  # 40 dB
    torch.testing.assert_close(psnr_per_frame(x, y), torch.tensor([30.0]))
    torch.testing.assert_close(
        psnr_per_frame(x, y, reduction="none"), torch.tensor([[20.0], [40.0]])
    )


def test_list_input_and_exact_reconstruction():
    x, y = _pair()
    frames = [x[:, t] for t in range(2)]
    torch.testing.assert_close(psnr_per_frame(frames, [y[:, 0], y[:, 1]]), psnr_per_frame(x, y))
    assert torch.isinf(psnr_per_frame(x, x)).all()


def test_bad_input():
    x, y = _pair()
    with pytest.raises(ValueError, match="5-D"):
        psnr_per_frame(x[0], y[0])
    with pytest.raises(ValueError, match="shapes differ"):
        mse_per_frame(x, y[:, :1])
    with pytest.raises(ValueError, match="reduction"):
        mse_per_frame(x, y, reduction="sum")
    with pytest.raises(ValueError, match="data_range"):
        psnr_per_frame(x, y, data_range=0)
