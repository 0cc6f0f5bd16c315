"""Per-frame curves: a metric against the frame index, one line per decoder head and one
panel per rate point (error permanence shows as a flat JD line, recovery as a falling FMD
line)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..results import PER_FRAME, head_key, heads_of
from ._figure import as_float, point_labels, save


def plot_per_frame(run: Mapping, metric: str, path: str | Path, max_cols: int = 4) -> Path:
    """Plot ``<metric>-per-frame`` of every head of one run.

    Args:
        run: a results dict.
        metric: base metric name, e.g. ``"mse"``, ``"w1"``, ``"digit-agreement"``.
        path: output image file.
        max_cols: panels per row.

    Raises:
        ValueError: if the run has no per-frame values of ``metric``.
    """
    res = run["results"]
    series = [
        (head or "ref", res[key])
        for head in [None, *heads_of(res)]
        if (key := head_key(metric + PER_FRAME, head)) in res
    ]
    if not series:
        raise ValueError(f"{run.get('name', 'run')}: no per-frame values of {metric!r}")
    labels = point_labels(res)
    n = len(labels)
    cols = min(n, max_cols)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(3.2 * cols, 2.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.set_axis_off()
            continue
        for head, values in series:
            ys = as_float(values[i])
            ax.plot(np.arange(1, len(ys) + 1), ys, marker="o", ms=3, label=head)
        ax.set_title(labels[i], fontsize="small")
        ax.set_xlabel("frame")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.4)
    axes[0, 0].set_ylabel(metric)
    axes[0, 0].legend(fontsize="small")
    fig.suptitle(f"{run.get('name', '')}: {metric} per frame", y=1.02)
    return save(fig, path)
