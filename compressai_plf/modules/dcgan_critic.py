"""DCGAN-style Wasserstein critic on frames stacked along channels (the PLF paper's design).

Salehkalaibar et al., "On the choice of perception loss function for learned video
compression", NeurIPS 2023, https://arxiv.org/abs/2305.19301: the critics are DCGAN
discriminators (Radford et al., https://arxiv.org/abs/1511.06434) without batch norm (WGAN-GP,
https://arxiv.org/abs/1704.00028, forbids it), with spectral norm (Miyato et al.,
https://arxiv.org/abs/1802.05957) on the first three convolutions, taking the compared frames
concatenated along channels and returning one unbounded score.
"""

from __future__ import annotations

from collections.abc import Sequence

from compressai.registry import register_module
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from .image_size import pair_size

__all__ = ["DCGANCritic"]


@register_module("DCGANCritic")
class DCGANCritic(nn.Module):
    """Stride-2 4x4 convolutions + LeakyReLU(0.2), then a linear score; input ``(B, k*C, H, W)``.

    Args:
        channels: channels C of one frame (1 for Moving MNIST, 3 for RGB).
        frames: number k of frames stacked along channels.
        image_size: H = W, or ``(H, W)``; multiples of ``2 ** len(widths)``.
        widths: output width of each stride-2 convolution. The default is half the width of
            the DCGAN discriminator (64, 128, 256, 512): at 64x64 it costs a quarter of the
            compute, which on a CPU decides whether a PLF training block (5 critic steps + 1
            codec step, batch 64) fits in 9 s (``benchmarks/train_speed.py``, docs/training.md).
            Pass ``(64, 128, 256, 512)`` for the full DCGAN width.
        spectral_layers: how many leading convolutions get spectral norm (paper: 3).
        negative_slope: LeakyReLU slope.

    Output: one score per sample, shape ``(B,)``.
    """

    def __init__(
        self,
        channels: int = 3,
        frames: int = 1,
        image_size: int | Sequence[int] = 64,
        widths: Sequence[int] = (32, 64, 128, 256),
        spectral_layers: int = 3,
        negative_slope: float = 0.2,
    ) -> None:
        super().__init__()
        if channels < 1 or frames < 1:
            raise ValueError(f"channels and frames must be positive, got {channels}, {frames}")
        if not widths or any(w < 1 for w in widths):
            raise ValueError(f"widths must be a non-empty list of positive ints, got {widths}")
        self.channels, self.frames = channels, frames
        self.image_size = pair_size(image_size)
        factor = 2 ** len(widths)
        if any(s % factor for s in self.image_size):
            raise ValueError(f"image_size {self.image_size} must be a multiple of {factor}")
        layers, cin = [], channels * frames
        for i, w in enumerate(widths):
            conv = nn.Conv2d(cin, w, 4, stride=2, padding=1)
            layers += [spectral_norm(conv) if i < spectral_layers else conv]
            # in place: the convolutions' backward needs their inputs, not their outputs
            layers += [nn.LeakyReLU(negative_slope, inplace=True)]
            cin = w
        self.features = nn.Sequential(*layers)
        h, w = (s // factor for s in self.image_size)
        self.score = nn.Linear(cin * h * w, 1)

    def forward(self, x: Tensor) -> Tensor:
        expected = (self.channels * self.frames, *self.image_size)
        if x.dim() != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                f"DCGANCritic expects (B, {self.frames} frames x {self.channels} channels, "
                f"{self.image_size[0]}, {self.image_size[1]}), got {tuple(x.shape)}"
            )
        return self.score(self.features(x).flatten(1)).squeeze(1)
