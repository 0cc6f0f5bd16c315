"""Evaluate ``ssf_plf`` zoo entries or checkpoints from real bitstreams.

Usage::

    python -m compressai_plf.eval (--checkpoint PATH [PATH ...] | --zoo 1,2,5 [--rate-mode fixed]
        [--family natural|mmnist])
        --dataset mmnist|kth|yuv [--data-root DIR] --out DIR
        [--heads mse,jd,fmd,sa] [--classifier FILE] [--eval-critics FILE] [--lpips auto|none|FILE]
        [--frames N] [--max-clips N] [--fps F] [--dataset-args JSON] [--rate-count file|payload]
        [--name NAME] [--grid] [--grid-clips 4] [--keep-bitstreams] [--device cpu]
        [--threads N] [--no-progress]

Writes ``DIR/<name>.json`` (one entry per model, CompressAI's layout extended as described in
``docs/evaluation.md``), ``DIR/sequences/<label>.json`` (per-sequence results) and, with
``--grid``, ``DIR/grids/<label>.npz`` for ``python -m compressai_plf.plot --grid``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path
from typing import Any

import torch

from ..datasets.data_root import resolve_root
from ..datasets.eval_split import eval_dataset_class, eval_dataset_names
from ..metrics.packaged import packaged_classifier_path
from ..utils.cli_errors import (
    check_device,
    check_positive,
    check_torch_file,
    check_writable_dir,
    fail,
    one_line_errors,
)
from ..zoo.presets import FAMILIES
from .evaluate import RATE_COUNTS, evaluate_models, posterior_iframe_decoder
from .models import from_checkpoint, from_zoo, parse_qualities


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m compressai_plf.eval",
        description="Evaluate ssf_plf models with every decoder head from real bitstreams.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    src = p.add_argument_group("models (at least one)")
    src.add_argument("--checkpoint", nargs="+", default=[], metavar="PATH", help="checkpoints")
    src.add_argument("--zoo", metavar="QUALITIES", help="zoo qualities, e.g. 1,2,5 or 1-3")
    src.add_argument("--rate-mode", default="hyperprior", choices=("hyperprior", "fixed"))
    src.add_argument(
        "--family",
        choices=FAMILIES,
        default=None,
        help="zoo family (default: mmnist for --rate-mode fixed, natural RGB for hyperprior)",
    )
    src.add_argument("--metric", default="mse", help="zoo metric")
    data = p.add_argument_group("data")
    data.add_argument("--dataset", default="mmnist", choices=eval_dataset_names())
    data.add_argument("--data-root", help="MNIST root, KTH folder or folder of .yuv files")
    data.add_argument("--frames", type=int, help="frames per clip (default 3; yuv: whole file)")
    data.add_argument("--max-clips", type=int, help="evaluate only the first N clips")
    data.add_argument("--fps", type=float, help="frame rate for kbit/s (default per dataset)")
    data.add_argument("--dataset-args", default="{}", help="JSON dict of dataset options")
    met = p.add_argument_group("metrics")
    met.add_argument("--heads", help="comma-separated heads (default: every head of a model)")
    met.add_argument(
        "--classifier", help="digit classifier checkpoint (Moving MNIST; default: the shipped one)"
    )
    met.add_argument("--eval-critics", help="evaluation critics file (build_eval_critics)")
    met.add_argument("--lpips", default="auto", help="'auto', 'none' or AlexNet weight file")
    met.add_argument("--rate-count", default="file", choices=RATE_COUNTS, help="bits in bitrate")
    met.add_argument(
        "--iframe",
        default="heads",
        choices=("heads", "posterior"),
        help="frame 0 of the perceptual heads: their (shared) I-frame decoder, or an exact "
        "posterior sample of the keyframe code over the MNIST training frames (Moving MNIST, "
        "fixed-rate models: a perfectly realistic I-frame, to study the P-frame heads apart "
        "from I-frame training)",
    )
    out = p.add_argument_group("output")
    out.add_argument("--out", required=True, help="output directory")
    out.add_argument("--name", help="curve name (default ssf_plf-<dataset>)")
    out.add_argument("--grid", action="store_true", help="save reconstruction grids (.npz)")
    out.add_argument("--grid-clips", type=int, default=4)
    out.add_argument("--keep-bitstreams", action="store_true")
    run = p.add_argument_group("run")
    run.add_argument("--device", default="cpu")
    run.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (0: torch's default)"
    )
    run.add_argument("--no-progress", action="store_true")
    return p


def _dataset_args(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"--dataset-args is not valid JSON: {err}") from err
    if not isinstance(value, dict):
        raise ValueError("--dataset-args must be a JSON object, e.g. '{\"persons\": [21]}'")
    return value


def _check_options(args: argparse.Namespace) -> None:
    """Name a bad option before any model or data is loaded."""
    if args.threads < 0:
        raise fail(f"--threads must be >= 0 (0: torch's default), got {args.threads}")
    check_device(args.device)
    check_positive(args.fps, "--fps")
    for option, value in (("--frames", args.frames), ("--max-clips", args.max_clips)):
        if value is not None and value < 1:
            raise fail(f"{option} must be >= 1, got {value}")
    if args.grid_clips < 1:
        raise fail(f"--grid-clips must be >= 1, got {args.grid_clips}")
    for path in args.checkpoint:
        check_torch_file(path, "--checkpoint")
    check_torch_file(args.classifier, "--classifier")
    check_torch_file(args.eval_critics, "--eval-critics")
    if args.lpips.lower() not in ("auto", "none"):
        check_torch_file(args.lpips, "--lpips")
    if args.data_root is not None and not Path(args.data_root).exists():
        raise fail(f"--data-root: not found: {args.data_root}")
    if args.iframe == "posterior" and args.dataset != "mmnist":
        raise fail("--iframe posterior samples MNIST training digits: Moving MNIST only")
    check_writable_dir(args.out, "--out")


def _check_dataset_keys(dataset: str, kwargs: dict[str, Any]) -> None:
    """Unknown ``--dataset-args`` keys are named (not a TypeError from the dataset class).
    They go to the registered class's ``eval_split``: its own named options, and, when it
    forwards ``**kwargs``, the class's constructor options."""
    cls = eval_dataset_class(dataset)
    split = inspect.signature(cls.eval_split).parameters
    init = inspect.signature(cls.__init__).parameters
    forwards = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in split.values())
    if forwards and any(p.kind is inspect.Parameter.VAR_KEYWORD for p in init.values()):
        return
    named = {k for k, p in split.items() if p.kind is not inspect.Parameter.VAR_KEYWORD}
    fixed = {"self", "cls", "root", "split", "frames", "max_clips", "fps", "return_labels"}
    known = sorted((named | (set(init) if forwards else set())) - fixed)
    unknown = sorted(set(kwargs) - set(known))
    if unknown:
        raise fail(f"--dataset-args: unknown keys {unknown} for {dataset}; known: {known}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    if not args.checkpoint and not args.zoo:
        raise SystemExit("error: give models with --checkpoint PATH ... and/or --zoo QUALITIES")
    with one_line_errors():
        dataset_kwargs = _dataset_args(args.dataset_args)
        _check_dataset_keys(args.dataset, dataset_kwargs)
    _check_options(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    with one_line_errors():
        models = [from_checkpoint(path) for path in args.checkpoint]
        if args.zoo:
            models += [
                from_zoo(q, args.rate_mode, args.metric, family=args.family)
                for q in parse_qualities(args.zoo)
            ]
        lpips = None if args.lpips.lower() == "none" else args.lpips
        heads = args.heads.split(",") if args.heads else None
        data = evaluate_models(
            models,
            args.dataset,
            args.data_root,
            frames=args.frames,
            max_clips=args.max_clips,
            fps=args.fps,
            dataset_kwargs=dataset_kwargs,
            heads=heads,
            classifier=args.classifier
            or (packaged_classifier_path() if args.dataset == "mmnist" else None),
            eval_critics=args.eval_critics,
            lpips=lpips,
            rate_count=args.rate_count,
            out_dir=args.out,
            name=args.name,
            grid=args.grid,
            grid_clips=args.grid_clips,
            keep_bitstreams=args.keep_bitstreams,
            progress=not args.no_progress,
            device=args.device,
            iframe_sampler=None
            if args.iframe == "heads"
            else posterior_iframe_decoder(resolve_root(args.data_root, "mnist")),
        )
    for reason in data["unavailable"].items():
        print(f"unavailable: {reason[0]} ({reason[1]})", file=sys.stderr)
    for path in data["files"]:
        print(path)
    return data


if __name__ == "__main__":
    main(sys.argv[1:])
