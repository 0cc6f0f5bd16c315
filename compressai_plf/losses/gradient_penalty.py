"""Gradient penalties for Lipschitz critics.

WGAN-GP (Gulrajani et al., "Improved Training of Wasserstein GANs",
https://arxiv.org/abs/1704.00028) penalises ``(||grad D(x~)|| - 1)^2`` on random interpolates
``x~`` between real and fake samples; the PLF paper (https://arxiv.org/abs/2305.19301) uses it
with weight 10. The same penalty on real samples only regularises the 3D hinge discriminator.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["gradient_penalty", "interpolated_gradient_penalty"]


def gradient_penalty(
    critic: Callable[[Tensor], Tensor], inputs: Tensor, return_scores: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """``mean_b (||d critic(x)_b / d x_b||_2 - 1)^2`` at ``x = inputs``.

    The norm is per sample, over all non-batch dimensions. The input is detached (the
    penalty regularises the critic, not whatever produced ``inputs``) and the gradient is
    taken with ``create_graph=True`` so the penalty can be back-propagated to the critic.

    Args:
        critic: callable mapping a batch to one score per sample (any shape whose first
            dimension is the batch).
        inputs: batch of samples, shape ``(B, ...)``.
        return_scores: also return ``critic(inputs)`` (differentiable w.r.t. the critic), so
            a caller that needs the scores on the same batch saves a forward pass.

    Returns:
        Scalar tensor, or ``(penalty, scores)`` with ``return_scores=True``.
    """
    if not isinstance(inputs, Tensor) or inputs.dim() < 2:
        raise ValueError("inputs must be a batched tensor with at least 2 dimensions")
    x = inputs.detach().requires_grad_(True)
    with torch.enable_grad():
        scores = critic(x)
        (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    norms = grad.flatten(1).norm(2, dim=1)
    penalty = ((norms - 1.0) ** 2).mean()
    return (penalty, scores) if return_scores else penalty


def interpolated_gradient_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    generator: torch.Generator | None = None,
) -> Tensor:
    """WGAN-GP penalty at ``x~ = e * real + (1 - e) * fake``, ``e ~ U(0, 1)`` per sample.

    Args:
        critic: callable mapping a batch to one score per sample.
        real: real batch ``(B, ...)``.
        fake: generated batch of the same shape (detached here).
        generator: optional RNG for the interpolation coefficients.

    Returns:
        Scalar tensor.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake shapes differ: {tuple(real.shape)} vs {tuple(fake.shape)}")
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    e = torch.rand(shape, generator=generator, dtype=real.dtype).to(real.device)
    mixed = e * real.detach() + (1.0 - e) * fake.detach()
    return gradient_penalty(critic, mixed)
