"""Rate-distortion loss for video codecs (CompressAI's ``examples/train_video.py`` loss, made a
registered criterion).

Ballé et al., "Variational image compression with a scale hyperprior",
https://arxiv.org/abs/1802.01436 (rate + lambda x distortion); Agustsson et al., "Scale-space
flow for end-to-end optimized video compression", CVPR 2020 (the ``ssf2020`` video model).
MS-SSIM: Wang et al., https://ece.uwaterloo.ca/~z70wang/publications/msssim.pdf.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from compressai.registry import register_criterion
from pytorch_msssim import ms_ssim
from torch import Tensor, nn

from ..metrics.ms_ssim import ms_ssim_window
from .rate import bits_per_pixel
from .video_inputs import check_video, likelihoods_of, reconstructions

__all__ = ["VideoRateDistortionLoss"]

METRICS = ("mse", "ms-ssim")


@register_criterion("VideoRateDistortionLoss")
class VideoRateDistortionLoss(nn.Module):
    r"""``bpp + lmbda * D`` averaged over the frames of a clip.

    The rate is the bits of every frame's latents divided by the pixels of all frames
    (``B * T * H * W``). The distortion per frame is ``255^2 * MSE`` (``metric="mse"``, inputs
    in [0, 1]) or ``1 - MS-SSIM`` (``metric="ms-ssim"``, window from :func:`ms_ssim_window`),
    averaged over frames.

    Args:
        lmbda: distortion weight.
        metric: ``"mse"`` or ``"ms-ssim"``.

    ``forward(output, frames)`` takes CompressAI's video output dict and the source frames
    (list of ``(B, C, H, W)`` in [0, 1]) and returns scalar tensors ``loss``, ``bpp_loss``,
    ``mse_loss`` (per-pixel MSE averaged over frames), ``ms_ssim_loss`` (with ``"ms-ssim"``),
    and per frame ``frame{i}.mse_loss``, ``frame{i}.bpp`` (that frame's bits over ``B*H*W``)
    and ``frame{i}.ms_ssim`` (with ``"ms-ssim"``).
    """

    def __init__(self, lmbda: float = 1e-2, metric: str = "mse") -> None:
        super().__init__()
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}: expected one of {METRICS}")
        if lmbda < 0:
            raise ValueError(f"lmbda must be >= 0, got {lmbda}")
        self.lmbda = float(lmbda)
        self.metric = metric

    def forward(self, output: dict[str, Any], frames: Sequence[Tensor]) -> dict[str, Tensor]:
        if not isinstance(output, Mapping):
            raise TypeError(f"output must be a video output dict, got {type(output).__name__}")
        recon = reconstructions(output)
        t, b, _c, h, w = check_video(frames, recon)
        likelihoods = likelihoods_of(output)
        if not isinstance(likelihoods, Sequence) or len(likelihoods) != t:
            raise ValueError(f"output['likelihoods'] must be a list with one entry per frame ({t})")
        out: dict[str, Tensor] = {}
        mses, distortions = [], []
        win = ms_ssim_window(h, w) if self.metric == "ms-ssim" else None
        for i, (x, r) in enumerate(zip(frames, recon, strict=True)):
            mse = F.mse_loss(r, x)
            out[f"frame{i}.mse_loss"] = mse
            out[f"frame{i}.bpp"] = bits_per_pixel(likelihoods[i], b * h * w)
            mses.append(mse)
            if win is None:
                distortions.append(255.0**2 * mse)
            else:
                score = ms_ssim(r, x, data_range=1.0, win_size=win)
                out[f"frame{i}.ms_ssim"] = score
                distortions.append(1.0 - score)
        out["mse_loss"] = torch.stack(mses).mean()
        if win is not None:
            out["ms_ssim_loss"] = torch.stack(distortions).mean()
        out["bpp_loss"] = bits_per_pixel(likelihoods, t * b * h * w)
        out["loss"] = out["bpp_loss"] + self.lmbda * torch.stack(distortions).mean()
        return out
