import math

import pytest
import torch

from compressai_plf.losses import gradient_penalty, interpolated_gradient_penalty


def linear_critic(a):
    return lambda x: (x * a).flatten(1).sum(1)


def test_linear_critic_penalty_closed_form():
    a = torch.full((2, 3, 4), 0.5)  # ||a|| = 0.5 * sqrt(24)
    x = torch.randn(5, 2, 3, 4)
    expected = (0.5 * math.sqrt(24) - 1) ** 2
    assert gradient_penalty(linear_critic(a), x).item() == pytest.approx(expected, rel=1e-6)


def test_penalty_is_differentiable_wrt_critic():
    a = torch.full((6,), 1.0, requires_grad=True)  # ||a|| = sqrt(6)
    gp = gradient_penalty(linear_critic(a), torch.randn(3, 6))
    gp.backward()
    n = math.sqrt(6)
    # d/da (||a|| - 1)^2 = 2 (||a|| - 1) a / ||a||
    expected = 2 * (n - 1) / n
    assert torch.allclose(a.grad, torch.full((6,), expected))


def test_per_sample_norm():
    # Critic x -> 0.5 * ||x||^2: gradient x, norm per sample.
    x = torch.tensor([[3.0, 4.0], [0.0, 1.0]])  # norms 5 and 1
    gp = gradient_penalty(lambda v: 0.5 * (v**2).sum(1), x)
    assert gp.item() == pytest.approx(((5 - 1) ** 2 + 0) / 2)


def test_interpolated_penalty_zero_for_unit_gradient_critics():
    real, fake = torch.randn(8, 1, 4, 4), torch.randn(8, 1, 4, 4)
    a = torch.randn(1, 4, 4)
    a = a / a.norm()
    assert interpolated_gradient_penalty(linear_critic(a), real, fake).item() == pytest.approx(
        0.0, abs=1e-10
    )
    # Distance to a point: gradient of unit norm everywhere except at the point.
    c = torch.full((1, 4, 4), 10.0)
    dist = lambda x: (x - c).flatten(1).norm(dim=1)  # noqa: E731
    assert interpolated_gradient_penalty(dist, real, fake).item() == pytest.approx(0.0, abs=1e-10)


def test_interpolated_penalty_uses_interpolates_between_real_and_fake():
    # Critic 0.5 ||x||^2 has gradient x: with real = 1, fake = 3 (1 element) the interpolate
    # is 3 - 2e, so the penalty (2 - 2e)^2 lies in [0, 4] and differs across samples.
    real, fake = torch.ones(1000, 1), torch.full((1000, 1), 3.0)
    gp = interpolated_gradient_penalty(lambda v: 0.5 * (v**2).sum(1), real, fake)
    # E[(2 - 2e)^2] for e ~ U(0, 1) = 4/3.
    assert gp.item() == pytest.approx(4 / 3, rel=0.1)


def test_bad_inputs():
    with pytest.raises(ValueError, match="shapes differ"):
        interpolated_gradient_penalty(lambda v: v.sum(1), torch.ones(2, 3), torch.ones(2, 4))
    with pytest.raises(ValueError, match="batched"):
        gradient_penalty(lambda v: v, torch.ones(3))
