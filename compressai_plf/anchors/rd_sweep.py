"""Rate-distortion sweep of a codec over a set of clips, in the results JSON layout."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor
from tqdm import tqdm

from ..metrics.ms_ssim import ms_ssim_per_frame, ms_ssim_window
from ..metrics.psnr import mse_per_frame, psnr_per_frame
from ..results import make_results
from .low_delay_p import LowDelayPAnchor

# (quality, clip (T, C, H, W) in [0, 1]) -> (reconstruction (T, C, H, W), bits of each frame)
CodeClip = Callable[[int, Tensor], tuple[Tensor, Sequence[float]]]


def rd_sweep(
    code_clip: CodeClip,
    clips: Tensor,
    qualities: Sequence[int],
    name: str,
    description: str = "",
    fps: float = 25.0,
    progress: bool = False,
) -> dict:
    """Code every clip at every quality with ``code_clip`` and collect the results JSON dict.

    Each clip is coded separately. Per rate point the dict holds ``bitrate`` (kbit/s),
    ``bpp``, ``mse`` (per pixel, frames in [0, 1]), ``psnr`` (dB, mean of per-frame PSNRs),
    ``ms-ssim`` (when the frames are large enough), and per-frame lists ``mse-per-frame``,
    ``psnr-per-frame`` and ``bits-per-frame``; all averaged over clips. Every codec measured
    through this function shares one definition of rate and distortion, which BD-rates need.

    Args:
        code_clip: codes one clip at one quality, returns the decoded frames and the bits
            of each coded frame (their sum is the clip's rate).
        clips: (N, T, C, H, W) frames in [0, 1].
        qualities: one rate point each (CRF/QP for an anchor, zoo quality for a model).
        name: curve name.
        description: free text; the clip count and size are appended.
        fps: frame rate for the kbit/s figure.
        progress: show a progress bar over clips and qualities.
    """
    if not isinstance(clips, Tensor) or clips.dim() != 5:
        raise ValueError("clips must be a (N, T, C, H, W) tensor in [0, 1]")
    if not qualities:
        raise ValueError("no qualities given")
    n, t, _, h, w = clips.shape
    bar = tqdm(total=n * len(qualities), desc=name, disable=not progress)
    try:
        ms_ssim_window(h, w)
        with_ms_ssim = True
    except ValueError:
        with_ms_ssim = False
    keys = ["bitrate", "bpp", "mse", "psnr", "mse-per-frame", "psnr-per-frame", "bits-per-frame"]
    if with_ms_ssim:
        keys.append("ms-ssim")
    table: dict[str, list] = {k: [] for k in keys}
    for q in qualities:
        coded = []
        for i in range(n):
            coded.append(code_clip(q, clips[i]))
            bar.update()
        recon = torch.stack([r for r, _ in coded])
        if recon.shape != clips.shape:
            raise ValueError(
                f"{name} q={q}: decoded {tuple(recon.shape)}, expected {tuple(clips.shape)}"
            )
        bits = torch.tensor([list(b) for _, b in coded], dtype=torch.float64)
        table["bitrate"].append(bits.sum(1).mean().item() * fps / t / 1000)
        table["bpp"].append(bits.sum(1).mean().item() / (t * h * w))
        mse = mse_per_frame(clips, recon)
        table["mse-per-frame"].append(mse.tolist())
        table["mse"].append(mse.mean().item())
        psnr = psnr_per_frame(clips, recon)
        table["psnr-per-frame"].append(psnr.tolist())
        table["psnr"].append(psnr.mean().item())
        table["bits-per-frame"].append(bits.mean(0).tolist())
        if with_ms_ssim:
            table["ms-ssim"].append(ms_ssim_per_frame(clips, recon).mean().item())
    bar.close()
    return make_results(
        name,
        table.pop("bitrate"),
        metrics=table,
        description=f"{description}; {n} clips of {t} frames {h}x{w}".lstrip("; "),
        q=list(qualities),
    )


def anchor_rd_results(
    make_anchor: Callable[[int], LowDelayPAnchor],
    clips: Tensor,
    qualities: Sequence[int],
    fps: float = 25.0,
    name: str | None = None,
    progress: bool = False,
) -> dict:
    """Encode every clip at every quality with a classical anchor (:func:`rd_sweep`).

    Each clip is encoded separately (its own intra frame and parameter sets).

    Args:
        make_anchor: builds the anchor for a quality, e.g.
            ``lambda q: X264LowDelayP(quality=q)``.
        clips: (N, T, C, H, W) frames in [0, 1].
        qualities: CRF/QP values, one rate point each.
        fps: frame rate for the kbit/s figure.
        name: curve name (default: the anchor's name).
        progress: show a progress bar.
    """
    if not qualities:
        raise ValueError("no qualities given")
    anchors = {q: make_anchor(q) for q in qualities}

    def code(q: int, clip: Tensor) -> tuple[Tensor, list[int]]:
        run = anchors[q].encode_frames(clip, fps)
        if sum(run.frame_bits) != run.bits:
            raise RuntimeError(f"{anchors[q].name}: packet sizes do not add up to the stream size")
        return run.recon, run.frame_bits

    last = anchors[qualities[-1]]
    return rd_sweep(code, clips, qualities, name or last.name, last.description, fps, progress)
