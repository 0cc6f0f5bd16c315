import math

import pytest
import torch

from compressai_plf.losses import bits_per_pixel, total_bits


def video_likelihoods(b=2):
    return [
        {"keyframe": {"y": torch.full((b, 4, 2, 2), 0.5), "z": torch.full((b, 2, 1, 1), 0.25)}},
        {
            "motion": {"y": torch.full((b, 3), 1 / 8), "z": torch.full((b, 1), 1.0)},
            "residual": {"y": torch.full((b, 2, 2), 1 / 16), "z": torch.full((b, 1), 0.5)},
        },
    ]


# Per sample: 16 * 1 + 2 * 2 + 3 * 3 + 0 + 4 * 4 + 1 * 1 = 46 bits.
PER_SAMPLE = 16 + 4 + 9 + 0 + 16 + 1


def test_total_bits_nested():
    lk = video_likelihoods(b=2)
    assert total_bits(lk).item() == pytest.approx(2 * PER_SAMPLE)
    assert total_bits(lk, per_sample=True).tolist() == pytest.approx([PER_SAMPLE] * 2)
    assert total_bits(torch.full((1, 5), 0.5)).item() == pytest.approx(5)
    assert total_bits(({"a": torch.full((1,), 0.5)}, [torch.full((1, 2), 0.5)])).item() == 3


def test_fixed_rate_likelihoods_give_exact_bits():
    levels, z_dim = 4, 8  # 2 * z_dim * log2(L) bits per P-frame = 32
    lk = {
        "motion": {"y": torch.full((1, z_dim), 1 / levels)},
        "residual": {"y": torch.full((1, z_dim), 1 / levels)},
    }
    assert total_bits(lk).item() == pytest.approx(2 * z_dim * math.log2(levels))


def test_bits_per_pixel():
    lk = video_likelihoods(b=2)
    assert bits_per_pixel(lk, 2 * 2 * 8 * 8).item() == pytest.approx(2 * PER_SAMPLE / 256)


def test_gradient_reaches_likelihoods():
    p = torch.full((1, 3), 0.5, requires_grad=True)
    total_bits([{"y": p}]).backward()
    assert torch.allclose(p.grad, torch.full((1, 3), -1 / (0.5 * math.log(2))))


def test_bad_inputs():
    with pytest.raises(TypeError, match="likelihoods"):
        total_bits([{"y": 3.0}])
    with pytest.raises(ValueError, match="no tensor"):
        total_bits([{}])
    with pytest.raises(ValueError, match="batch size"):
        total_bits([torch.ones(2, 1), torch.ones(3, 1)], per_sample=True)
    with pytest.raises(ValueError, match="num_pixels"):
        bits_per_pixel(torch.ones(1), 0)
