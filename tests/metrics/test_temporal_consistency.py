import numpy as np
import pytest
import torch
from scipy import ndimage

from compressai_plf.metrics import flow_difference_per_frame


def _texture_clip(step=2, t=5, offset=20):
    # Smooth random texture translated by `step` pixels per frame along x.
    rng = np.random.default_rng(0)
    base = ndimage.gaussian_filter(rng.random((120, 120)), 2)
    base = (base - base.min()) / (base.max() - base.min())
    frames = [
        base[offset : offset + 64, offset + step * i : offset + 64 + step * i] for i in range(t)
    ]
    return torch.tensor(np.stack(frames), dtype=torch.float32)[None, :, None]


def test_identity_is_zero():
    x = _texture_clip()
    assert flow_difference_per_frame(x, x).tolist() == [0.0] * 4


def test_frozen_and_reversed_motion_in_pixels():
    x = _texture_clip(step=2)
    frozen = x[:, :1].expand_as(x)
    # The source moves 2 px per frame, a frozen reconstruction 0 px: difference 2 px.
    np.testing.assert_allclose(flow_difference_per_frame(x, frozen).numpy(), 2.0, atol=0.2)
    # Played backwards it moves -2 px: difference 4 px.
    np.testing.assert_allclose(flow_difference_per_frame(x, x.flip(1)).numpy(), 4.0, atol=0.3)


def test_same_motion_other_content_is_near_zero():
    x, y = _texture_clip(offset=20), _texture_clip(offset=30)
    assert (flow_difference_per_frame(x, y) < 0.15).all()


def test_rgb_and_reduction():
    x = _texture_clip().expand(2, -1, 3, -1, -1)
    assert flow_difference_per_frame(x, x, reduction="none").shape == (2, 4)


def test_bad_input():
    x = _texture_clip()
    with pytest.raises(ValueError, match="at least 2"):
        flow_difference_per_frame(x[:, :1], x[:, :1])
    with pytest.raises(ValueError, match="unknown"):
        flow_difference_per_frame(x, x, window=3)
