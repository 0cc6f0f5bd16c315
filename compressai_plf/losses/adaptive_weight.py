"""Adaptive weight balancing an adversarial term against a reconstruction term.

From VQGAN (Esser et al., "Taming Transformers", https://arxiv.org/abs/2012.09841, eq. 7):
``w = ||grad_W L_num|| / (||grad_W L_den|| + eps)`` with ``W`` the last decoder layer's
weight, so the adversarial gradient reaching the decoder has the norm of the reconstruction
gradient. Here the denominator is ``max(||grad_W L_den||, eps)``, norms are taken in fp32
(fp16 norms overflow), and the result is clamped to ``[0, max_weight]``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["adaptive_weight"]


def adaptive_weight(
    num_loss: Tensor,
    den_loss: Tensor,
    last_layer_weight: Tensor,
    eps: float = 1e-4,
    max_weight: float = 1e4,
    nonfinite_value: float = 0.0,
) -> Tensor:
    """``||d num/dW|| / max(||d den/dW||, eps)``, detached, clamped to ``[0, max_weight]``.

    Both graphs are kept (``retain_graph=True``) so the caller can still back-propagate the
    losses. A loss that does not depend on ``W`` has a zero gradient.

    Args:
        num_loss: scalar loss of the numerator (e.g. the perceptual reconstruction term).
        den_loss: scalar loss of the denominator (the adversarial generator term).
        last_layer_weight: the parameter ``W`` (must require grad).
        eps: floor of the denominator norm.
        max_weight: upper clamp.
        nonfinite_value: returned when the ratio is NaN or infinite (e.g. overflowed
            gradients in low precision). The default 0 switches the adversarial term off for
            that step, which is the safe choice: the reconstruction gradient is unaffected.

    Returns:
        Detached fp32 scalar tensor on ``W``'s device.
    """
    if not isinstance(last_layer_weight, Tensor) or not last_layer_weight.requires_grad:
        raise ValueError("last_layer_weight must be a tensor that requires grad")
    if eps <= 0 or max_weight <= 0:
        raise ValueError(f"eps and max_weight must be positive, got {eps}, {max_weight}")
    if not math.isfinite(nonfinite_value) or not 0 <= nonfinite_value <= max_weight:
        raise ValueError(f"nonfinite_value must lie in [0, max_weight], got {nonfinite_value}")

    def grad_norm(loss: Tensor) -> Tensor:
        if loss.dim() != 0:
            raise ValueError(f"losses must be scalars, got shape {tuple(loss.shape)}")
        if not loss.requires_grad:
            return torch.zeros((), dtype=torch.float32, device=last_layer_weight.device)
        (grad,) = torch.autograd.grad(loss, last_layer_weight, retain_graph=True, allow_unused=True)
        if grad is None:
            return torch.zeros((), dtype=torch.float32, device=last_layer_weight.device)
        return grad.detach().float().norm(2)

    with torch.enable_grad():
        num = grad_norm(num_loss)
        den = grad_norm(den_loss)
    w = num / den.clamp_min(eps)
    if not torch.isfinite(w):
        return torch.full((), nonfinite_value, dtype=torch.float32, device=w.device)
    return w.clamp(0.0, max_weight).detach()
