"""Distortion-perception curves: distortion against a perception measure, one curve per
decoder head (the trade-off the PLF paper traces, https://arxiv.org/abs/2305.19301)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from ..results import head_key, heads_of
from ._figure import as_float, point_labels, save


def plot_distortion_perception(
    runs: Sequence[Mapping],
    path: str | Path,
    distortion: str = "mse",
    perception: str = "w1",
    higher_is_realistic: bool = False,
) -> Path:
    """Plot ``distortion`` (y) against ``perception`` (x) for each head of each run.

    Each point is one entry of the results lists (a rate or a perception weight), labelled
    with ``q`` or its bit rate.

    Args:
        runs: results dicts.
        path: output image file.
        distortion: distortion metric name (default ``"mse"``).
        perception: perception metric name, e.g. ``"w1"`` or ``"w1-jd"`` (W1 estimated by the
            JD critic).
        higher_is_realistic: the perception metric grows with realism (e.g. a share of
            confidently recognised frames) instead of falling (a W1 distance).

    Raises:
        ValueError: if no run has both metrics for the same head.
    """
    fig = Figure(figsize=(6.4, 4.4))
    ax = fig.add_subplot()
    plotted = 0
    for run in runs:
        res = run["results"]
        labels = point_labels(res)
        for head in [None, *heads_of(res)]:
            xk, yk = head_key(perception, head), head_key(distortion, head)
            if xk not in res or yk not in res:
                continue
            xs, ys = as_float(res[xk]), as_float(res[yk])
            label = run["name"] if head is None else f"{run['name']} [{head}]"
            (line,) = ax.plot(xs, ys, marker="o", ms=4, label=label)
            for x, y, text in zip(xs, ys, labels, strict=True):
                ax.annotate(text, (x, y), fontsize=6, color=line.get_color(), alpha=0.8)
            plotted += 1
    if not plotted:
        raise ValueError(f"no results hold both {distortion!r} and {perception!r} for one head")
    direction = "higher" if higher_is_realistic else "lower"
    ax.set_xlabel(f"{perception} (perception, {direction} is more realistic)")
    ax.set_ylabel(f"{distortion} (distortion)")
    ax.grid(True, alpha=0.4)
    ax.legend(fontsize="small")
    return save(fig, path)
