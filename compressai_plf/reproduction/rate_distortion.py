"""Rate-distortion comparison of a hyperprior family: ssf_plf against x264, x265 and
CompressAI's ``ssf2020`` trained on the same CPU budget, with BD-rates.

Usage::

    python -m compressai_plf.reproduction.rate_distortion --data-root DATA/mnist
        --out docs/results/rd [--source zoo|runs] [--runs-dir runs] [--max-clips 200]
        [--crf 20 26 32 38 44 50] [--threads 2]
    python -m compressai_plf.reproduction.rate_distortion --family natural
        --data-root DATA/video/yuv --out docs/results/rd-natural --source runs --runs-dir runs

Every codec codes the same test clips to real bitstreams (low-delay P: an intra frame then
P-frames) and is measured by the evaluation loop (:func:`compressai_plf.eval.rd_sweep`): bits
per pixel from the bytes each codec wrote, kbit/s at the clip set's frame rate, PSNR as the
mean of per-frame PSNRs (of the RGB frames for natural video).

* ``--family mmnist`` (default): the first ``--max-clips`` Moving MNIST test clips (3 frames,
  64x64, gray). ``--family natural``: every raw YUV file of ``--data-root`` (CompressAI's
  eval-tool naming, e.g. ``foreman_352x288_25Hz_8bit_P420.yuv``), whole sequences, RGB.
* ``ssf_plf`` hyperprior qualities 3, 5 and 7 (MMSE head) of the family, from the zoo or from
  the runs of ``zoo/ssf_plf-hyperprior-q*-mse.json`` (``mmnist``) or
  ``zoo/ssf_plf-natural-q*-mse.json`` (``natural``); bits: the coded-clip files (container
  included).
* ``ssf2020``: the runs of ``zoo/experiments/ssf2020-<family>-q*.json`` (its weights are not
  shipped: 34 M parameters per quality); skipped with a note when the runs are missing.
  Frames are padded to multiples of 128 (border replicated), gray ones replicated to RGB
  (:mod:`compressai_plf.eval.compressai_video`); bits: its rANS strings.
* x264 and x265 low-delay P through ffmpeg, one CRF per point, PSNR-tuned (``psnr_tune``:
  adaptive quantisation and psychovisual tools off, as a PSNR comparison calls for); bits:
  the elementary stream with its parameter sets (:mod:`compressai_plf.anchors`).

BD-rates (PSNR, piecewise cubic interpolation, as the learned curves have three points) of
every curve against x264 and against ssf2020 are written with the curves to
``--out``: one results JSON per codec, ``bd_rate.json``, ``rd.md`` and ``rd-psnr.png``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from compressai.models.video import ScaleSpaceFlow

from ..anchors import X264LowDelayP, X265LowDelayP, encoder_available
from ..checkpoint import load_checkpoint, state_dict_of
from ..eval.clips import ClipSet, load_clips
from ..eval.compressai_video import CompressAIVideoCodec
from ..eval.container_codec import ContainerCodec
from ..eval.models import EvalModel, from_checkpoint, from_zoo
from ..eval.rd_sweep import anchor_rd_results, rd_sweep
from ..plot.rate_distortion import plot_rate_distortion
from ..results import save_results, write_json
from ..utils.bd_rate import bd_psnr, bd_rate
from .family import run_checkpoint
from .tables import markdown_table

QUALITIES = (3, 5, 7)
DEFAULT_CRFS = (20, 26, 32, 38, 44, 50)
#: family -> (evaluation dataset, prefix of the ssf_plf training runs' names)
RD_FAMILIES = {"mmnist": ("mmnist", "ssf_plf-hyperprior"), "natural": ("yuv", "ssf_plf-natural")}


def _check_family(family: str) -> None:
    if family not in RD_FAMILIES:
        raise ValueError(f"family must be one of {sorted(RD_FAMILIES)}, got {family!r}")


def load_test_clips(data_root: str | None, max_clips: int, family: str = "mmnist") -> ClipSet:
    """The family's test clips through the evaluation tool
    (:func:`~compressai_plf.eval.clips.load_clips`): the first ``max_clips`` Moving MNIST
    test clips, or every raw YUV file of ``data_root`` (natural; ``max_clips`` caps the files).

    Raises:
        ValueError: unknown family; natural video without ``data_root``.
    """
    _check_family(family)
    if family == "natural" and data_root is None:
        raise ValueError("--family natural needs --data-root: a folder of raw .yuv files")
    return load_clips(RD_FAMILIES[family][0], data_root, max_clips=max_clips)


def ssf_plf_models(
    source: str, runs_dir: str | Path, family: str = "mmnist"
) -> list[tuple[int, EvalModel]]:
    """The hyperprior family (quality, model with its training weights): shipped weights or
    training runs."""
    _check_family(family)
    if source == "zoo":
        return [(q, from_zoo(q, "hyperprior", family=family)) for q in QUALITIES]
    if source != "runs":
        raise ValueError(f"source must be 'zoo' or 'runs', got {source!r}")
    out = []
    for q in QUALITIES:
        name = f"{RD_FAMILIES[family][1]}-q{q}-mse"
        path = run_checkpoint(runs_dir, name)
        if not path.is_file():
            raise FileNotFoundError(
                f"training run missing: {path}; train it with `python examples/train_video.py "
                f"--config zoo/{name}.json` or use --source zoo"
            )
        out.append((q, from_checkpoint(path)))
    return out


def ssf2020_models(
    runs_dir: str | Path, family: str = "mmnist"
) -> list[tuple[int, torch.nn.Module]] | None:
    """CompressAI's ``ssf2020`` runs (quality, model), or None when any run is missing."""
    _check_family(family)
    out = []
    for q in QUALITIES:
        path = run_checkpoint(runs_dir, f"ssf2020-{family}-q{q}")
        if not path.is_file():
            return None
        net = ScaleSpaceFlow()
        net.load_state_dict(state_dict_of(load_checkpoint(path), str(path)))
        out.append((q, net))
    return out


def bd_rates(curves: Mapping[str, Mapping], anchors: Sequence[str]) -> list[dict[str, Any]]:
    """BD-rate (%) and BD-PSNR (dB) of every curve against each anchor curve (bpp, PSNR).

    A pair whose PSNR ranges do not overlap gets ``None`` and the reason."""
    rows = []
    for anchor in anchors:
        a = curves[anchor]["results"]
        for name, data in curves.items():
            if name == anchor:
                continue
            t = data["results"]
            row: dict[str, Any] = {"test": name, "anchor": anchor}
            try:
                row["bd_rate_percent"] = bd_rate(a["bpp"], a["psnr"], t["bpp"], t["psnr"], "pchip")
                row["bd_psnr_db"] = bd_psnr(a["bpp"], a["psnr"], t["bpp"], t["psnr"], "pchip")
            except ValueError as err:
                row.update(bd_rate_percent=None, bd_psnr_db=None, note=str(err))
            rows.append(row)
    return rows


def rd_tables(curves: Mapping[str, Mapping], rows: Sequence[Mapping]) -> str:
    """Markdown: the rate points of every curve, then the BD-rates."""
    points = [
        {"codec": name, "q": q, "bpp": bpp, "psnr": psnr, "mse": mse}
        for name, data in curves.items()
        for q, bpp, psnr, mse in zip(
            data["results"]["q"],
            data["results"]["bpp"],
            data["results"]["psnr"],
            data["results"]["mse"],
            strict=True,
        )
    ]
    first = markdown_table(
        points,
        ["codec", "q", "bpp", "psnr", "mse"],
        ["codec", "quality / CRF", "bpp", "PSNR (dB)", "MSE"],
        {"bpp": ".4f", "psnr": ".2f", "mse": ".5f"},
    )
    second = markdown_table(
        rows,
        ["test", "anchor", "bd_rate_percent", "bd_psnr_db"],
        ["codec", "against", "BD-rate (%)", "BD-PSNR (dB)"],
        {"bd_rate_percent": "+.1f", "bd_psnr_db": "+.2f"},
    )
    return f"### Rate points\n\n{first}\n\n### BD-rate (PSNR, pchip)\n\n{second}\n"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m compressai_plf.reproduction.rate_distortion",
        description="Hyperprior family against x264, x265 and ssf2020 (BD-rate).",
    )
    p.add_argument("--family", choices=sorted(RD_FAMILIES), default="mmnist")
    p.add_argument(
        "--data-root",
        default=None,
        help="MNIST root (mmnist; default: torchvision's) or folder of .yuv files (natural)",
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--source", choices=("zoo", "runs"), default="zoo")
    p.add_argument("--runs-dir", default="runs", help="training runs (ssf2020; --source runs)")
    p.add_argument("--max-clips", type=int, default=200)
    p.add_argument("--crf", type=int, nargs="+", default=list(DEFAULT_CRFS), help="x264/x265 CRFs")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.family == "natural" and args.data_root is None:
        parser.error("--family natural needs --data-root: a folder of raw .yuv files")
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    clips = load_test_clips(args.data_root, args.max_clips, args.family)
    show = not args.no_progress
    curves: dict[str, dict] = {}
    notes: list[str] = []
    family = ssf_plf_models(args.source, args.runs_dir, args.family)
    # the lambdas as the weight files (or checkpoints) record them
    lambdas = ", ".join(f"q{q}: {m.training.get('lmbda')}" for q, m in family)
    codecs = [ContainerCodec(m.model, q, heads=("mse",)) for q, m in family]
    try:
        curves["ssf_plf"] = rd_sweep(
            codecs,
            clips,
            "ssf_plf",
            f"ssf_plf {args.family} hyperprior ({args.source}), MMSE head, lambdas {lambdas}",
            progress=show,
        )
    finally:
        for codec in codecs:
            codec.close()
    ssf2020 = ssf2020_models(args.runs_dir, args.family)
    if ssf2020 is None:
        notes.append(f"ssf2020 skipped: runs missing under {args.runs_dir} (zoo/experiments)")
    else:
        curves["ssf2020"] = rd_sweep(
            [CompressAIVideoCodec(m, q) for q, m in ssf2020],
            clips,
            "ssf2020",
            "CompressAI ssf2020, same CPU budget",
            progress=show,
        )
    for cls, encoder in ((X264LowDelayP, "libx264"), (X265LowDelayP, "libx265")):
        if not encoder_available(encoder):
            notes.append(f"{cls.name} skipped: ffmpeg with {encoder} not found")
            continue
        curves[cls.name] = anchor_rd_results(
            lambda q, c=cls: c(quality=q, psnr_tune=True), clips, args.crf, progress=show
        )
    for name, data in curves.items():
        save_results(data, out / f"{name}.json")
    anchors = [a for a in ("x264", "ssf2020") if a in curves]
    rows = bd_rates(curves, anchors)
    summary = {"family": args.family, "clips": len(clips), "notes": notes, "bd_rate": rows}
    write_json(summary, out / "bd_rate.json")
    header = "<!-- generated by python -m compressai_plf.reproduction.rate_distortion -->\n\n"
    tables = rd_tables(curves, rows)
    (out / "rd.md").write_text(header + tables)
    plot_rate_distortion(list(curves.values()), "psnr", out / "rd-psnr.png")
    for note in notes:
        print(note, file=sys.stderr)
    print(tables)
    return summary


if __name__ == "__main__":
    main()
