"""Rate-distortion sweep of an anchor over a set of clips, in the results JSON layout."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from ..metrics.ms_ssim import ms_ssim_per_frame, ms_ssim_window
from ..metrics.psnr import mse_per_frame, psnr_per_frame
from ..plot.results import make_results
from .low_delay_p import LowDelayPAnchor


def anchor_rd_results(
    make_anchor: Callable[[int], LowDelayPAnchor],
    clips: Tensor,
    qualities: Sequence[int],
    fps: float = 25.0,
    name: str | None = None,
) -> dict:
    """Encode every clip at every quality and collect the results JSON dict.

    Each clip is encoded separately (its own intra frame and parameter sets). Per rate point
    the dict holds ``bitrate`` (kbit/s), ``bpp``, ``mse`` (per pixel, frames in [0, 1]),
    ``psnr`` (dB, mean of per-frame PSNRs), ``ms-ssim`` (when the frames are large enough),
    and per-frame lists ``mse-per-frame``, ``psnr-per-frame`` and ``bits-per-frame``; all
    averaged over clips.

    Args:
        make_anchor: builds the anchor for a quality, e.g.
            ``lambda q: X264LowDelayP(quality=q)``.
        clips: (N, T, C, H, W) frames in [0, 1].
        qualities: CRF/QP values, one rate point each.
        fps: frame rate for the kbit/s figure.
        name: curve name (default: the anchor's name).
    """
    if not isinstance(clips, Tensor) or clips.dim() != 5:
        raise ValueError("clips must be a (N, T, C, H, W) tensor in [0, 1]")
    if not qualities:
        raise ValueError("no qualities given")
    n, t, _, h, w = clips.shape
    try:
        ms_ssim_window(h, w)
        with_ms_ssim = True
    except ValueError:
        with_ms_ssim = False
    keys = ["bitrate", "bpp", "mse", "psnr", "mse-per-frame", "psnr-per-frame", "bits-per-frame"]
    if with_ms_ssim:
        keys.append("ms-ssim")
    table: dict[str, list] = {k: [] for k in keys}
    anchor = None
    for q in qualities:
        anchor = make_anchor(q)
        runs = [anchor.encode_frames(clips[i], fps) for i in range(n)]
        recon = torch.stack([r.recon for r in runs])
        table["bitrate"].append(sum(r.bitrate_kbps for r in runs) / n)
        table["bpp"].append(sum(r.bpp for r in runs) / n)
        mse = mse_per_frame(clips, recon)
        table["mse-per-frame"].append(mse.tolist())
        table["mse"].append(mse.mean().item())
        psnr = psnr_per_frame(clips, recon)
        table["psnr-per-frame"].append(psnr.tolist())
        table["psnr"].append(psnr.mean().item())
        bits = torch.tensor([r.frame_bits for r in runs], dtype=torch.float64).mean(0)
        table["bits-per-frame"].append(bits.tolist())
        if with_ms_ssim:
            table["ms-ssim"].append(ms_ssim_per_frame(clips, recon).mean().item())
    return make_results(
        name or anchor.name,
        table.pop("bitrate"),
        metrics=table,
        description=f"{anchor.description}; {n} clips of {t} frames {h}x{w}",
        q=list(qualities),
    )
