import pytest
import torch

from compressai_plf.modules import Blur2d, Blur3d, BlurDownsample2d, BlurDownsample3d, blur_kernel


def test_kernel_values():
    k2 = blur_kernel(2)
    assert torch.equal(k2 * 16, torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]))
    k3 = blur_kernel(3)
    assert k3.shape == (3, 3, 3) and k3.sum().item() == pytest.approx(1.0)
    assert k3[1, 1, 1].item() == pytest.approx(8 / 64) and k3[0, 0, 0].item() == pytest.approx(
        1 / 64
    )
    assert k3[0, 1, 1].item() == pytest.approx(4 / 64) and k3[0, 0, 1].item() == pytest.approx(
        2 / 64
    )
    assert torch.equal(blur_kernel(1) * 4, torch.tensor([1.0, 2, 1]))


def test_impulse_response_is_the_kernel():
    x = torch.zeros(1, 2, 7, 7)
    x[:, :, 3, 3] = 1.0
    y = Blur2d()(x)
    assert torch.allclose(y[0, 1, 2:5, 2:5], blur_kernel(2))
    assert y.sum().item() == pytest.approx(2.0)
    v = torch.zeros(1, 1, 5, 5, 5)
    v[..., 2, 2, 2] = 1.0
    assert torch.allclose(Blur3d(time=True)(v)[0, 0, 1:4, 1:4, 1:4], blur_kernel(3))
    space = Blur3d(time=False)(v)[0, 0]
    assert torch.allclose(space[2, 1:4, 1:4], blur_kernel(2)) and space[1].abs().sum() == 0


def test_constant_images_preserved_at_borders():
    x = torch.full((2, 3, 9, 6), 0.7)
    assert torch.allclose(Blur2d()(x), x)
    v = torch.full((1, 2, 3, 8, 8), -1.5)
    assert torch.allclose(Blur3d(time=True)(v), v)
    assert torch.allclose(Blur3d(time=False)(v), v)
    assert torch.allclose(BlurDownsample3d()(v), torch.full((1, 2, 2, 4, 4), -1.5))


def test_replicate_padding_at_left_border():
    # Column ramp x[..., w] = w + 1: replicate padding gives (3 * 1 + 2) / 4 = 1.25 in the
    # first column (zero padding would give 1.0).
    x = (torch.arange(6.0) + 1).expand(1, 1, 6, 6).contiguous()
    y = Blur2d()(x)
    assert torch.allclose(y[..., 0], torch.full((1, 1, 6), 1.25))
    assert torch.allclose(y[..., 1:5], x[..., 1:5])  # a linear ramp is preserved inside


def test_space_only_blur_does_not_mix_time():
    v = torch.stack([torch.zeros(4, 4), torch.ones(4, 4)])[None, None]
    assert torch.equal(Blur3d(time=False)(v), v)
    mixed = Blur3d(time=True)(v)
    assert mixed[0, 0, 0, 0, 0].item() == pytest.approx(0.25)  # (2 * 0 + 0 + 1) / 4 via replicate


def test_downsample_shapes_and_subsampling():
    x = torch.randn(2, 3, 9, 8)
    assert BlurDownsample2d()(x).shape == (2, 3, 5, 4)
    assert torch.equal(BlurDownsample2d(antialias=False)(x), x[..., ::2, ::2])
    v = torch.randn(1, 2, 3, 8, 8)
    assert BlurDownsample3d(time=True)(v).shape == (1, 2, 2, 4, 4)
    assert BlurDownsample3d(time=False)(v).shape == (1, 2, 3, 4, 4)
    assert torch.allclose(BlurDownsample2d()(x), Blur2d()(x)[..., ::2, ::2])


def test_bad_inputs():
    with pytest.raises(ValueError, match="dims"):
        blur_kernel(4)
    with pytest.raises(ValueError, match="B, C, H, W"):
        Blur2d()(torch.ones(1, 1, 1, 4, 4))
    with pytest.raises(ValueError, match="B, C, T, H, W"):
        BlurDownsample3d()(torch.ones(1, 4, 4, 4))
