"""The fixed-rate coder's latent pull-back: the gradient of a hand-written penalty, nothing else."""

from __future__ import annotations

import pytest
import torch

from compressai_plf.models.fixed_rate_coder import FixedRateLatentCoder
from compressai_plf.training.trainer import set_latent_pullback


def _grad(coder: FixedRateLatentCoder, y0: torch.Tensor, weights: torch.Tensor, penalty: float):
    y = y0.clone().requires_grad_(True)
    torch.manual_seed(3)  # the same dither in every call
    y_hat, _ = coder(y)
    loss = (y_hat * weights).sum()
    if penalty:  # the penalty the pull-back stands for, written out
        loss = loss + penalty / 2 * torch.relu(y.abs() - 2.0).pow(2).mean()
    loss.backward()
    return y_hat.detach(), y.grad


def test_pullback_is_the_gradient_of_the_stated_penalty():
    y0 = torch.tensor([[[[-4.0, -1.0], [0.5, 3.0]]]])  # two latents beyond |y| = 2
    weights = torch.tensor([[[[0.1, -0.2], [0.3, 0.4]]]])
    coder = FixedRateLatentCoder(planes=1, levels=16).train()
    plain_hat, plain = _grad(coder, y0, weights, 0.0)
    written_hat, written = _grad(coder, y0, weights, 8.0)
    coder.pullback = 8.0
    pulled_hat, pulled = _grad(coder, y0, weights, 0.0)
    torch.testing.assert_close(pulled, written)
    assert torch.equal(pulled_hat, plain_hat)  # the forward pass is unchanged
    # by hand: strength * (y - clamp(y, -2, 2)) / numel = 8 * [-2, 0, 0, 1] / 4 on top
    torch.testing.assert_close(pulled - plain, torch.tensor([[[[-4.0, 0.0], [0.0, 2.0]]]]))


def test_pullback_is_off_in_eval_mode_and_needs_a_fixed_rate_model():
    y0 = torch.tensor([[[[5.0]]]])
    coder = FixedRateLatentCoder(planes=1, levels=16).eval()
    coder.pullback = 8.0
    _, g = _grad(coder, y0, torch.ones(1, 1, 1, 1), 0.0)
    _, g0 = _grad(FixedRateLatentCoder(planes=1, levels=16).eval(), y0, torch.ones(1, 1, 1, 1), 0.0)
    assert torch.equal(g, g0)
    model = torch.nn.Sequential(FixedRateLatentCoder(1, 2), FixedRateLatentCoder(1, 4))
    assert set_latent_pullback(model, 0.5) == 2 and model[1].pullback == 0.5
    with pytest.raises(ValueError, match="fixed-rate"):
        set_latent_pullback(torch.nn.Linear(2, 2), 0.5)
    assert set_latent_pullback(torch.nn.Linear(2, 2), 0.0) == 0  # off: nothing to check
