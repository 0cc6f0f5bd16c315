"""From per-sequence results to one rate point: averages, and the set-level Fréchet distances.

Averages follow CompressAI's eval tool (``aggregate_results``: the mean over sequences of each
sequence's value). Per-frame lists are averaged index by index over the sequences that have
that frame. NaN ("not defined") values are left out of the means; a mean with nothing left is
NaN, stored as ``null``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from ..metrics import frechet_distance_pairs, frechet_distance_per_frame
from ..metrics.identity_statistics import class_tv_distance
from ..results import PER_FRAME, head_key, nanmean

__all__ = ["average_sequences", "class_tv_metrics", "frechet_metrics", "merge_rate_points"]


def average_sequences(results: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """Average the ``results`` dicts of several sequences key by key.

    Scalars give their mean; lists (per-frame values) give the mean at each index over the
    sequences whose list reaches that index.
    """
    if not results:
        raise ValueError("no sequences to average")
    out: dict[str, object] = {}
    for key in results[0]:
        values = [r[key] for r in results if key in r]
        if isinstance(values[0], (list, tuple)):
            length = max(len(v) for v in values)
            out[key] = [nanmean([v[i] for v in values if i < len(v)]) for i in range(length)]
        else:
            out[key] = nanmean(values)
    return out


def frechet_metrics(
    source: torch.Tensor, recon: Mapping[str, torch.Tensor], reference: str | None = "mse"
) -> dict[str, object]:
    """Fréchet distances between source and decoded features, per head.

    Args:
        source: classifier features of the source clips ``(N, T, D)``.
        recon: per head, features of its decoded clips ``(N, T, D)``.
        reference: head whose values are also stored under the unsuffixed keys.

    Returns:
        ``fd``, ``fd-per-frame`` (``T`` entries), ``fd-pairs``, ``fd-pairs-per-frame``
        (``T - 1`` entries, pair ``(t, t+1)``), each as ``<key>/<head>``.
    """
    out: dict[str, object] = {}
    for head, feats in recon.items():
        per_frame = frechet_distance_per_frame(source, feats)
        table: dict[str, object] = {"fd": nanmean(per_frame), "fd" + PER_FRAME: per_frame}
        if source.shape[1] >= 2:
            pairs = frechet_distance_pairs(source, feats)
            table.update({"fd-pairs": nanmean(pairs), "fd-pairs" + PER_FRAME: pairs})
        for key, value in table.items():
            out[head_key(key, head)] = value
            if head == reference:
                out[key] = value
    return out


def class_tv_metrics(
    predictions: Mapping[str, torch.Tensor], true: torch.Tensor
) -> dict[str, object]:
    """Total-variation distance between predicted and true class histograms, per head.

    Args:
        predictions: per head (or ``"source"``), predicted classes of its clips ``(N, T)``.
        true: the true digit of each clip ``(N,)``.

    Returns:
        ``class-tv-per-frame/<head>`` (``T`` entries) and ``class-tv/<head>`` (their mean).
    """
    out: dict[str, object] = {}
    for head, pred in predictions.items():
        per_frame = class_tv_distance(pred, true)
        out[head_key("class-tv" + PER_FRAME, head)] = per_frame
        out[head_key("class-tv", head)] = nanmean(per_frame)
    return out


def merge_rate_points(points: Sequence[Mapping[str, object]]) -> dict[str, list]:
    """One results dict per rate point -> CompressAI's layout of lists, one entry per point.

    A key missing at some point (e.g. a head that model lacks) is ``None`` there, or an empty
    list for per-frame keys.
    """
    keys: list[str] = []
    for p in points:
        keys += [k for k in p if k not in keys]
    merged: dict[str, list] = {}
    for key in keys:
        per_frame = PER_FRAME in key.partition("/")[0]
        merged[key] = [p.get(key, [] if per_frame else None) for p in points]
    return merged
