"""Per-frame MS-SSIM with a window that fits the frame size."""

from __future__ import annotations

from pytorch_msssim import ms_ssim
from torch import Tensor

from ._video import VideoLike, as_video_pair, check_reduction

# MS-SSIM downsamples 4 times (5 scales); pytorch-msssim asserts min(H, W) > (win - 1) * 16.
_DOWNSAMPLE = 2**4


def ms_ssim_window(height: int, width: int, max_win_size: int = 11) -> int:
    """Largest odd Gaussian window (at most ``max_win_size``) MS-SSIM accepts at this size.

    At 64x64 only 3 fits; from 161 pixels on the standard 11 does.

    Args:
        height: frame height in pixels.
        width: frame width in pixels.
        max_win_size: upper bound, 11 in the original definition.

    Raises:
        ValueError: if even a 3x3 window does not fit (min side <= 32).
    """
    side = min(height, width)
    win = max_win_size if max_win_size % 2 else max_win_size - 1
    while win >= 3:
        if side > (win - 1) * _DOWNSAMPLE:
            return win
        win -= 2
    raise ValueError(
        f"MS-SSIM needs min(H, W) > {2 * _DOWNSAMPLE} (5 scales, 3x3 window); got {height}x{width}"
    )


def ms_ssim_per_frame(
    source: VideoLike,
    recon: VideoLike,
    data_range: float = 1.0,
    win_size: int | None = None,
    reduction: str = "mean",
) -> Tensor:
    """MS-SSIM of each frame (Wang, Simoncelli, Bovik 2003,
    https://doi.org/10.1109/ACSSC.2003.1292216), via pytorch-msssim.

    Time is folded into the batch: a 5-D input given to pytorch-msssim directly would be
    treated as a volume and pooled over time.

    Args:
        source: original frames, (N, T, C, H, W) or a list of T (N, C, H, W) tensors.
        recon: reconstructed frames, same shape.
        data_range: peak value; 1 for frames in [0, 1] (pytorch-msssim defaults to 255).
        win_size: Gaussian window size; ``None`` picks :func:`ms_ssim_window`.
        reduction: ``"mean"`` returns (T,), ``"none"`` returns (N, T).
    """
    check_reduction(reduction)
    x, x_hat = as_video_pair(source, recon)
    n, t, c, h, w = x.shape
    if win_size is None:
        win_size = ms_ssim_window(h, w)
    elif win_size < 3 or win_size % 2 == 0:
        raise ValueError(f"win_size must be odd and >= 3, got {win_size}")
    elif min(h, w) <= (win_size - 1) * _DOWNSAMPLE:
        raise ValueError(f"win_size={win_size} is too large for {h}x{w} frames")
    values = ms_ssim(
        x.reshape(n * t, c, h, w),
        x_hat.reshape(n * t, c, h, w),
        data_range=data_range,
        win_size=win_size,
        size_average=False,
    ).view(n, t)
    return values.mean(dim=0) if reduction == "mean" else values
