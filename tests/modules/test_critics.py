import pytest
import torch
from compressai.registry import MODULES
from torch.nn.utils.parametrize import is_parametrized

from compressai_plf.modules import Critic3D, DCGANCritic, PLFCritic
from compressai_plf.plfs import get_plf


@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_critic_shapes_and_spectral_norm(channels):
    c = DCGANCritic(channels=channels, frames=3, image_size=64, widths=(8, 16, 32, 64))
    assert c(torch.rand(5, 3 * channels, 64, 64)).shape == (5,)
    convs = [m for m in c.features if isinstance(m, torch.nn.Conv2d)]
    assert [is_parametrized(m) for m in convs] == [True, True, True, False]
    with pytest.raises(ValueError, match="3 frames x"):
        c(torch.rand(1, 2 * channels, 64, 64))


def test_spectral_norm_bounds_first_layer():
    c = DCGANCritic(channels=1, frames=1, image_size=16, widths=(4, 4, 4, 4))
    conv = c.features[0]
    for _ in range(30):  # power iteration converges in train mode
        c(torch.rand(1, 1, 16, 16))
    c.eval()
    sigma = torch.linalg.matrix_norm(conv.weight.flatten(1), ord=2)
    assert sigma.item() == pytest.approx(1.0, rel=0.05)


def test_critic3d_any_number_of_frames_and_size():
    c = Critic3D(channels=3, widths=(4, 8, 8, 8))
    for k in (1, 2, 3):
        assert c(torch.rand(2, 3 * k, 32, 48)).shape == (2,)
    with pytest.raises(ValueError, match="stacked"):
        c(torch.rand(2, 4, 32, 32))
    with pytest.raises(ValueError, match="multiples of 16"):
        c(torch.rand(2, 3, 24, 32))


def test_critic3d_unstacks_frames_in_order():
    # Swapping the stacked frames must change the score (time order matters to 3D convs).
    torch.manual_seed(0)
    c = Critic3D(channels=1, widths=(4, 4, 4, 4))
    a, b = torch.rand(1, 1, 16, 16), torch.rand(1, 1, 16, 16)
    assert not torch.allclose(c(torch.cat([a, b], 1)), c(torch.cat([b, a], 1)))


@pytest.mark.parametrize("plf", ["jd", "fmd", "sa"])
@pytest.mark.parametrize("arch", ["dcgan", "3d"])
def test_plf_critic_accepts_its_stacks(plf, arch):
    t, ch = 4, 1
    critic = MODULES["PLFCritic"](
        plf=plf, num_frames=t, channels=ch, image_size=64, arch=arch, widths=(4, 4, 4, 4)
    )
    # JD constrains the joints up to each P-frame; FMD and SA every frame, the I-frame too
    first = 1 if plf == "jd" else 0
    assert sorted(critic.critics) == [str(j) for j in range(first, t)]
    frames = [torch.rand(2, ch, 64, 64) for _ in range(t)]
    recon = [torch.rand(2, ch, 64, 64) for _ in range(t)]
    for j in range(first, t):
        real, fake = get_plf(plf).critic_inputs(frames, recon, j)
        assert critic(real, j).shape == (2,) and critic(fake, j).shape == (2,)
    for bad in ([0] if plf == "jd" else []) + [t]:
        with pytest.raises(ValueError, match="frame index"):
            critic(frames[0], bad)


def test_plf_critic_bad_args():
    with pytest.raises(ValueError, match="num_frames"):
        PLFCritic("jd", num_frames=1)
    with pytest.raises(ValueError, match="arch"):
        PLFCritic("jd", arch="resnet")
    with pytest.raises(ValueError, match="unknown PLF"):
        PLFCritic("xd")
