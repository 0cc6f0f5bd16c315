"""The small multilayer perceptrons of the learned Gauss-Markov codec.

Used by :mod:`compressai_plf.theory.operational` (after https://arxiv.org/abs/2305.19301).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["Constant", "mlp"]


class Constant(nn.Module):
    """A learned output that ignores its (empty) input: the decoder of a zero-rate frame."""

    def __init__(self, out_features: int) -> None:
        super().__init__()
        self.value = nn.Parameter(torch.zeros(out_features))

    def forward(self, x: Tensor) -> Tensor:
        return self.value.expand(x.shape[0], -1)


def mlp(in_features: int, out_features: int, hidden: int, zero_last: bool = False) -> nn.Module:
    """Two hidden ReLU layers of width ``hidden``; a :class:`Constant` when there is no input.

    ``zero_last`` starts the output at zero, so a residual head starts as what it refines.
    """
    if in_features == 0:
        return Constant(out_features)
    last = nn.Linear(hidden, out_features)
    if zero_last:
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
    return nn.Sequential(
        nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), last
    )
