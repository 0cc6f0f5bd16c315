"""Rate-distortion sweep: one codec per rate point over one clip set, by the evaluation loop.

Every codec measured here (``ssf_plf`` through the container, CompressAI's ``ssf2020``,
x264/x265) goes through :func:`~compressai_plf.eval.evaluate.evaluate_codec`, so all share
one definition of rate (the bytes each codec wrote, kbit/s at the clip set's frame rate) and
of distortion (``mse`` per pixel of frames in [0, 1], ``psnr`` the mean of per-frame PSNRs,
``ms-ssim`` when the frames are large enough), which BD-rates need.

One curve per codec: the plain keys (``psnr``, ``mse-per-frame``, ...) are the reference
head's (``mse``) values, so the sweep drops that head's duplicate ``<metric>/mse`` keys; a
single-head codec's RD file therefore holds plain keys only and is plotted as one curve named
after it. Other heads of a multi-head codec keep their ``<metric>/<head>`` keys. The
optical-flow metric (``flow-diff``) is measured only when asked (``flow=True``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..anchors.low_delay_p import LowDelayPAnchor
from ..results import json_ready, split_key, validate_results
from .aggregate import merge_rate_points
from .anchor_codec import AnchorCodec
from .clip_metrics import build_metric_suite
from .clips import ClipSet
from .codec import ClipCodec
from .evaluate import REFERENCE_HEAD, evaluate_codec

__all__ = ["anchor_rd_results", "rd_sweep"]


def rd_sweep(
    codecs: Sequence[ClipCodec],
    clips: ClipSet,
    name: str,
    description: str = "",
    progress: bool = False,
    flow: bool = False,
) -> dict[str, Any]:
    """Evaluate every codec (one rate point each, labelled by ``codec.label``) on ``clips``
    with the distortion metrics that need no network (``flow-diff`` too with ``flow``); the
    results JSON dict, one curve per codec (see the module docstring)."""
    if not codecs:
        raise ValueError("no rate points given")
    if len(clips) == 0:
        raise ValueError("no clips to code")
    suite = build_metric_suite(clips.dataset, *clips[0].frames.shape[1:], lpips=None)
    suite.flow = flow
    t, _, h, w = clips[0].frames.shape
    text = f"{description}; {len(clips)} clips of {t} frames {h}x{w}".lstrip("; ")
    points = [
        _without_reference_head(evaluate_codec(c, clips, suite, "file", 0, progress, text))
        for c in codecs
    ]
    data = {
        "name": name,
        "description": text,
        "results": {"q": [c.label for c in codecs], **merge_rate_points(points)},
    }
    return validate_results(json_ready(data), name)


def _without_reference_head(evaluation: dict[str, Any]) -> dict[str, Any]:
    # The plain keys already are the reference head's values (evaluate_codec writes both).
    res = evaluation["results"]
    return {k: v for k, v in res.items() if split_key(k)[1] != REFERENCE_HEAD}


def anchor_rd_results(
    make_anchor: Callable[[int], LowDelayPAnchor],
    clips: ClipSet,
    qualities: Sequence[int],
    name: str | None = None,
    progress: bool = False,
    flow: bool = False,
) -> dict[str, Any]:
    """Encode every clip at every quality with a classical anchor (:func:`rd_sweep`), e.g.
    ``anchor_rd_results(lambda q: X264LowDelayP(quality=q), clips, [26, 32])``; each clip
    is its own stream (its own intra frame and parameter sets)."""
    if not qualities:
        raise ValueError("no qualities given")
    codecs = [AnchorCodec(make_anchor(q), q) for q in qualities]
    last = codecs[-1].anchor
    return rd_sweep(codecs, clips, name or last.name, last.description, progress, flow)
