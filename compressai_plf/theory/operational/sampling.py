"""Vector Gauss-Markov sequences in torch: ``d`` i.i.d. copies of the scalar source.

The scalar model is :class:`~compressai_plf.theory.GaussMarkovSource` (the Gaussian analysis of
https://arxiv.org/abs/2305.19301); a frame here is ``d`` independent components, each one
sequence of that source, so per-component distortions and rates compare with the scalar theory.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..source import GaussMarkovSource

__all__ = ["sample_sequences"]


def sample_sequences(
    source: GaussMarkovSource, dim: int, n: int, generator: torch.Generator | None = None
) -> Tensor:
    """``n`` sequences of ``source.frames`` frames of ``dim`` components, shape ``(n, T, dim)``.

    Raises:
        ValueError: if ``dim`` or ``n`` is not a positive int.
    """
    for name, value in (("dim", dim), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    noise = torch.randn(n, source.frames, dim, generator=generator)
    frames = [noise[:, 0] * source.stds[0]]
    for j in range(1, source.frames):
        innovation = float(source.innovation_variances[j - 1]) ** 0.5
        frames.append(float(source.rhos[j - 1]) * frames[-1] + innovation * noise[:, j])
    return torch.stack(frames, 1)
