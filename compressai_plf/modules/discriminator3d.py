"""3D-then-2D residual discriminator for video clips.

The video reconstruction objective (MSE + LPIPS + hinge GAN, as in VQGAN,
https://arxiv.org/abs/2012.09841, extended to video by MAGVIT, https://arxiv.org/abs/2212.05199,
and MAGVIT-v2, https://arxiv.org/abs/2310.05737) judges whole clips. Residual blocks of 3x3x3
convolutions first shrink time and space; time is then folded into the batch and 2D residual
blocks continue on each remaining time step; a head averages the per-step logits into one
logit per clip. Every stride-2 step is preceded by a ``[1, 2, 1]`` blur (anti-aliasing,
https://arxiv.org/abs/1904.11486) unless ``antialias=False``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from compressai.registry import register_module
from torch import Tensor, nn

from .antialias import BlurDownsample2d, BlurDownsample3d
from .image_size import pair_size

__all__ = ["Discriminator3D"]


class _ResBlock3d(nn.Module):
    """Two 3x3x3 convs + LeakyReLU(0.1), downsampling H, W (and T if ``time``) by 2."""

    def __init__(self, cin: int, cout: int, time: bool, antialias: bool, slope: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv3d(cin, cout, 3, padding=1),
            nn.LeakyReLU(slope),
            nn.Conv3d(cout, cout, 3, padding=1),
            nn.LeakyReLU(slope),
            BlurDownsample3d(time=time, antialias=antialias),
        )
        self.skip = nn.Sequential(
            BlurDownsample3d(time=time, antialias=antialias), nn.Conv3d(cin, cout, 1, bias=False)
        )

    def forward(self, x: Tensor) -> Tensor:
        # 1/sqrt(2) keeps the residual sum's variance that of one branch.
        return (self.body(x) + self.skip(x)) / math.sqrt(2.0)


class _ResBlock2d(nn.Module):
    """Two 3x3 convs + LeakyReLU(0.1), downsampling H and W by 2."""

    def __init__(self, cin: int, cout: int, antialias: bool, slope: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1),
            nn.LeakyReLU(slope),
            nn.Conv2d(cout, cout, 3, padding=1),
            nn.LeakyReLU(slope),
            BlurDownsample2d(antialias=antialias),
        )
        self.skip = nn.Sequential(
            BlurDownsample2d(antialias=antialias), nn.Conv2d(cin, cout, 1, bias=False)
        )

    def forward(self, x: Tensor) -> Tensor:
        return (self.body(x) + self.skip(x)) / math.sqrt(2.0)


@register_module("Discriminator3D")
class Discriminator3D(nn.Module):
    r"""Clip discriminator: 3D residual blocks, then 2D residual blocks per time step.

    Input ``(B, C, T, H, W)``, output one logit per clip, shape ``(B,)``. Each 3D block halves
    H and W, and T while T > 1 (``ceil``, so odd lengths such as 3 work); each 2D block halves
    H and W. With the default 2 + 3 blocks, H and W must be multiples of 32.

    Args:
        frames: clip length T the discriminator is built for (e.g. 2, 4, 8, 16; any >= 1).
        image_size: H = W, or ``(H, W)``; multiples of ``2 ** (len(widths_3d) + len(widths_2d))``.
        channels: input channels C (3 for RGB, 1 for grey).
        widths_3d: output width of each 3D residual block.
        widths_2d: output width of each 2D residual block.
        stem_width: width of the first 3x3x3 conv (default ``widths_3d[0]``).
        antialias: blur before every stride-2 step.
        negative_slope: LeakyReLU slope.
    """

    def __init__(
        self,
        frames: int = 4,
        image_size: int | Sequence[int] = 64,
        channels: int = 3,
        widths_3d: Sequence[int] = (64, 128),
        widths_2d: Sequence[int] = (256, 256, 256),
        stem_width: int | None = None,
        antialias: bool = True,
        negative_slope: float = 0.1,
    ) -> None:
        super().__init__()
        if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
            raise ValueError(f"frames must be a positive int, got {frames!r}")
        if channels < 1:
            raise ValueError(f"channels must be positive, got {channels}")
        if len(widths_3d) < 1 or any(w < 1 for w in (*widths_3d, *widths_2d)):
            raise ValueError("widths_3d needs at least one block and widths must be positive")
        self.frames = frames
        self.channels = channels
        self.image_size = pair_size(image_size)
        factor = 2 ** (len(widths_3d) + len(widths_2d))
        if any(s % factor for s in self.image_size):
            raise ValueError(
                f"image_size {self.image_size} must be a multiple of {factor} "
                f"({len(widths_3d)} 3D + {len(widths_2d)} 2D downsampling blocks)"
            )

        stem = stem_width or widths_3d[0]
        self.stem = nn.Sequential(
            nn.Conv3d(channels, stem, 3, padding=1), nn.LeakyReLU(negative_slope)
        )
        blocks3d, cin, t = [], stem, frames
        for w in widths_3d:
            blocks3d.append(_ResBlock3d(cin, w, t > 1, antialias, negative_slope))
            t = (t + 1) // 2 if t > 1 else 1
            cin = w
        self.blocks3d = nn.Sequential(*blocks3d)
        self.folded_frames = t
        blocks2d = []
        for w in widths_2d:
            blocks2d.append(_ResBlock2d(cin, w, antialias, negative_slope))
            cin = w
        self.blocks2d = nn.Sequential(*blocks2d)
        self.head = nn.Sequential(nn.Conv2d(cin, cin, 3, padding=1), nn.LeakyReLU(negative_slope))
        self.logit = nn.Linear(cin, 1)

    def forward(self, x: Tensor) -> Tensor:
        expected = (self.channels, self.frames, *self.image_size)
        if x.dim() != 5 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                f"Discriminator3D expects (B, C, T, H, W) = (B, {', '.join(map(str, expected))}), "
                f"got {tuple(x.shape)}"
            )
        h = self.blocks3d(self.stem(x))
        b, c, t, hh, ww = h.shape
        h = h.transpose(1, 2).reshape(b * t, c, hh, ww)  # fold time into the batch
        h = self.head(self.blocks2d(h))
        logits = self.logit(h.mean((2, 3))).view(b, t)
        return logits.mean(1)

    @staticmethod
    def stack(frames: Sequence[Tensor]) -> Tensor:
        """Stack a list of ``(B, C, H, W)`` frames into a ``(B, C, T, H, W)`` clip."""
        return torch.stack(list(frames), dim=2)
