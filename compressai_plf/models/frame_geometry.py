"""The frame check every coding path of a model runs first: channels, size and dtype.

``forward``/``compress`` check whole clips, CompressAI's per-frame API
(``encode_keyframe``/``encode_inter``, ``forward_keyframe``/``forward_inter``,
``decode_inter``) checks each frame it is handed; both call :func:`check_frame_geometry`, so a
gray frame given to an RGB model (or a frame of the wrong size) is refused by name before torch
fails inside a convolution.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

__all__ = ["FrameGeometryError", "check_frame_geometry", "check_frame_values"]

# Tolerance on [0, 1]: frames converted from 8-bit or YUV may overshoot by rounding.
VALUE_TOLERANCE = 1e-3


class FrameGeometryError(ValueError):
    """A frame's channels or size do not fit the model (a ``ValueError``, as before)."""


def check_frame_geometry(
    x: Any, channels: int, multiple: int, dtype: torch.dtype, name: str = "frame"
) -> Tensor:
    """Refuse a frame the model cannot code.

    Args:
        x: the frame, a ``(B, C, H, W)`` float tensor.
        channels: the model's channel count.
        multiple: the model's ``size_multiple`` (height and width must be multiples of it).
        dtype: the model's weight dtype.
        name: how the frame is named in messages (``"frame 2"``, ``"x_ref"``).

    Raises:
        FrameGeometryError: not 4-D, no pixels or empty batch, other channels, a size that is
            not a multiple of ``multiple``.
        TypeError: not a float tensor, or not ``dtype``.
    """
    if not isinstance(x, Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise FrameGeometryError(f"{name} must be a (B, C, H, W) tensor, got {shape}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a float tensor in [0, 1], got {x.dtype}")
    if x.dtype != dtype:  # else torch fails deep inside a convolution
        raise TypeError(
            f"{name} is {x.dtype}, the model's weights are {dtype}; convert the frames "
            f"(x.to({dtype})) or the model"
        )
    b, c, h, w = x.shape
    if b == 0 or h == 0 or w == 0:
        raise FrameGeometryError(f"frames must not be empty, got shape {tuple(x.shape)}")
    if c != channels:
        raise FrameGeometryError(
            f"{name} has {c} channels, the model expects {channels}"
            + (" (a gray model: code the luma plane)" if channels == 1 and c == 3 else "")
        )
    if h % multiple or w % multiple:
        raise FrameGeometryError(
            f"frame size {h}x{w} is not a multiple of {multiple} (required by this "
            "architecture); pad the frames (e.g. compressai.ops.compute_padding)"
        )
    return x


def check_frame_values(x: Tensor, name: str = "frame") -> None:
    """Refuse a source frame whose values are not finite or lie outside [0, 1] (within
    :data:`VALUE_TOLERANCE`); ``name`` says which frame in the message.

    Raises:
        ValueError: NaN or Inf, or values outside [0, 1].
    """
    x = x.detach()
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or Inf")
    lo, hi = x.min().item(), x.max().item()
    if lo < -VALUE_TOLERANCE or hi > 1 + VALUE_TOLERANCE:
        raise ValueError(f"{name} must lie in [0, 1], got values in [{lo:.3g}, {hi:.3g}]")
