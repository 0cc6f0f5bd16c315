"""Rate-distortion sweep: one codec per rate point over one clip set, by the evaluation loop.

Every codec measured here (``ssf_plf`` through the container, CompressAI's ``ssf2020``,
x264/x265) goes through :func:`~compressai_plf.eval.evaluate.evaluate_codec`, so all share
one definition of rate (the bytes each codec wrote, kbit/s at the clip set's frame rate) and
of distortion (``mse`` per pixel of frames in [0, 1], ``psnr`` the mean of per-frame PSNRs,
``ms-ssim`` when the frames are large enough), which BD-rates need.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..anchors.low_delay_p import LowDelayPAnchor
from ..results import json_ready, validate_results
from .aggregate import merge_rate_points
from .anchor_codec import AnchorCodec
from .clip_metrics import build_metric_suite
from .clips import ClipSet
from .codec import ClipCodec
from .evaluate import evaluate_codec

__all__ = ["anchor_rd_results", "rd_sweep"]


def rd_sweep(
    codecs: Sequence[ClipCodec],
    clips: ClipSet,
    name: str,
    description: str = "",
    progress: bool = False,
) -> dict[str, Any]:
    """Evaluate every codec (one rate point each, labelled by ``codec.label``) on ``clips``
    with the distortion metrics that need no network; the results JSON dict."""
    if not codecs:
        raise ValueError("no rate points given")
    if len(clips) == 0:
        raise ValueError("no clips to code")
    suite = build_metric_suite(clips.dataset, *clips[0].frames.shape[1:], lpips=None)
    t, _, h, w = clips[0].frames.shape
    text = f"{description}; {len(clips)} clips of {t} frames {h}x{w}".lstrip("; ")
    points = [evaluate_codec(c, clips, suite, "file", 0, progress, text)["results"] for c in codecs]
    data = {
        "name": name,
        "description": text,
        "results": {"q": [c.label for c in codecs], **merge_rate_points(points)},
    }
    return validate_results(json_ready(data), name)


def anchor_rd_results(
    make_anchor: Callable[[int], LowDelayPAnchor],
    clips: ClipSet,
    qualities: Sequence[int],
    name: str | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Encode every clip at every quality with a classical anchor (:func:`rd_sweep`), e.g.
    ``anchor_rd_results(lambda q: X264LowDelayP(quality=q), clips, [26, 32])``; each clip
    is its own stream (its own intra frame and parameter sets)."""
    if not qualities:
        raise ValueError("no qualities given")
    codecs = [AnchorCodec(make_anchor(q), q) for q in qualities]
    last = codecs[-1].anchor
    return rd_sweep(codecs, clips, name or last.name, last.description, progress)
