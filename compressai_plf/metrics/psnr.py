"""Per-frame MSE and PSNR for video batches."""

from __future__ import annotations

import torch
from torch import Tensor

from ._video import VideoLike, as_video_pair, check_reduction


def mse_per_frame(source: VideoLike, recon: VideoLike, reduction: str = "mean") -> Tensor:
    """Mean squared error of each frame, averaged over channels and pixels.

    With frames in [0, 1] this is the "MSE per pixel" the PLF paper reports
    (https://arxiv.org/abs/2305.19301).

    Args:
        source: original frames, (N, T, C, H, W) or a list of T (N, C, H, W) tensors.
        recon: reconstructed frames, same shape.
        reduction: ``"mean"`` averages over the batch and returns shape (T,); ``"none"``
            returns (N, T).
    """
    check_reduction(reduction)
    x, x_hat = as_video_pair(source, recon)
    mse = (x - x_hat).pow(2).mean(dim=(2, 3, 4))
    return mse.mean(dim=0) if reduction == "mean" else mse


def psnr_per_frame(
    source: VideoLike, recon: VideoLike, data_range: float = 1.0, reduction: str = "mean"
) -> Tensor:
    """PSNR in dB of each frame: ``10 log10(data_range^2 / MSE)``.

    As in CompressAI's video evaluation, the PSNR is computed per frame and per sample and
    then averaged (``reduction="mean"``), not computed from an averaged MSE. An exact
    reconstruction gives ``inf``.

    Args:
        source: original frames, (N, T, C, H, W) or a list of T (N, C, H, W) tensors.
        recon: reconstructed frames, same shape.
        data_range: peak value (1 for frames in [0, 1], 255 for 8-bit values).
        reduction: ``"mean"`` returns (T,), ``"none"`` returns (N, T).
    """
    if data_range <= 0:
        raise ValueError(f"data_range must be positive, got {data_range}")
    check_reduction(reduction)
    mse = mse_per_frame(source, recon, reduction="none")
    psnr = 10 * torch.log10(data_range**2 / mse)
    return psnr.mean(dim=0) if reduction == "mean" else psnr
