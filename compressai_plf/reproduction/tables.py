"""The PLF paper's tables, computed from evaluation results files.

Every function reads the results layout of :func:`compressai_plf.eval.evaluate_models`
(``results["q"]`` labels the models; ``"<metric>/<head>"`` scalars and
``"<metric>-per-frame/<head>"`` lists, see :mod:`compressai_plf.results`) and returns
plain rows (dicts) that :func:`markdown_table` renders. Findings checked (Salehkalaibar et al.,
NeurIPS 2023, https://arxiv.org/abs/2305.19301):

* error permanence: with a low-rate I-frame a realistic decoder often draws a wrong first
  digit; PLF-JD keeps it (``permanence``: among clips whose frame-0 class is wrong, the last
  frame keeps it), PLF-FMD may return to the source (``correction``); PLF-SA behaves like FMD.
  Read from the identity statistics of :mod:`compressai_plf.metrics.identity_statistics`,
  with the heads' own I-frames and with an exact posterior sample as every head's frame 0;
* the factor of two: an exact posterior sample of the keyframe code (perfect realism) has
  twice the MMSE decoder's MSE (:func:`posterior_factor_of_two`);
* universality and the distortion-perception trade-off: MSE against realism (share of
  confidently recognised digits, class-histogram distance, Fréchet distance), compared only
  where realism matches (:func:`universality_at_matched_realism`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..results import PER_FRAME, head_key, nanmean
from .paper_numbers import LOW_RATE_IFRAME_MSE

__all__ = [
    "REALISM_TOLERANCE",
    "dp_points",
    "error_permanence",
    "factor_of_two",
    "family_summary",
    "markdown_table",
    "p_frame_mean",
    "permanence_summary",
    "posterior_factor_of_two",
    "posterior_summary",
    "realism_given_mmse",
    "reference_comparison",
    "universality_at_matched_realism",
]

#: Pseudo-head of the statistics measured on the source clips (the ceiling).
SOURCE = "source"
#: Largest difference of confident share and of class-histogram TV distance at which two
#: decoders count as equally realistic (about two standard errors on 500 clips).
REALISM_TOLERANCE = 0.05

Row = dict[str, Any]


def _column(data: Mapping, label: str) -> int:
    labels = list(data["results"].get("q") or [])
    if label not in labels:
        raise ValueError(f"model {label!r} not in results (models: {labels})")
    return labels.index(label)


def _get(data: Mapping, metric: str, head: str, label: str, per_frame: bool = False) -> Any:
    key = head_key(metric + (PER_FRAME if per_frame else ""), head)
    values = data["results"].get(key)
    if values is None:
        return None
    return values[_column(data, label)]


def _heads(data: Mapping) -> list[str]:
    return list(data.get("heads") or ["mse"])


def _identity(data: Mapping, head: str, label: str) -> Row:
    """The identity statistics of one head (or ``"source"``) at one model."""
    acc = _get(data, "digit-accuracy", head, label, True)
    consistency = _get(data, "self-consistency", head, label, True)
    return {
        "accuracy_per_frame": acc,
        "wrong_first": 1.0 - acc[0] if acc and acc[0] is not None else None,
        "self_consistency_last": consistency[-1] if consistency else None,
        "permanence": _get(data, "permanence", head, label),
        "correction": _get(data, "correction", head, label),
        "confident": _get(data, "confident", head, label),
        "confident_per_frame": _get(data, "confident", head, label, True),
        "class_tv": _get(data, "class-tv", head, label),
        "class_tv_per_frame": _get(data, "class-tv", head, label, True),
        "fd": _get(data, "fd", head, label),
    }


def error_permanence(data: Mapping, pframe_bits: Mapping[str, int]) -> list[Row]:
    """One row per (model, head): per-frame MSE, P-frame MSE, the evaluation critics' W1
    (mean over the frames each critic measures: JD the P-frames, FMD and SA every frame), and
    the identity statistics (source accuracy per frame, wrong-first share, self-consistency of
    the last frame, permanence, correction, confident share, class-histogram TV, Fréchet
    distance); a ``"source"`` row per model holds the statistics of the source clips. A head
    a model lacks (no MSE measured) has no row.

    Args:
        data: results of the models of one family at several P-frame rates.
        pframe_bits: model label -> bits per P-frame (rows are sorted by it).
    """
    rows = []
    with_source = any(k.endswith("/" + SOURCE) for k in data["results"])
    for label, bits in sorted(pframe_bits.items(), key=lambda kv: kv[1]):
        for head in _heads(data) + ([SOURCE] if with_source else []):
            mse = _get(data, "mse", head, label, per_frame=True)
            if head != SOURCE and not mse:
                continue  # a head this model does not have (models with other head sets)
            rows.append(
                {
                    "model": label,
                    "p_bits": bits,
                    "head": head,
                    "mse_per_frame": mse,
                    "mse": nanmean(mse or [], None),
                    "p_mse": p_frame_mean(mse),
                    "w1_jd": _get(data, "w1-jd", head, label),
                    "w1_fmd": _get(data, "w1-fmd", head, label),
                    "w1_sa": _get(data, "w1-sa", head, label),
                    "agreement_per_frame": _get(data, "digit-agreement", head, label, True),
                    **_identity(data, head, label),
                }
            )
    return rows


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b not in (None, 0) else None


def permanence_summary(rows: Sequence[Row]) -> list[Row]:
    """Per head measured at two rates or more, lowest vs highest P-frame rate: P-frame MSE
    and its ratio, and digit agreement of the I-frame and of the last frame."""
    out = []
    for head in dict.fromkeys(r["head"] for r in rows):
        mine = sorted((r for r in rows if r["head"] == head), key=lambda r: r["p_bits"])
        if len({r["p_bits"] for r in mine}) < 2:
            continue  # a head of one rate only (e.g. SA where only the high rate has one)
        lo, hi = mine[0], mine[-1]

        def agree(r: Row, i: int) -> float | None:
            a = r["agreement_per_frame"]
            return a[i] if a else None

        out.append(
            {
                "head": head,
                "bits": f"{lo['p_bits']} -> {hi['p_bits']}",
                "p_mse_low": lo["p_mse"],
                "p_mse_high": hi["p_mse"],
                "p_mse_ratio": _ratio(hi["p_mse"], lo["p_mse"]),
                "agree_i_low": agree(lo, 0),
                "agree_last_low": agree(lo, -1),
                "agree_last_high": agree(hi, -1),
                "wrong_first_low": lo.get("wrong_first"),
                "wrong_first_high": hi.get("wrong_first"),
                "permanence_low": lo.get("permanence"),
                "permanence_high": hi.get("permanence"),
                "correction_low": lo.get("correction"),
                "correction_high": hi.get("correction"),
            }
        )
    return out


def posterior_factor_of_two(data: Mapping, pframe_bits: Mapping[str, int]) -> list[Row]:
    """The factor of two from an evaluation whose perceptual heads showed an exact posterior
    sample of the keyframe code as frame 0 (``evaluate_models(..., iframe_sampler=
    posterior_iframe_decoder(...))``): per model, the sample's frame-0 MSE over the MMSE
    head's, with the realism and digit accuracy of both (and of the source, the ceiling)."""
    heads = [h for h in _heads(data) if h != "mse"]
    if not heads or "mse" not in _heads(data):
        return []
    rows = []
    for label, bits in sorted(pframe_bits.items(), key=lambda kv: kv[1]):
        # every perceptual head shows the same sample; take one this model has
        shown = next((h for h in heads if _get(data, "mse", h, label, True)), heads[0])
        first = {
            h: {
                m: (_get(data, m, h, label, True) or [None])[0]
                for m in ("mse", "digit-accuracy", "confident")
            }
            for h in ("mse", shown, SOURCE)
        }
        sample, mmse = first[shown], first["mse"]
        rows.append(
            {
                "model": label,
                "p_bits": bits,
                "mmse_mse": mmse["mse"],
                "sample_mse": sample["mse"],
                "ratio": _ratio(sample["mse"], mmse["mse"]),
                "mmse_accuracy": mmse["digit-accuracy"],
                "sample_accuracy": sample["digit-accuracy"],
                "mmse_confident": mmse["confident"],
                "sample_confident": sample["confident"],
                "source_confident": first[SOURCE]["confident"],
            }
        )
    return rows


def p_frame_mean(values: Sequence[float | None] | None) -> float | None:
    """Mean over the P-frames (frames 1...) of a per-frame list; ``None`` without P-frames."""
    return nanmean(list(values[1:]), None) if values and len(values) > 1 else None


def universality_at_matched_realism(
    universal: Sequence[Row], e2e: Sequence[Row], realism: str = "confident_per_frame"
) -> list[Row]:
    """End-to-end points against the universal head's distortion-perception curve, at the
    same realism: per end-to-end point (rows of :func:`dp_points`, one head), the universal
    P-frame MSE linearly interpolated between the two universal points whose P-frame realism
    (``realism``, a per-frame statistic, frames 1...; frame 0 is the shared given frame)
    brackets it. Outside the universal curve's realism range nothing is interpolated (the
    row says so): a lower MSE at another realism is no evidence about universality. The
    paper's finding is a gap near zero (the MMSE representation is universal)."""
    out = []
    for point in e2e:
        # the curve of the same head only (a universal run may train JD and FMD together)
        same = [r for r in universal if r.get("head") == point.get("head")]
        measured = ((p_frame_mean(r.get(realism)), r.get("p_mse")) for r in same)
        curve = sorted((lvl, m) for lvl, m in measured if lvl is not None and m is not None)
        level, mse = p_frame_mean(point.get(realism)), point.get("p_mse")
        interpolated = None
        for (r0, m0), (r1, m1) in itertools.pairwise(curve):
            if level is not None and r0 <= level <= r1:
                w = 0.0 if r1 == r0 else (level - r0) / (r1 - r0)
                interpolated = m0 + w * (m1 - m0)
                break
        out.append(
            {
                "lambda_p": point.get("lambda_p"),
                "head": point.get("head"),
                "realism": level,
                "e2e_p_mse": mse,
                "universal_p_mse": interpolated,
                "gap": None if interpolated is None or mse is None else interpolated - mse,
                "bracketed": interpolated is not None,
            }
        )
    return out


def dp_points(
    points: Sequence[tuple[float | None, Mapping, str, str]], training: str = "universal"
) -> list[Row]:
    """Distortion-perception points ``(lambda_p, results, model label, head)``, by lambda,
    with the classifier's realism statistics beside every evaluation critic's W1;
    ``training`` (``"universal"``, ``"end-to-end"``) is recorded in each row."""
    rows = []
    # a weight the model's file does not record (None) sorts last and reads n/a
    for lam, data, label, head in sorted(points, key=lambda p: (p[0] is None, p[0] or 0.0)):
        mse = _get(data, "mse", head, label, per_frame=True)
        rows.append(
            {
                "lambda_p": lam,
                "training": training,
                "model": label,
                "head": head,
                "mse": nanmean(mse or [], None),
                "p_mse": p_frame_mean(mse),
                "w1_jd": _get(data, "w1-jd", head, label),
                "w1_fmd": _get(data, "w1-fmd", head, label),
                "confident": _get(data, "confident", head, label),
                "class_tv": _get(data, "class-tv", head, label),
                "class_tv_per_frame": _get(data, "class-tv", head, label, True),
                "fd": _get(data, "fd", head, label),
                "confident_per_frame": _get(data, "confident", head, label, True),
                "p_confident": p_frame_mean(_get(data, "confident", head, label, True)),
                "permanence": _get(data, "permanence", head, label),
                "correction": _get(data, "correction", head, label),
            }
        )
    return rows


def factor_of_two(rows: Sequence[Row], head: str = "fmd") -> list[Row]:
    """Per P-frame rate: the PLF head's P-frame MSE against twice the MMSE head's. Not a test
    of the theorem unless the head is perfectly realistic (see
    :func:`posterior_factor_of_two` for one that is)."""
    out = []
    for bits in sorted({r["p_bits"] for r in rows}):
        at = {r["head"]: r for r in rows if r["p_bits"] == bits}
        if head not in at or "mse" not in at:
            continue
        plf, mmse = at[head], at["mse"]
        out.append(
            {
                "p_bits": bits,
                "mmse_p_mse": mmse["p_mse"],
                "twice_mmse": 2 * mmse["p_mse"] if mmse["p_mse"] is not None else None,
                f"{head}_p_mse": plf["p_mse"],
                "ratio_to_mmse": _ratio(plf["p_mse"], mmse["p_mse"]),
                f"{head}_w1_fmd": plf["w1_fmd"],
                "mmse_w1_fmd": mmse["w1_fmd"],
            }
        )
    return out


def posterior_summary(data: Mapping, pframe_bits: Mapping[str, int]) -> dict[str, list[Row]]:
    """Every table of an evaluation whose perceptual heads continued a posterior sample of
    the keyframe code, by name: :func:`error_permanence` rows, their low-vs-high-rate
    summary (perceptual heads and MMSE), :func:`posterior_factor_of_two` and, with the
    per-clip records, :func:`realism_given_mmse`."""
    rows = error_permanence(data, pframe_bits)
    return {
        "posterior_permanence": rows,
        "posterior_permanence_summary": permanence_summary(
            [r for r in rows if r["head"] != SOURCE]
        ),
        "posterior_factor_of_two": posterior_factor_of_two(data, pframe_bits),
        "realism_given_mmse": realism_given_mmse(data, pframe_bits),
    }


def realism_given_mmse(
    data: Mapping, pframe_bits: Mapping[str, int] | None = None, reference: str = "mse"
) -> list[Row]:
    """Does a perceptual head draw a recognisable digit where the MMSE frame does not?

    Per model and perceptual head, from the per-clip records (``data["sequences"]``, as
    :func:`~compressai_plf.eval.evaluate_models` returns them): the head's confident share
    over the P-frames whose MMSE (``reference``) frame is confident, and over those whose
    MMSE frame is not. A head that redraws the frame (the realism constraint asks for that)
    is as confident on both; one that only sharpens the MMSE frame follows it. Frames
    without a value for either head are left out.
    """
    rows = []
    ref_key = head_key("confident" + PER_FRAME, reference)
    for label, records in (data.get("sequences") or {}).items():
        for head in _heads(data):
            if head in (reference, SOURCE):
                continue
            own_key = head_key("confident" + PER_FRAME, head)
            sums = {True: [0, 0.0], False: [0, 0.0]}  # MMSE confident -> [frames, confident]
            for record in records:
                res = record.get("results", record)
                ref, own = res.get(ref_key), res.get(own_key)
                if ref is None or own is None:
                    continue
                if len(ref) != len(own):
                    raise ValueError(
                        f"model {label!r}: {head!r} has {len(own)} frames of 'confident', "
                        f"{reference!r} {len(ref)} in one clip record"
                    )
                for r, o in zip(ref[1:], own[1:], strict=True):
                    if r is None or o is None or r != r or o != o:  # None / NaN: undefined
                        continue
                    tally = sums[bool(r >= 0.5)]
                    tally[0] += 1
                    tally[1] += float(o)
            (n_conf, hits_conf), (n_unconf, hits_unconf) = sums[True], sums[False]
            total = n_conf + n_unconf
            if not total:  # this model has no such head
                continue
            rows.append(
                {
                    "model": label,
                    "p_bits": (pframe_bits or {}).get(label),
                    "head": head,
                    "p_frames": total,
                    "mmse_confident": n_conf / total,
                    "confident_where_mmse_confident": hits_conf / n_conf if n_conf else None,
                    "confident_where_mmse_unconfident": (
                        hits_unconf / n_unconf if n_unconf else None
                    ),
                }
            )
    return rows


def family_summary(rows: Sequence[Row]) -> dict[str, list[Row]]:
    """Every table derived from :func:`error_permanence` rows, by name."""
    return {
        "error_permanence": list(rows),
        "permanence_summary": permanence_summary(rows),
        "factor_of_two": factor_of_two(rows),
        "reference_comparison": reference_comparison(rows),
    }


def reference_comparison(rows: Sequence[Row]) -> list[Row]:
    """Our MSE (clip mean and P-frame mean) next to the authors' logged numbers."""
    out = []
    for head, paper in LOW_RATE_IFRAME_MSE.items():
        for bits, value in paper.items():
            mine = [r for r in rows if r["head"] == head and r["p_bits"] == bits]
            r = mine[0] if mine else {}
            out.append(
                {
                    "head": head,
                    "p_bits": bits,
                    "paper_mse": value,
                    "ours_clip_mse": r.get("mse"),
                    "ours_p_mse": r.get("p_mse"),
                }
            )
    return out


def _fmt(value: Any, spec: str | Callable[[Any], str] | None) -> str:
    if value is None:
        return "n/a"
    if callable(spec):
        return spec(value)
    if isinstance(value, (list, tuple)):
        return " / ".join(_fmt(v, spec) for v in value)
    if isinstance(value, float):
        return format(value, spec or ".4g")
    return str(value)


def markdown_table(
    rows: Sequence[Row],
    columns: Sequence[str],
    headers: Sequence[str] | None = None,
    formats: Mapping[str, str | Callable[[Any], str]] | None = None,
) -> str:
    """Render ``rows`` as a GitHub markdown table (lists are joined with `` / ``)."""
    headers = list(headers or columns)
    if len(headers) != len(columns):
        raise ValueError("headers and columns differ in length")
    formats = formats or {}
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c), formats.get(c)) for c in columns) + " |")
    return "\n".join(lines)
