"""Validation and access helpers shared by the video criteria.

Video criteria take CompressAI's video output dict ``{"x_hat": [per frame], "likelihoods":
[per frame]}`` and the source frames as a list of ``(B, C, H, W)`` tensors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import Tensor

__all__ = ["check_video", "likelihoods_of", "reconstructions"]


def reconstructions(output: Any) -> list[Tensor]:
    """The reconstructed frames of a video output dict, or the list itself if given one."""
    if isinstance(output, Mapping):
        if "x_hat" not in output:
            raise ValueError("output dict has no 'x_hat' entry")
        output = output["x_hat"]
    if isinstance(output, Tensor) or not isinstance(output, Sequence):
        raise TypeError(
            "expected a video output dict or a list of (B, C, H, W) frames, "
            f"got {type(output).__name__}"
        )
    return list(output)


def likelihoods_of(output: Any) -> Any:
    """``output["likelihoods"]`` of a video output dict, with a clear error when absent."""
    if not isinstance(output, Mapping):
        raise TypeError(f"output must be a video output dict, got {type(output).__name__}")
    if "likelihoods" not in output:
        raise ValueError("output dict has no 'likelihoods' entry (needed for the rate)")
    return output["likelihoods"]


def check_video(frames: Sequence[Tensor], recon: Sequence[Tensor]) -> tuple[int, ...]:
    """Check two equally long lists of equal ``(B, C, H, W)`` frames.

    Returns:
        ``(T, B, C, H, W)``.
    """
    if isinstance(frames, Tensor) or not isinstance(frames, Sequence) or len(frames) == 0:
        raise TypeError("frames must be a non-empty list of (B, C, H, W) tensors")
    if len(recon) != len(frames):
        raise ValueError(f"got {len(recon)} reconstructed frames for {len(frames)} frames")
    shape = tuple(frames[0].shape)
    if len(shape) != 4:
        raise ValueError(f"frames must be (B, C, H, W) tensors, got shape {shape}")
    for i, (x, r) in enumerate(zip(frames, recon, strict=True)):
        if not isinstance(x, Tensor) or not isinstance(r, Tensor):
            raise TypeError(f"frame {i} is not a tensor")
        if tuple(x.shape) != shape or tuple(r.shape) != shape:
            raise ValueError(
                f"frame {i}: source {tuple(x.shape)} and reconstruction {tuple(r.shape)} "
                f"must both have shape {shape}"
            )
    return (len(frames), *shape)
