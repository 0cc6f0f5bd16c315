"""Anti-aliased (blur-then-subsample) downsampling in 2D and 3D.

Zhang, "Making Convolutional Networks Shift-Invariant Again", https://arxiv.org/abs/1904.11486:
low-pass filter with a binomial kernel before a stride-2 step. The kernel is the outer product
of ``[1, 2, 1]`` along each filtered axis, normalised by its sum; padding replicates the border
so a constant image stays constant up to the edges. The blur has stride 1; the stride-2 step
is plain subsampling (``x[..., ::2, ::2]``, output size ``ceil(n / 2)``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from compressai.registry import register_module
from torch import Tensor, nn

__all__ = ["Blur2d", "Blur3d", "BlurDownsample2d", "BlurDownsample3d", "blur_kernel"]


def blur_kernel(dims: int, taps: tuple[float, ...] = (1.0, 2.0, 1.0)) -> Tensor:
    """Separable binomial kernel: outer product of ``taps`` over ``dims`` axes, sum 1.

    Args:
        dims: number of filtered axes (1, 2 or 3).
        taps: 1D taps (default ``[1, 2, 1]``).

    Returns:
        Tensor of shape ``(len(taps),) * dims``.
    """
    if dims not in (1, 2, 3):
        raise ValueError(f"dims must be 1, 2 or 3, got {dims!r}")
    k1 = torch.tensor(taps, dtype=torch.float32)
    k = k1
    for _ in range(dims - 1):
        k = k[..., None] * k1
    return k / k.sum()


def _blur(x: Tensor, kernel: Tensor, spatial_dims: int) -> Tensor:
    # Fold channels into the batch so one single-channel kernel serves any channel count.
    shape = x.shape
    flat = x.reshape(-1, 1, *shape[-spatial_dims:])
    pads = []
    for size in reversed(kernel.shape):
        pads += [size // 2, size // 2]
    flat = F.pad(flat, pads, mode="replicate")
    w = kernel.to(dtype=x.dtype, device=x.device)[None, None]
    conv = F.conv2d if spatial_dims == 2 else F.conv3d
    return conv(flat, w).reshape(shape)


@register_module("Blur2d")
class Blur2d(nn.Module):
    """Stride-1 ``[1, 2, 1]`` x ``[1, 2, 1]`` / 16 blur of ``(B, C, H, W)`` tensors."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("kernel", blur_kernel(2), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            raise ValueError(f"Blur2d expects (B, C, H, W), got shape {tuple(x.shape)}")
        return _blur(x, self.kernel, 2)


@register_module("Blur3d")
class Blur3d(nn.Module):
    """Stride-1 blur of ``(B, C, T, H, W)`` tensors.

    Args:
        time: if True the 3x3x3 space-time kernel (sum 64); else the space-only 1x3x3 kernel
            that leaves time untouched.
    """

    def __init__(self, time: bool = True) -> None:
        super().__init__()
        self.time = time
        kernel = blur_kernel(3) if time else blur_kernel(2)[None]
        self.register_buffer("kernel", kernel, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 5:
            raise ValueError(f"Blur3d expects (B, C, T, H, W), got shape {tuple(x.shape)}")
        return _blur(x, self.kernel, 3)


@register_module("BlurDownsample2d")
class BlurDownsample2d(nn.Module):
    """Halve H and W of ``(B, C, H, W)``: blur (if ``antialias``) then keep every 2nd pixel.

    Args:
        antialias: blur before subsampling (default True).
    """

    def __init__(self, antialias: bool = True) -> None:
        super().__init__()
        self.blur = Blur2d() if antialias else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            raise ValueError(f"BlurDownsample2d expects (B, C, H, W), got {tuple(x.shape)}")
        return self.blur(x)[..., ::2, ::2]


@register_module("BlurDownsample3d")
class BlurDownsample3d(nn.Module):
    """Halve H and W (and T if ``time``) of ``(B, C, T, H, W)``.

    Args:
        time: also downsample time, with the space-time kernel; else space only.
        antialias: blur before subsampling (default True).
    """

    def __init__(self, time: bool = True, antialias: bool = True) -> None:
        super().__init__()
        self.time = time
        self.blur = Blur3d(time=time) if antialias else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 5:
            raise ValueError(f"BlurDownsample3d expects (B, C, T, H, W), got {tuple(x.shape)}")
        x = self.blur(x)
        return x[:, :, ::2, ::2, ::2] if self.time else x[:, :, :, ::2, ::2]
