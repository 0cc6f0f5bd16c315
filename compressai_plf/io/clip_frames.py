"""Checking, padding and cropping the frames of one clip for ``write_clip``/``read_clip``.

The model needs frame sides that are multiples of ``model.size_multiple``; the container
records the original size, frames are padded (replicating the last row and column, which
costs fewer bits than zeros) before coding and cropped back after decoding.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor

from ..models.frame_geometry import check_frame_geometry, check_frame_values
from .container import MAX_FRAME_PIXELS, MAX_FRAMES, MAX_SIDE

_CLIP_FORMS = (
    "a list of (C, H, W) or (1, C, H, W) tensors, a (T, C, H, W) tensor or a (1, T, C, H, W) tensor"
)


def clip_frames(frames: Tensor | Sequence[Tensor]) -> list[Tensor]:
    """Bring one clip into the model's form, a list of ``(1, C, H, W)`` tensors, checking
    what only a container needs (one clip, its size limits, float frames). The frames' values
    and channels are the model's checks (:func:`check_as_given`).

    Args:
        frames: the clip, in any of the forms named in the error messages.

    Raises:
        TypeError: for a wrong container or dtype.
        ValueError: for a batch of several clips, wrong rank or sizes.
    """
    if isinstance(frames, Tensor):
        if frames.dim() == 5:
            if frames.shape[0] != 1:
                raise ValueError(
                    f"write_clip codes one clip at a time, got a batch of {frames.shape[0]} "
                    "(B, T, C, H, W); call it once per clip"
                )
            frames = frames[0]
        if frames.dim() != 4:
            raise ValueError(
                f"frames must be {_CLIP_FORMS}, got a tensor of shape {tuple(frames.shape)}"
            )
        frames = list(frames.unbind(0))
    if not isinstance(frames, (list, tuple)):
        raise TypeError(f"frames must be {_CLIP_FORMS}, got {type(frames).__name__}")
    if not frames:
        raise ValueError("frames is empty: a clip needs at least one frame")
    if len(frames) > MAX_FRAMES:
        raise ValueError(f"a clip holds at most {MAX_FRAMES} frames, got {len(frames)}")
    out = []
    for i, x in enumerate(frames):
        if not isinstance(x, Tensor):
            raise TypeError(f"frame {i} must be a tensor, got {type(x).__name__}")
        if x.dim() == 4:
            if x.shape[0] != 1:
                raise ValueError(
                    f"frame {i} has batch size {x.shape[0]}; write_clip codes one clip at a "
                    "time (batch size 1), call it once per clip"
                )
            x = x[0]
        if x.dim() != 3:
            raise ValueError(f"frame {i} must be (C, H, W) or (1, C, H, W), got {tuple(x.shape)}")
        if not x.is_floating_point():
            raise TypeError(f"frame {i} must be a float tensor in [0, 1], got {x.dtype}")
        if out and x.shape != out[0].shape[1:]:
            raise ValueError(
                f"frame {i} has shape {tuple(x.shape)}, frame 0 has {tuple(out[0].shape[1:])}"
            )
        out.append(x.unsqueeze(0))
    _, _, h, w = out[0].shape
    if not (0 < h <= MAX_SIDE and 0 < w <= MAX_SIDE):
        raise ValueError(f"frame size {h}x{w} outside the supported 1..{MAX_SIDE} per side")
    if h * w > MAX_FRAME_PIXELS:
        raise ValueError(f"frame size {h}x{w} exceeds the limit of {MAX_FRAME_PIXELS} pixels")
    return out


def check_as_given(channels: int, frames: list[Tensor]) -> None:
    """Run the model's frame checks (channels, NaN/Inf, range [0, 1]) on each frame of a
    :func:`clip_frames` clip as the caller gave it, before padding and casting (so any size
    and float dtype pass here), so that an error describes the caller's values and names the
    frame.

    Args:
        channels: the model's channel count (``model.channels``).
        frames: the clip's ``(1, C, H, W)`` frames.

    Raises:
        FrameGeometryError: for a frame with other channels than the model's.
        ValueError: ``"frame i ..."`` for NaN/Inf or values outside [0, 1].
    """
    for i, x in enumerate(frames):
        check_frame_geometry(x, channels, 1, x.dtype, f"frame {i}")
        check_frame_values(x, f"frame {i}")


def padded_size(height: int, width: int, multiple: int) -> tuple[int, int]:
    """Smallest size >= ``(height, width)`` whose sides are multiples of ``multiple``."""
    return -(-height // multiple) * multiple, -(-width // multiple) * multiple


def pad_frames(frames: list[Tensor], multiple: int) -> list[Tensor]:
    """Replicate-pad every frame at the bottom and right to a multiple of ``multiple``."""
    h, w = frames[0].shape[-2:]
    ph, pw = padded_size(h, w, multiple)
    if (ph, pw) == (h, w):
        return frames
    return [F.pad(x, (0, pw - w, 0, ph - h), mode="replicate") for x in frames]


def crop_frames(frames: list[Tensor], height: int, width: int) -> list[Tensor]:
    """Undo :func:`pad_frames`."""
    return [x[..., :height, :width] for x in frames]
