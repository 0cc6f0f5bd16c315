"""A CompressAI-style video model (``ssf2020``) as a :class:`~compressai_plf.eval.codec.ClipCodec`.

CompressAI's ``ScaleSpaceFlow`` (Agustsson et al., "Scale-space flow for end-to-end optimized
video compression", CVPR 2020) takes RGB frames whose sizes are multiples of 128 (its
hyperprior downsamples by 64 and its scale-space pyramid once more). Gray clips are
replicated to three channels, frames are padded on the right and bottom to the next
multiple by replicating the border (as ``compressai_plf.io`` pads for ``ssf_plf``), and the
decoded frames are cropped back and averaged over channels, so rate and distortion are
measured on the same pixels as for any other codec. The bytes written are the model's
strings (CompressAI writes no container).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from ..io.clip_frames import check_as_given, crop_frames, pad_frames
from .clips import EvalClip
from .codec import CodedResult


def string_bytes(strings: Any) -> int:
    """Total bytes in (nested lists or dicts of) CompressAI strings."""
    if isinstance(strings, (bytes, bytearray)):
        return len(strings)
    if isinstance(strings, Mapping):
        return sum(string_bytes(s) for s in strings.values())
    if isinstance(strings, (list, tuple)):
        return sum(string_bytes(s) for s in strings)
    raise TypeError(f"expected bytes or nested lists of bytes, got {type(strings).__name__}")


class CompressAIVideoCodec:
    """One clip in, decoded clip and per-frame bits out, through ``compress``/``decompress``.

    Args:
        model: a CompressAI video model with ``compress(frames)`` / ``decompress(strings,
            shapes)`` over lists of ``(1, 3, H, W)`` frames; ``update(force=True)`` is called.
        label: the rate point's label.
        multiple: frame sizes are padded to a multiple of this (128 for ``ssf2020``).
        channels: the model's input channels (3 for ``ssf2020``).
    """

    heads = ("mse",)

    def __init__(
        self, model: nn.Module, label: Any = "", multiple: int = 128, channels: int = 3
    ) -> None:
        if multiple < 1:
            raise ValueError(f"multiple must be >= 1, got {multiple}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        self.model = model.eval()
        self.model.update(force=True)
        self.label, self.multiple, self.channels = label, multiple, channels

    def code(self, clip: EvalClip, index: int) -> CodedResult:
        recon, bits = self.code_frames(clip.frames)
        total = int(sum(bits))
        return CodedResult({"mse": recon}, bits, total // 8, total)

    @torch.no_grad()
    def code_frames(self, clip: Tensor) -> tuple[Tensor, list[float]]:
        """Code a (T, C, H, W) clip in [0, 1], C = 1 (gray) or 3 (RGB): the decoded clip
        and the bits of each frame's strings."""
        if not isinstance(clip, Tensor) or clip.dim() != 4 or clip.shape[1] not in (1, 3):
            raise ValueError("clip must be a (T, C, H, W) tensor with C = 1 or 3")
        t, c, h, w = clip.shape
        # the models' frame checks on the frames as given (io.clip_frames.check_as_given):
        # NaN/Inf or values outside [0, 1] are named by frame
        check_as_given(c, [clip[i : i + 1] for i in range(t)])
        if c > self.channels:
            raise ValueError(f"clip has {c} channels, the model codes {self.channels}")
        x = clip.float().expand(t, self.channels, h, w)
        frames = pad_frames([x[i : i + 1] for i in range(t)], self.multiple)
        strings, shapes = self.model.compress(frames)
        decoded = crop_frames(self.model.decompress(strings, shapes), h, w)
        recon = torch.cat(decoded).clamp(0, 1)
        if c < self.channels:
            recon = recon.mean(1, keepdim=True)
        return recon, [8.0 * string_bytes(s) for s in strings]
