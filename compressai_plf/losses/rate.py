"""Rate of a CompressAI likelihood structure, in bits.

CompressAI models return ``"likelihoods"`` as a dict (image models) or, for video, a list with
one dict per frame whose values are dicts of tensors, e.g.
``[{"keyframe": {"y": t, "z": t}}, {"motion": {"y": t, "z": t}, "residual": {...}}]``.
The rate of a latent with likelihoods ``p`` is ``sum(-log2 p)`` bits. With the fixed-rate coder
of the PLF paper (https://arxiv.org/abs/2305.19301) every likelihood is ``1/L``, so the sum is
the exact fixed bit count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

__all__ = ["bits_per_pixel", "total_bits"]


def _leaves(likelihoods: Any) -> list[Tensor]:
    if isinstance(likelihoods, Tensor):
        return [likelihoods]
    if isinstance(likelihoods, Mapping):
        items = list(likelihoods.values())
    elif isinstance(likelihoods, Sequence) and not isinstance(likelihoods, str | bytes):
        items = list(likelihoods)
    else:
        raise TypeError(
            "likelihoods must be a tensor or a nested list/tuple/dict of tensors, "
            f"got {type(likelihoods).__name__}"
        )
    leaves = []
    for item in items:
        leaves.extend(_leaves(item))
    return leaves


def total_bits(likelihoods: Any, per_sample: bool = False) -> Tensor:
    """Sum of ``-log2(p)`` over every tensor of a nested likelihood structure.

    Args:
        likelihoods: a tensor, or any nesting of lists, tuples and dicts of tensors whose
            first dimension is the batch (CompressAI's ``output["likelihoods"]``).
        per_sample: if True, return one bit count per batch element, shape ``(B,)``
            (every tensor must then share the batch size); else a scalar total over the batch.

    Returns:
        The bit count (differentiable with respect to the likelihoods).

    Raises:
        TypeError: on a leaf that is not a tensor.
        ValueError: if the structure holds no tensor, or batch sizes differ with
            ``per_sample=True``.
    """
    leaves = _leaves(likelihoods)
    if not leaves:
        raise ValueError("likelihoods holds no tensor")
    if per_sample:
        batch = {t.shape[0] if t.dim() > 0 else None for t in leaves}
        if len(batch) != 1 or None in batch:
            raise ValueError(f"per_sample=True needs one shared batch size, got {sorted(batch)}")
        return sum(-torch.log2(t).flatten(1).sum(1) for t in leaves)
    return sum(-torch.log2(t).sum() for t in leaves)


def bits_per_pixel(likelihoods: Any, num_pixels: int) -> Tensor:
    """Total bits divided by ``num_pixels`` (CompressAI convention: ``num_pixels`` counts the
    batch, e.g. ``B * T * H * W`` for a batch of ``T``-frame clips).

    Args:
        likelihoods: see :func:`total_bits`.
        num_pixels: positive pixel count to divide by.

    Returns:
        Scalar tensor, bits per pixel.
    """
    if isinstance(num_pixels, bool) or not isinstance(num_pixels, int) or num_pixels <= 0:
        raise ValueError(f"num_pixels must be a positive int, got {num_pixels!r}")
    return total_bits(likelihoods) / num_pixels
