"""Temporarily stop parameters from collecting gradients.

A generator (codec) loss runs the critic on the reconstruction; freezing the critic's
parameters for that forward pass keeps the codec's backward from writing critic gradients, so
critic gradients come only from the critic loss (the standard alternating GAN update).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn

__all__ = ["frozen_parameters"]


@contextmanager
def frozen_parameters(*modules: nn.Module | None) -> Iterator[None]:
    """Set ``requires_grad=False`` on the modules' parameters, restoring the flags on exit.

    Args:
        modules: modules (``None`` entries are skipped).
    """
    params = [p for m in modules if m is not None for p in m.parameters()]
    flags = [p.requires_grad for p in params]
    try:
        for p in params:
            p.requires_grad_(False)
        yield
    finally:
        for p, flag in zip(params, flags, strict=True):
            p.requires_grad_(flag)
