import pytest
import torch
from compressai.registry import MODULES

from compressai_plf.modules import Discriminator3D

SMALL = {"widths_3d": (4, 8), "widths_2d": (8, 8, 8)}


@pytest.mark.parametrize("frames", [2, 3, 4, 8, 16])
@pytest.mark.parametrize("size", [64, 128])
def test_one_logit_per_clip(frames, size):
    d = MODULES["Discriminator3D"](frames=frames, image_size=size, channels=3, **SMALL)
    out = d(torch.rand(2, 3, frames, size, size))
    assert out.shape == (2,)
    # After two 3D blocks time is ceil(T / 4): folded into the batch.
    assert d.folded_frames == -(-frames // 4)


def test_grey_non_square_and_default_widths():
    d = Discriminator3D(frames=2, image_size=(32, 64), channels=1)
    assert d(torch.rand(1, 1, 2, 32, 64)).shape == (1,)


def test_clips_are_scored_independently():
    d = Discriminator3D(frames=4, image_size=32, **SMALL)
    x = torch.rand(3, 3, 4, 32, 32)
    assert torch.allclose(d(x)[1:2], d(x[1:2]), atol=1e-5)


def test_antialias_changes_the_network_output():
    torch.manual_seed(0)
    a = Discriminator3D(frames=2, image_size=32, **SMALL)
    b = Discriminator3D(frames=2, image_size=32, antialias=False, **SMALL)
    b.load_state_dict(a.state_dict())
    x = torch.rand(2, 3, 2, 32, 32)
    assert not torch.allclose(a(x), b(x))


def test_bad_shapes():
    with pytest.raises(ValueError, match="multiple of 32"):
        Discriminator3D(frames=2, image_size=48)
    d = Discriminator3D(frames=4, image_size=32, **SMALL)
    with pytest.raises(ValueError, match="expects"):
        d(torch.rand(1, 3, 2, 32, 32))
    with pytest.raises(ValueError, match="frames"):
        Discriminator3D(frames=0, image_size=32)
