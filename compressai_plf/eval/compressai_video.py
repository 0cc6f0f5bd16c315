"""Code clips with a CompressAI-style video model (``ssf2020``, ``ssf_plf``) to real bitstreams.

CompressAI's ``ScaleSpaceFlow`` (Agustsson et al., "Scale-space flow for end-to-end optimized
video compression", CVPR 2020) takes RGB frames whose sizes are multiples of 128 (its
hyperprior downsamples by 64 and its scale-space pyramid once more). Gray clips are
replicated to three channels, frames are zero-padded on the right and bottom to the next
multiple, and the decoded frames are cropped back and averaged over channels, so rate and
distortion are measured on the same pixels as for any other codec. The bits are the bytes of
the model's strings (the payload; no container). ``ssf_plf`` in hyperprior mode follows the
same ``compress``/``decompress`` semantics (MMSE head) and goes through the same path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..anchors.rd_sweep import rd_sweep


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
        multiple: frame sizes are padded to a multiple of this (128 for ``ssf2020``).
        channels: the model's input channels (3 for ``ssf2020``).
    """

    def __init__(self, model: nn.Module, multiple: int = 128, channels: int = 3) -> None:
        if multiple < 1:
            raise ValueError(f"multiple must be >= 1, got {multiple}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        self.model = model.eval()
        self.model.update(force=True)
        self.multiple, self.channels = multiple, channels

    @torch.no_grad()
    def __call__(self, clip: Tensor) -> tuple[Tensor, list[float]]:
        """Code a (T, C, H, W) clip in [0, 1], C = 1 (gray) or 3 (RGB)."""
        if not isinstance(clip, Tensor) or clip.dim() != 4 or clip.shape[1] not in (1, 3):
            raise ValueError("clip must be a (T, C, H, W) tensor with C = 1 or 3")
        if not torch.isfinite(clip).all() or clip.min() < 0 or clip.max() > 1:
            raise ValueError("clip values must be finite and in [0, 1]")
        t, c, h, w = clip.shape
        if c > self.channels:
            raise ValueError(f"clip has {c} channels, the model codes {self.channels}")
        x = clip.float().expand(t, self.channels, h, w)
        ph, pw = -h % self.multiple, -w % self.multiple
        x = F.pad(x, (0, pw, 0, ph))
        frames = [x[i : i + 1] for i in range(t)]
        strings, shapes = self.model.compress(frames)
        decoded = self.model.decompress(strings, shapes)
        recon = torch.cat(decoded)[:, :, :h, :w].clamp(0, 1)
        if c < self.channels:
            recon = recon.mean(1, keepdim=True)
        return recon, [8.0 * string_bytes(s) for s in strings]


def compressai_video_sweep(
    models: Sequence[tuple[int, nn.Module]],
    clips: Tensor,
    name: str,
    description: str = "",
    fps: float = 25.0,
    multiple: int = 128,
    channels: int = 3,
    progress: bool = False,
) -> dict:
    """Rate-distortion results (the anchors' layout, :func:`rd_sweep`) of video models, one
    per rate point, given as ``(quality label, model)`` pairs."""
    codecs = {q: CompressAIVideoCodec(m, multiple, channels) for q, m in models}
    code = lambda q, clip: codecs[q](clip)  # noqa: E731
    return rd_sweep(code, clips, list(codecs), name, description, fps, progress)
