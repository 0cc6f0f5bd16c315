"""Temporal consistency from optical flow, with no learned weights.

The flow between consecutive source frames is compared with the flow between the matching
reconstructed frames (dense Farnebäck flow, G. Farnebäck, "Two-frame motion estimation based
on polynomial expansion", SCIA 2003, https://doi.org/10.1007/3-540-45103-X_50, via OpenCV).
A reconstruction that moves like the source scores 0; flicker, frozen frames or content that
jumps add end-point error.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import Tensor

from ._video import VideoLike, as_video_pair, check_reduction, to_gray

# Farnebäck settings for small (64x64) frames: a 3-level pyramid and a 9-pixel window still
# follow the up-to-4-pixel steps of Moving MNIST.
FARNEBACK_DEFAULTS = {
    "pyr_scale": 0.5,
    "levels": 3,
    "winsize": 9,
    "iterations": 3,
    "poly_n": 5,
    "poly_sigma": 1.1,
    "flags": 0,
}


def _to_uint8(frames: Tensor) -> np.ndarray:
    # (N, T, 1, H, W) in [0, 1] -> (N, T, H, W) uint8
    return (frames[:, :, 0].clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()


def farneback_flow(prev: np.ndarray, nxt: np.ndarray, **params) -> np.ndarray:
    """Dense flow (H, W, 2) in pixels from ``prev`` to ``nxt`` (uint8 gray (H, W) images)."""
    p = {**FARNEBACK_DEFAULTS, **params}
    return cv2.calcOpticalFlowFarneback(prev, nxt, None, **p)


def flow_difference_per_frame(
    source: VideoLike, recon: VideoLike, reduction: str = "mean", **farneback_params
) -> Tensor:
    """Mean end-point difference (pixels) between source flow and reconstruction flow.

    For each consecutive pair ``(t-1, t)``: ``mean_pixels ||F(x_{t-1}, x_t) - F(x̂_{t-1}, x̂_t)||``.

    Args:
        source: source frames in [0, 1], (N, T, C, H, W) or a list of T (N, C, H, W);
            RGB is converted to luma.
        recon: reconstructed frames, same shape.
        reduction: ``"mean"`` returns (T - 1,) (entry ``t - 1`` is the pair ending at
            frame ``t``); ``"none"`` returns (N, T - 1).
        **farneback_params: overrides for :data:`FARNEBACK_DEFAULTS`.
    """
    check_reduction(reduction)
    unknown = set(farneback_params) - set(FARNEBACK_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown Farneback parameters: {sorted(unknown)}")
    x, x_hat = as_video_pair(source, recon)
    n, t = x.shape[:2]
    if t < 2:
        raise ValueError("temporal consistency needs at least 2 frames")
    src, rec = _to_uint8(to_gray(x)), _to_uint8(to_gray(x_hat))
    out = np.zeros((n, t - 1), dtype=np.float64)
    for i in range(n):
        for j in range(1, t):
            f_src = farneback_flow(src[i, j - 1], src[i, j], **farneback_params)
            f_rec = farneback_flow(rec[i, j - 1], rec[i, j], **farneback_params)
            out[i, j - 1] = np.linalg.norm(f_src - f_rec, axis=-1).mean()
    values = torch.from_numpy(out)
    return values.mean(dim=0) if reduction == "mean" else values
