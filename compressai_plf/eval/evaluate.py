"""The evaluation loop: code every clip into a real bitstream, decode it with every head, measure.

:func:`evaluate_codec` is the one loop over (codec, clips, metrics): every codec is a
:class:`~compressai_plf.eval.codec.ClipCodec` (``ssf_plf`` through the container, CompressAI
video models, x264/x265), used by :func:`evaluate_models` (``python -m compressai_plf.eval``),
the rate-distortion sweep (:mod:`compressai_plf.eval.rd_sweep`) and the reproduction. For an
``ssf_plf`` model (one rate point) and each clip (one sequence), the clip is written with
:func:`compressai_plf.io.write_clip`, its size is read back from the file system, and the same
file is decoded by :func:`compressai_plf.io.read_clip_heads` with every head in one pass (the
MMSE chain, every head's motion reference, decoded once). Bits are those written (``file``:
for ``ssf_plf`` header and checksum included) and of the coded data (``payload``);
``bitrate``/``bpp`` use the count chosen with ``rate_count``, kbit/s the clip set's frame
rate. The results follow ``docs/evaluation.md`` (CompressAI's eval-tool layout with per-head
and per-frame keys).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from ..metrics.identity_statistics import LAST_FRAME_METRICS
from ..models.ssf_plf import ScaleSpaceFlowPLF
from ..plfs import head_names
from ..results import PER_FRAME, head_key, json_ready, nanmean, validate_results, write_json
from .aggregate import average_sequences, class_tv_metrics, frechet_metrics, merge_rate_points
from .clip_metrics import SCALAR_ONLY, MetricSuite, build_metric_suite
from .clips import ClipSet, EvalClip, clips_for_channels, load_clips
from .codec import ClipCodec, CodedResult
from .container_codec import ContainerCodec, safe_name
from .eval_critic import EvalCritics
from .models import EvalModel, from_checkpoint

__all__ = [
    "RATE_COUNTS",
    "evaluate_codec",
    "evaluate_model",
    "evaluate_models",
    "posterior_iframe_decoder",
]

RATE_COUNTS = ("file", "payload")
REFERENCE_HEAD = "mse"
#: Pseudo-head of the statistics measured on the source clips (the ceiling of every head).
SOURCE = "source"


def _rates(coded: CodedResult, clip: EvalClip, rate_count: str) -> dict[str, Any]:
    t, _, h, w = clip.frames.shape
    fps, pixels, file_bytes = clip.fps, t * h * w, coded.bytes_written
    bits = {"file": 8 * file_bytes, "payload": coded.payload_bits}
    out: dict[str, Any] = {}
    for count in RATE_COUNTS:
        out[f"bitrate-{count}"] = bits[count] * fps / t / 1000.0
        out[f"bpp-{count}"] = bits[count] / pixels
    out = {
        "bitrate": out[f"bitrate-{rate_count}"],
        "bpp": out[f"bpp-{rate_count}"],
        **out,
        "file-bytes": file_bytes,
        "file-bits": bits["file"],
        "payload-bits": bits["payload"],
        "bits" + PER_FRAME: coded.frame_bits,
    }
    return out


def _head_metrics(per_frame: Mapping[str, list[float]], head: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for metric, values in per_frame.items():
        # Permanence and correction are about where a clip ends up: its last frame.
        scalar = values[-1] if metric in LAST_FRAME_METRICS else nanmean(values)
        out[head_key(metric, head)] = scalar
        if metric not in SCALAR_ONLY:
            out[head_key(metric + PER_FRAME, head)] = values
    return out


def evaluate_model(
    entry: EvalModel,
    clips: ClipSet,
    suite: MetricSuite,
    heads: Sequence[str] | None = None,
    rate_count: str = "file",
    bitstream_dir: str | os.PathLike | None = None,
    grid_clips: int = 0,
    progress: bool = True,
    description: str = "",
    iframe_sampler: Any = None,
) -> dict[str, Any]:
    """Evaluate one model on every clip.

    Args:
        entry: the model and its label.
        clips: evaluation clips.
        suite: metrics and their networks (:func:`build_metric_suite`).
        heads: decoder heads to evaluate (default: every head of the model).
        rate_count: ``"file"`` or ``"payload"`` bits for ``bitrate`` and ``bpp``.
        bitstream_dir: keep the coded clips there (default: a temporary folder, deleted).
        grid_clips: keep the first ``grid_clips`` source and decoded clips for a grid.
        progress: show a progress bar.
        description: the per-sequence ``description``.
        iframe_sampler: a callable ``(model, frame0 (1, C, H, W), dither seed, clip index) ->
            frame`` whose frame every perceptual head shows as frame 0 and continues (e.g.
            :func:`posterior_iframe_decoder`); ``None``: the heads' own I-frame decoders.

    Returns:
        ``{"results": averaged results of this rate point, "sequences": [per-sequence
        records], "heads": [...], "unavailable": {...}, "grid": {name: array} or None}``.
    """
    codec = ContainerCodec(entry.model, entry.label, heads, bitstream_dir, iframe_sampler)
    try:
        return evaluate_codec(codec, clips, suite, rate_count, grid_clips, progress, description)
    finally:
        codec.close()


def evaluate_codec(
    codec: ClipCodec,
    clips: ClipSet,
    suite: MetricSuite,
    rate_count: str = "file",
    grid_clips: int = 0,
    progress: bool = True,
    description: str = "",
) -> dict[str, Any]:
    """Evaluate one codec (one rate point) on every clip: the one evaluation loop.

    Args:
        codec: any :class:`~compressai_plf.eval.codec.ClipCodec`.
        clips: evaluation clips (their frame rate gives kbit/s).
        suite: metrics and their networks (:func:`build_metric_suite`).
        rate_count: ``"file"`` (bytes written) or ``"payload"`` bits for ``bitrate``/``bpp``.
        grid_clips: keep the first ``grid_clips`` source and decoded clips for a grid.
        progress: show a progress bar.
        description: the per-sequence ``description``.

    Returns:
        As :func:`evaluate_model`.
    """
    if rate_count not in RATE_COUNTS:
        raise ValueError(f"rate_count must be one of {RATE_COUNTS}, got {rate_count!r}")
    label, heads = str(codec.label), list(codec.heads)
    records: list[dict[str, Any]] = []
    src_feats: list[Tensor] = []
    head_feats: dict[str, list[Tensor]] = {h: [] for h in heads}
    preds: dict[str, list[Tensor]] = {h: [] for h in (SOURCE, *heads)}
    true_labels: list[Tensor] = []
    grid: dict[str, list[np.ndarray]] = {"source": [], **{h: [] for h in heads}}
    unavailable: dict[str, str] = {}
    bar = tqdm(clips, desc=label, disable=not progress, file=sys.stderr, total=len(clips))
    for k, clip in enumerate(bar):
        x = clip.frames
        coded = codec.code(clip, k)
        recon = coded.decoded
        if any(r.shape != x.shape for r in recon.values()):
            shapes = {h: tuple(r.shape) for h, r in recon.items()}
            raise ValueError(f"{label}: decoded {shapes}, expected {tuple(x.shape)}")
        src = x.unsqueeze(0)
        results = _rates(coded, clip, rate_count)
        per_head: dict[str, Any] = {}
        for h in heads:
            rec = recon[h].unsqueeze(0)
            table = _head_metrics(suite.per_frame(src, rec, clip.labels), h)
            if h == REFERENCE_HEAD:
                results.update({k.rpartition("/")[0]: v for k, v in table.items()})
            per_head.update(table)
            if suite.classifier is not None:
                head_feats[h].append(suite.features(rec))
                preds[h].append(suite.identity_per_frame(rec)[1])
        if suite.classifier is not None:  # the ceiling: the same statistics on the source
            identity, pred = suite.identity_per_frame(src, clip.labels)
            per_head.update(_head_metrics(identity, SOURCE))
            preds[SOURCE].append(pred)
            if clip.labels is not None and clip.labels.numel() == 1:
                true_labels.append(clip.labels.reshape(1).long())
        results.update(per_head)
        if suite.classifier is not None:
            src_feats.append(suite.features(src))
        if k < grid_clips:
            grid["source"].append(x.numpy())
            for h in heads:
                grid[h].append(recon[h].numpy())
        records.append(
            {"source": clip.name, "name": label, "description": description, "results": results}
        )
    if not records:
        raise ValueError("no clips to evaluate")
    agg = average_sequences([r["results"] for r in records])
    if suite.classifier is not None:
        lengths = {f.shape[1] for f in src_feats}
        if len(src_feats) >= 2 and len(lengths) == 1:
            ref = REFERENCE_HEAD if REFERENCE_HEAD in heads else None
            agg.update(
                frechet_metrics(
                    torch.cat(src_feats), {h: torch.cat(f) for h, f in head_feats.items()}, ref
                )
            )
        else:
            unavailable["fd"] = "Fréchet distances need at least 2 clips of equal length"
        if len(true_labels) == len(records) and len(lengths) == 1:
            agg.update(
                class_tv_metrics(
                    {h: torch.cat(p) for h, p in preds.items()}, torch.cat(true_labels)
                )
            )
        else:
            unavailable["class-tv"] = "needs one true digit per clip and clips of equal length"
    arrays = None
    if grid_clips > 0:
        arrays = {k: np.stack(v).astype(np.float32) for k, v in grid.items()}
    return {
        "results": agg,
        "sequences": records,
        "heads": heads,
        "unavailable": unavailable,
        "grid": arrays,
    }


def posterior_iframe_decoder(data_root: str | os.PathLike, seed: int = 0, **kwargs: Any):
    """A frame-0 decoder for :func:`evaluate_models` that draws each clip's keyframe from its
    exact posterior (:class:`~compressai_plf.eval.posterior_iframe.PosteriorIFrameSampler`,
    one index per model, built or loaded on first use); draws are seeded by ``(seed, clip
    index)``. ``kwargs`` go to the sampler."""
    from .posterior_iframe import PosteriorIFrameSampler

    samplers: dict[int, PosteriorIFrameSampler] = {}

    def decode(model: ScaleSpaceFlowPLF, frame0: Tensor, dither_seed: int, clip: int) -> Tensor:
        if id(model) not in samplers:
            samplers[id(model)] = PosteriorIFrameSampler(model, data_root, **kwargs)
        gen = torch.Generator().manual_seed(seed * 1_000_003 + clip)
        return samplers[id(model)].sample_keyframe(frame0, dither_seed, gen).frames

    decode.description = (  # type: ignore[attr-defined]
        "exact posterior sample of the keyframe code over the 60k MNIST training frames"
    )
    return decode


def _as_eval_model(item: Any, index: int) -> EvalModel:
    if isinstance(item, EvalModel):
        return item
    if isinstance(item, ScaleSpaceFlowPLF):
        return EvalModel(f"model{index}", item.eval(), "in memory")
    if isinstance(item, (str, os.PathLike)):
        return from_checkpoint(item)
    raise TypeError(
        "models must be EvalModel, ScaleSpaceFlowPLF or checkpoint paths, got "
        f"{type(item).__name__}"
    )


def evaluate_models(
    models: Sequence[EvalModel | ScaleSpaceFlowPLF | str | os.PathLike],
    dataset: str = "mmnist",
    data_root: str | os.PathLike | None = None,
    *,
    clips: ClipSet | None = None,
    frames: int | None = None,
    max_clips: int | None = None,
    fps: float | None = None,
    dataset_kwargs: Mapping[str, Any] | None = None,
    heads: Sequence[str] | None = None,
    classifier: str | os.PathLike | torch.nn.Module | None = None,
    eval_critics: str | os.PathLike | EvalCritics | None = None,
    lpips: str | os.PathLike | torch.nn.Module | bool | None = "auto",
    rate_count: str = "file",
    out_dir: str | os.PathLike | None = None,
    name: str | None = None,
    grid: bool = False,
    grid_clips: int = 4,
    keep_bitstreams: bool = False,
    progress: bool = True,
    device: str | torch.device = "cpu",
    iframe_sampler: Any = None,
) -> dict[str, Any]:
    """Evaluate models (one rate point each) from real bitstreams; see ``docs/evaluation.md``.

    Args:
        models: ``EvalModel`` objects (:func:`~compressai_plf.eval.models.from_zoo`,
            :func:`~compressai_plf.eval.models.from_checkpoint`), models (labelled
            ``model0``, ...) or checkpoint paths.
        dataset: ``"mmnist"``, ``"kth"`` or ``"yuv"`` (ignored when ``clips`` is given).
        data_root: the dataset's folder (see :func:`~compressai_plf.eval.clips.load_clips`).
        clips: an already opened :class:`ClipSet` (overrides the dataset arguments).
        frames, max_clips, fps, dataset_kwargs: see :func:`load_clips`.
        heads: decoder heads (default: every head of each model).
        classifier: digit classifier file/module: digit agreement (and accuracy against the
            true digit) and Fréchet distances on its features (Moving MNIST only).
        eval_critics: evaluation-critics file/object: ``w1-jd``, ``w1-fmd``, ``w1-sa``.
        lpips: ``"auto"``, a weight file, a module, or ``None`` (see
            :func:`~compressai_plf.eval.clip_metrics.build_metric_suite`).
        rate_count: bits behind ``bitrate`` and ``bpp``: ``"file"`` (every byte written,
            as CompressAI's eval tool counts) or ``"payload"`` (coded latents only).
        out_dir: write ``<name>.json``, ``sequences/<label>.json`` and, with ``grid``,
            ``grids/<label>.npz`` there.
        name: curve name (default ``ssf_plf-<dataset>``).
        grid: save reconstruction grids of the first ``grid_clips`` clips.
        keep_bitstreams: keep the coded clips in ``out_dir/bitstreams/<label>/``.
        progress: progress bars on stderr.
        device: where models and metric networks run.
        iframe_sampler: frame-0 decoder of every perceptual head (see :func:`evaluate_model`).

    Returns:
        The results dict (``name``, ``description``, ``heads``, ``results`` with one entry
        per model), plus ``unavailable`` (metric -> reason), ``settings``, ``sequences``
        (label -> per-sequence records) and ``files`` (paths written).
    """
    if rate_count not in RATE_COUNTS:
        raise ValueError(f"rate_count must be one of {RATE_COUNTS}, got {rate_count!r}")
    if not models:
        raise ValueError("no models to evaluate")
    if (grid or keep_bitstreams) and out_dir is None:
        raise ValueError("grid and keep_bitstreams need out_dir")
    entries = [_as_eval_model(m, i) for i, m in enumerate(models)]
    labels = [e.label for e in entries]
    if len(set(labels)) != len(labels):
        raise ValueError(
            f"model labels must be unique, got {labels}; rename the checkpoint files or pass "
            "EvalModel objects with their own labels"
        )
    if clips is None:
        clips = load_clips(dataset, data_root, frames, max_clips, fps, dataset_kwargs)
    if len(clips) == 0:
        raise ValueError("the dataset has no clips")
    channels = {int(e.model.channels) for e in entries}
    if len(channels) != 1:
        raise ValueError(
            f"models code different channel counts {sorted(channels)}; evaluate them apart"
        )
    clips = clips_for_channels(clips, channels.pop())
    first = clips[0].frames
    suite = build_metric_suite(
        clips.dataset, *first.shape[1:], classifier, eval_critics, lpips, device
    )
    name = name or f"ssf_plf-{clips.dataset}"
    description = (
        f"Inference (compressai_plf.eval; {clips.description}; {len(clips)} clips; real "
        f"bitstreams; bitrate and bpp count {rate_count} bits)"
    )
    out = Path(out_dir) if out_dir is not None else None
    points, sequences, all_heads, files = [], {}, [], []
    unavailable = dict(suite.unavailable)
    for entry in entries:
        entry.model.to(device)
        bits_dir = out / "bitstreams" / safe_name(entry.label) if keep_bitstreams else None
        res = evaluate_model(
            entry,
            clips,
            suite,
            heads,
            rate_count,
            bits_dir,
            grid_clips if grid else 0,
            progress,
            description,
            iframe_sampler,
        )
        points.append(res["results"])
        sequences[entry.label] = res["sequences"]
        all_heads += [h for h in res["heads"] if h not in all_heads]
        unavailable.update(res["unavailable"])
        if out is not None:
            files.append(
                write_json(res["sequences"], out / "sequences" / f"{safe_name(entry.label)}.json")
            )
            if res["grid"] is not None:
                path = out / "grids" / f"{safe_name(entry.label)}.npz"
                path.parent.mkdir(parents=True, exist_ok=True)
                np.savez(path, **res["grid"])
                files.append(path)
    results = {"q": labels, **merge_rate_points(points)}
    data = {
        "name": name,
        "description": description,
        "heads": [h for h in head_names() if h in all_heads]
        + [h for h in all_heads if h not in head_names()],
        "results": results,
        "unavailable": unavailable,
        "settings": {
            "dataset": clips.dataset,
            "clips": len(clips),
            **({"planes": clips.planes} if clips.planes else {}),
            "rate_count": rate_count,
            "models": {e.label: e.origin for e in entries},
            "iframe": "each perceptual head's own I-frame decoder"
            if iframe_sampler is None
            else getattr(iframe_sampler, "description", "given frame-0 decoder"),
            **suite.settings,
        },
    }
    data = json_ready(data)
    validate_results(data, name)
    if out is not None:
        files.insert(0, write_json(data, out / f"{safe_name(name)}.json"))
    data["sequences"] = sequences
    data["files"] = [str(f) for f in files]
    return data
