"""3D-convolution Wasserstein critic for stacked frames of larger sizes.

A variant of the PLF paper's critic (https://arxiv.org/abs/2305.19301) whose size does not grow
with the frame size or the number of compared frames: the channel stack ``(B, k*C, H, W)`` is
unfolded into a ``(B, C, k, H, W)`` clip, 3x4x4 convolutions (stride 2 in space only) extract
features, and a global average feeds a linear score. Spectral norm
(https://arxiv.org/abs/1802.05957) on the first three convolutions, no batch norm (WGAN-GP,
https://arxiv.org/abs/1704.00028).
"""

from __future__ import annotations

from collections.abc import Sequence

from compressai.registry import register_module
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

__all__ = ["Critic3D"]


@register_module("Critic3D")
class Critic3D(nn.Module):
    """Space-downsampling 3D critic; input frames stacked along channels, ``(B, k*C, H, W)``.

    Works for any number k of stacked frames and any H, W divisible by ``2 ** len(widths)``.

    Args:
        channels: channels C of one frame.
        widths: output width of each stride-(1, 2, 2) 3x4x4 convolution.
        spectral_layers: how many leading convolutions get spectral norm.
        negative_slope: LeakyReLU slope.

    Output: one score per sample, shape ``(B,)``.
    """

    def __init__(
        self,
        channels: int = 3,
        widths: Sequence[int] = (32, 64, 128, 256),
        spectral_layers: int = 3,
        negative_slope: float = 0.2,
    ) -> None:
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be positive, got {channels}")
        if not widths or any(w < 1 for w in widths):
            raise ValueError(f"widths must be a non-empty list of positive ints, got {widths}")
        self.channels = channels
        self.factor = 2 ** len(widths)
        layers, cin = [], channels
        for i, w in enumerate(widths):
            conv = nn.Conv3d(cin, w, (3, 4, 4), stride=(1, 2, 2), padding=1)
            layers += [spectral_norm(conv) if i < spectral_layers else conv]
            layers += [nn.LeakyReLU(negative_slope)]
            cin = w
        self.features = nn.Sequential(*layers)
        self.score = nn.Linear(cin, 1)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] % self.channels:
            raise ValueError(
                f"Critic3D expects (B, k*{self.channels}, H, W) stacked frames, "
                f"got {tuple(x.shape)}"
            )
        b, kc, h, w = x.shape
        if h % self.factor or w % self.factor:
            raise ValueError(f"H and W must be multiples of {self.factor}, got {h}x{w}")
        k = kc // self.channels
        clip = x.reshape(b, k, self.channels, h, w).transpose(1, 2)
        return self.score(self.features(clip).mean((2, 3, 4))).squeeze(1)
