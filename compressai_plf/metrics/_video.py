"""Shared input handling for per-frame video metrics."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

VideoLike = Tensor | Sequence[Tensor]

_SHAPE_HELP = (
    "pass a 5-D (N, T, C, H, W) tensor or a list of T tensors of shape (N, C, H, W); "
    "for a single clip of shape (T, C, H, W) use clip.unsqueeze(0)"
)


def as_video(x: VideoLike, name: str = "video") -> Tensor:
    """Return ``x`` as a float (N, T, C, H, W) tensor.

    Args:
        x: a 5-D tensor or a list/tuple of 4-D frame batches (CompressAI's video models
            return lists of frames).
        name: argument name used in error messages.
    """
    if isinstance(x, (list, tuple)):
        if len(x) == 0:
            raise ValueError(f"{name}: empty frame list")
        if not all(isinstance(f, Tensor) and f.dim() == 4 for f in x):
            raise ValueError(f"{name}: every frame must be a 4-D tensor; {_SHAPE_HELP}")
        x = torch.stack(list(x), dim=1)
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a tensor or a list of tensors, got {type(x).__name__}")
    if x.dim() != 5:
        raise ValueError(
            f"{name}: got a {x.dim()}-D tensor of shape {tuple(x.shape)}; {_SHAPE_HELP}"
        )
    return x.float()


def as_video_pair(source: VideoLike, recon: VideoLike) -> tuple[Tensor, Tensor]:
    """Return source and reconstruction as (N, T, C, H, W) tensors of equal shape."""
    x = as_video(source, "source")
    x_hat = as_video(recon, "recon")
    if x.shape != x_hat.shape:
        raise ValueError(
            f"source and recon shapes differ: {tuple(x.shape)} vs {tuple(x_hat.shape)}"
        )
    return x, x_hat


def to_gray(x: Tensor) -> Tensor:
    """Collapse the channel axis (dim -3) to one luma channel (BT.601 weights for RGB)."""
    c = x.shape[-3]
    if c == 1:
        return x
    if c == 3:
        w = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device)
        return (x * w.view(3, 1, 1)).sum(dim=-3, keepdim=True)
    raise ValueError(f"expected 1 (gray) or 3 (RGB) channels, got {c}")


def check_reduction(reduction: str) -> None:
    if reduction not in ("mean", "none"):
        raise ValueError(f'reduction must be "mean" or "none", got {reduction!r}')
