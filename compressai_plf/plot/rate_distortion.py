"""Rate-distortion curves: a metric against the bit rate, one curve per run and head."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..results import head_key, heads_of
from ._figure import as_float, linestyle, save


def _transform(metric: str, values: np.ndarray) -> np.ndarray:
    # Same convention as CompressAI's plot tool: MS-SSIM shown in dB.
    return -10 * np.log10(1 - values) if "ms-ssim" in metric else values


def plot_rate_distortion(runs: Sequence[Mapping], metric: str, path: str | Path) -> Path:
    """Plot ``metric`` against ``bitrate`` for every run, reference decoder and heads.

    Args:
        runs: results dicts (see :mod:`compressai_plf.results`).
        metric: base metric name, e.g. ``"psnr-rgb"`` or ``"mse"``.
        path: output image file.

    Raises:
        ValueError: if no run has the metric.
    """
    fig = Figure(figsize=(6.4, 4.4))
    ax = fig.add_subplot()
    plotted = 0
    for run in runs:
        res = run["results"]
        rate = as_float(res["bitrate"])
        for head in [None, *heads_of(res)]:
            key = head_key(metric, head)
            if key not in res:
                continue
            label = run["name"] if head is None else f"{run['name']} [{head}]"
            ys = _transform(metric, as_float(res[key]))
            order = np.argsort(rate)
            ax.plot(rate[order], ys[order], marker=".", ls=linestyle(run["name"]), label=label)
            plotted += 1
    if not plotted:
        raise ValueError(f"metric {metric!r} not found in any results")
    ax.set_xlabel("Bit-rate [kbps]")
    ax.set_ylabel(f"{metric} [dB]" if "ms-ssim" in metric or "psnr" in metric else metric)
    ax.grid(True, alpha=0.4)
    ax.legend(fontsize="small")
    return save(fig, path)
