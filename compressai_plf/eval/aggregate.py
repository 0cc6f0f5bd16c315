"""From per-sequence results to one rate point: averages, and the set-level Fréchet distances.

Averages follow CompressAI's eval tool (``aggregate_results``: the mean over sequences of each
sequence's value). Per-frame lists are averaged index by index over the sequences that have
that frame. NaN ("not defined") values are left out of the means; a mean with nothing left is
NaN, stored as ``null``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from ..metrics import frechet_distance_pairs, frechet_distance_per_frame
from ..metrics.identity_statistics import class_tv_distance
from ..results import PER_FRAME, head_key, nanmean, split_key

__all__ = [
    "average_sequences",
    "check_mergeable",
    "class_tv_metrics",
    "frames_of",
    "frechet_metrics",
    "merge_evaluations",
    "merge_rate_points",
    "select_models",
]


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


def select_models(data: Mapping[str, Any], labels: Sequence[str]) -> dict[str, Any]:
    """The evaluation ``data`` (:func:`~compressai_plf.eval.evaluate_models`'s layout) with
    only the models ``labels``, in that order.

    Raises:
        ValueError: a label is not in ``data``.
    """
    have = list(data["results"]["q"])
    missing = [lb for lb in labels if lb not in have]
    if missing:
        raise ValueError(f"model {missing[0]!r} not in the evaluation (models: {have})")
    idx = [have.index(lb) for lb in labels]
    results = {k: [v[i] for i in idx] for k, v in data["results"].items()}
    models = (data.get("settings") or {}).get("models") or {}
    settings = {
        **(data.get("settings") or {}),
        "models": {k: models[k] for k in labels if k in models},
    }
    return {**data, "results": results, "settings": settings}


def merge_evaluations(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """One evaluation of the models of ``a`` followed by those of ``b``, evaluated apart with
    the same settings (the caller checks that): every results list gets ``b``'s columns after
    ``a``'s, a key one of them lacks is ``None`` (or ``[]`` per frame) in its columns, and the
    ``models``, ``heads`` and ``unavailable`` records are joined. Per-clip records
    (``sequences``) are not carried over.

    Raises:
        ValueError: a model is in both.
    """
    ra, rb = a["results"], b["results"]
    both = set(ra["q"]) & set(rb["q"])
    if both:
        raise ValueError(f"model {sorted(both)[0]!r} is in both evaluations")
    columns = [
        {k: v[i] for k, v in r.items()} for r in (ra, rb) for i in range(len(r["q"]))
    ]  # one point per model, as merge_rate_points takes them
    results = merge_rate_points(columns)
    sa, sb = a.get("settings") or {}, b.get("settings") or {}
    models = {**(sb.get("models") or {}), **(sa.get("models") or {})}
    heads = list(a.get("heads") or []) + [
        h for h in b.get("heads") or [] if h not in (a.get("heads") or [])
    ]
    merged = {k: v for k, v in a.items() if k != "sequences"}
    merged.update(
        results=results,
        heads=heads,
        unavailable={**(b.get("unavailable") or {}), **(a.get("unavailable") or {})},
        settings={**sb, **sa, "models": models},
    )
    return merged


def frames_of(data: Mapping[str, Any]) -> int | None:
    """Frames per clip of an evaluation: the length of its first per-frame MSE list."""
    per_frame = (data.get("results") or {}).get(head_key("mse" + PER_FRAME, None)) or []
    return len(per_frame[0]) if per_frame and per_frame[0] is not None else None


def check_mergeable(
    data: dict[str, Any], reference: Mapping[str, Any], critics_sha256: str | None
) -> str | None:
    """Raise unless ``data``, an evaluation made apart, was made like ``reference`` (same
    dataset, clips, frames, rate count, frame 0 and classifier), so that the two stand in one
    table or merge (:func:`merge_evaluations`). Unless the evaluation critics that measured
    ``data`` are recorded as those of hash ``critics_sha256`` (:meth:`EvalCritics.sha256`),
    its W1 values are blanked in place (``None``; ``[]`` per frame), and the returned note
    says why; ``None`` when nothing was left out.

    Raises:
        ValueError: ``data`` was evaluated otherwise.
    """
    theirs, ours = data.get("settings") or {}, reference.get("settings") or {}
    for key in ("dataset", "clips", "rate_count", "iframe"):
        if theirs.get(key) != ours.get(key):
            raise ValueError(
                f"evaluation {data.get('name')!r} was made with {key}={theirs.get(key)!r}, not "
                f"{ours.get(key)!r} as the rest"
            )
    if frames_of(data) != frames_of(reference):
        raise ValueError(
            f"evaluation {data.get('name')!r} has clips of {frames_of(data)} frames, not "
            f"{frames_of(reference)}"
        )
    if Path(str(theirs.get("classifier"))).name != Path(str(ours.get("classifier"))).name:
        raise ValueError(f"evaluation {data.get('name')!r} used another digit classifier")
    recorded = (theirs.get("eval_critics_meta") or {}).get("sha256")
    if critics_sha256 is not None and recorded == critics_sha256:
        return None
    results = data["results"]
    for key in [k for k in results if split_key(k)[0].startswith("w1-")]:
        per_frame = split_key(key)[2]
        results[key] = [[] if per_frame else None for _ in results[key]]
    if recorded is None:
        return "W1 left out: the evaluation records no hash of its critics"
    return "W1 left out: other evaluation critics measured it"
