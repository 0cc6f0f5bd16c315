"""Results: the evaluation JSON layout, its validation, JSON save/load and NaN-aware means.

One home for what eval, the anchors, the reproduction, plot and training share about results:
the layout below, :func:`json_ready` (the one conversion of tensors, NumPy values and
non-finite floats to plain JSON), :func:`write_json` and :func:`nanmean`.

The layout is CompressAI's video eval-tool layout, extended.

CompressAI's ``compressai.utils.video.eval_model`` writes
``{"name": ..., "description": ..., "results": {"bitrate": [...], "psnr-rgb": [...], ...}}``
with one list entry per rate point, and ``compressai.utils.video.plot`` reads ``name``,
``results["bitrate"]`` and ``results[metric]``. This project keeps that layout and adds keys
inside ``results`` that CompressAI's plot tool simply ignores (or can plot with ``-m KEY``):

* ``"<metric>/<head>"``: a metric of one decoder head (``mse``, ``jd``, ``fmd``, ``sa``),
  one number per rate point, e.g. ``"mse/jd"``, ``"w1/fmd"``.
* ``"<metric>-per-frame"`` and ``"<metric>-per-frame/<head>"``: one list per rate point
  with one number per frame index, e.g. ``"digit-agreement-per-frame/jd"``.

Unsuffixed metric keys describe the reference (MMSE) decoder, as CompressAI's eval tool would
measure it. See ``docs/evaluation.md`` for the metric names.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .plfs import head_names

PER_FRAME = "-per-frame"
# Keys that are not metrics plotted against the rate.
NON_METRIC_KEYS = ("bitrate", "q", "bpp")


def head_key(metric: str, head: str | None = None) -> str:
    """Results key of ``metric`` for decoder ``head`` (``None``: the reference decoder)."""
    return metric if head is None else f"{metric}/{head}"


def split_key(key: str) -> tuple[str, str | None, bool]:
    """Split a results key into ``(metric, head or None, is_per_frame)``."""
    base, _, head = key.partition("/")
    per_frame = base.endswith(PER_FRAME)
    if per_frame:
        base = base[: -len(PER_FRAME)]
    return base, head or None, per_frame


def _is_number(v) -> bool:
    return v is None or (isinstance(v, numbers.Real) and not isinstance(v, bool))


def validate_results(data: Mapping, source: str = "results") -> dict:
    """Check the layout and return ``data`` as a dict.

    Raises:
        ValueError: naming the first problem found.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: top level must be a JSON object")
    results = data.get("results")
    if not isinstance(results, Mapping):
        raise ValueError(f'{source}: missing "results" object')
    rate = results.get("bitrate")
    if not isinstance(rate, Sequence) or isinstance(rate, str) or not rate:
        raise ValueError(f'{source}: results["bitrate"] must be a non-empty list (kbps)')
    n = len(rate)
    for key, values in results.items():
        if not isinstance(values, Sequence) or isinstance(values, str) or len(values) != n:
            raise ValueError(
                f"{source}: results[{key!r}] must be a list with one entry per rate point ({n})"
            )
        if key == "q":
            continue
        metric, head, per_frame = split_key(key)
        if not metric or (head is not None and not head):
            raise ValueError(f"{source}: malformed key {key!r}")
        if per_frame:
            for v in values:
                if not isinstance(v, Sequence) or not all(_is_number(x) for x in v):
                    raise ValueError(f"{source}: results[{key!r}] must hold lists of numbers")
        elif not all(_is_number(v) for v in values):
            raise ValueError(f"{source}: results[{key!r}] must hold numbers")
    if "name" in data and not isinstance(data["name"], str):
        raise ValueError(f'{source}: "name" must be a string')
    return dict(data)


def load_results(path: str | Path) -> dict:
    """Read and validate a results JSON file; ``name`` defaults to the file stem as in
    CompressAI's plot tool."""
    path = Path(path)
    with path.open() as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from err
    data = validate_results(data, str(path))
    data.setdefault("name", path.name.split(".")[0])
    return data


def json_ready(value: Any, finite: bool = True) -> Any:
    """``value`` as plain JSON types: tensors and NumPy values as numbers or lists, tuples as
    lists, mapping keys as strings, non-finite floats as ``None`` (JSON has no inf/NaN) and
    any other object as its ``str`` (a path, a dtype). ``finite=False`` keeps inf/NaN, for
    plain values stored in torch files (checkpoint ``args``), which hold them exactly."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):  # NumPy float64 too: stored as a plain float
        return float(value) if math.isfinite(value) or not finite else None
    if isinstance(value, numbers.Real):  # NumPy scalars
        return json_ready(value.item() if hasattr(value, "item") else float(value), finite)
    if hasattr(value, "tolist"):  # tensors, NumPy arrays
        return json_ready(value.tolist(), finite)
    if isinstance(value, Mapping):
        return {str(k): json_ready(v, finite) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v, finite) for v in value]
    return str(value)


def write_json(data: Any, path: str | Path, indent: int | None = 2) -> Path:
    """Write ``json_ready(data)`` to ``path`` (parents created), strict JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(json_ready(data), indent=indent, allow_nan=False))
    return path


def nanmean(values: Iterable[float | None], empty: Any = math.nan) -> Any:
    """Mean of the values that are neither ``None`` nor NaN (``inf`` is kept: an exact frame
    has infinite PSNR); ``empty`` when none is left."""
    vals = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    return sum(vals) / len(vals) if vals else empty


def make_results(
    name: str,
    bitrate: Sequence[float],
    metrics: Mapping[str, Sequence] | None = None,
    heads: Mapping[str, Mapping[str, Sequence]] | None = None,
    description: str = "",
    q: Sequence | None = None,
) -> dict:
    """Build a results dict in this layout.

    Args:
        name: curve name (legend label).
        bitrate: rate of each point in kbit/s (CompressAI's unit).
        metrics: reference-decoder metrics, ``{"psnr-rgb": [...], "mse-per-frame": [[...]]}``.
        heads: per-head metrics, ``{"jd": {"mse": [...], "w1-per-frame": [[...], ...]}}``.
        description: free text.
        q: optional label of each point (CompressAI's aggregate uses ``q``).

    Non-finite numbers are stored as ``null``.
    """
    results: dict = {"bitrate": json_ready(list(bitrate))}
    if q is not None:
        results["q"] = json_ready(list(q))
    for key, values in (metrics or {}).items():
        results[key] = json_ready(list(values))
    for head, table in (heads or {}).items():
        for metric, values in table.items():
            results[head_key(metric, head)] = json_ready(list(values))
    data = {"name": name, "description": description, "results": results}
    if heads:
        data["heads"] = list(heads)
    return validate_results(data, name)


def save_results(data: Mapping, path: str | Path) -> None:
    """Validate and write ``data`` as indented JSON."""
    write_json(validate_results(data, str(path)), path)


def heads_of(results: Mapping) -> list[str]:
    """Decoder heads that appear in ``results`` keys, the standard ones first."""
    found = {split_key(k)[1] for k in results} - {None}
    known = head_names()
    return [h for h in known if h in found] + sorted(found - set(known))


def scalar_metrics(results: Mapping) -> list[str]:
    """Base names of metrics with one number per rate point (reference or any head)."""
    out = []
    for key in results:
        metric, _, per_frame = split_key(key)
        if key not in NON_METRIC_KEYS and not per_frame and metric not in out:
            out.append(metric)
    return out


def per_frame_metrics(results: Mapping) -> list[str]:
    """Base names of metrics stored per frame index."""
    out = []
    for key in results:
        metric, _, per_frame = split_key(key)
        if per_frame and metric not in out:
            out.append(metric)
    return out
