"""A training start point made from a zoo weight file, for ``--init``.

Usage::

    python -m compressai_plf.zoo.start_point --quality 9 --rate-mode fixed --family mmnist
        --out ../plf_runs/q9-l16-mse/checkpoint.pth.tar [--weights FILE] [--keep-heads jd,fmd]
        [--force]

The campaign's recipes (``zoo/campaign/``) start their perceptual stages from the MMSE
stage's checkpoint (``init: ../plf_runs/q9-l16-mse/checkpoint.pth.tar``). A user without
that run, or whose run folder is gone, can start them from the shipped weights instead: the
zoo file's encoder side, keyframe codec and MMSE head are the frozen MMSE coder those heads
were trained on. Given as ``--init`` directly, a zoo file counts every head it holds as
trained (a bare weight file records no stage), so a new run would start its perceptual heads
from the shipped ones; this command writes a checkpoint of stage ``mse`` whose
``trained_heads`` record names only ``--keep-heads`` (none by default), so
:func:`compressai_plf.training.init_from_checkpoint` starts the other heads as a fresh ``mse``
checkpoint would: from the MMSE head, or at their own initialisation for own-past heads.

The zoo stores float16 weights (``zoo.export --half``): the start point is that rounding of
the MMSE coder, not its float32 training checkpoint; the export check
(``zoo/export_checks.json``) measures how little the rounding changes decodes.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..checkpoint import load_checkpoint, save_atomic, state_dict_of, training_weights
from ..training.trainer import heads_in_state
from ..utils.cli_errors import check_torch_file, check_writable_dir, fail, one_line_errors
from .presets import FAMILIES, check_quality
from .pretrained import weights_path

__all__ = ["start_point"]


def start_point(
    weights: str | os.PathLike, out: str | os.PathLike, keep_heads: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Write a stage-``mse`` checkpoint at ``out`` holding the state dict of the zoo weight
    file ``weights``, with only ``keep_heads`` recorded as trained; returns what it wrote
    (without the state dict).

    Raises:
        ValueError: a head of ``keep_heads`` is not in the file.
    """
    ckpt = load_checkpoint(weights, what="zoo weight file")
    state = state_dict_of(ckpt, f"zoo weight file {weights}")
    present = sorted(heads_in_state(state))
    missing = [h for h in keep_heads if h not in present]
    if missing:
        raise ValueError(f"{weights} has no head {missing[0]!r} (it holds {present})")
    lmbda = training_weights(ckpt)["lmbda"]
    record = {
        "stage_name": "mse",
        "trained_heads": sorted(keep_heads),
        "bitstream_lmbda": lmbda,
        "args": {"stage": "mse", "lmbda": lmbda, "init": str(weights)},
        "final": True,
        "start_point_of": str(weights),
    }
    save_atomic({**record, "state_dict": state}, out)
    return {**record, "heads": present, "out": str(out)}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m compressai_plf.zoo.start_point",
        description="A stage-mse training checkpoint from a zoo weight file, for --init.",
    )
    p.add_argument("--quality", type=int, help="zoo quality (with --rate-mode, --family)")
    p.add_argument("--rate-mode", default="fixed", choices=["fixed", "hyperprior"])
    p.add_argument("--family", default="mmnist", choices=sorted(FAMILIES))
    p.add_argument("--weights", help="a weight file instead of the zoo's for --quality")
    p.add_argument("--out", required=True, help="checkpoint to write")
    p.add_argument("--force", action="store_true", help="replace an existing --out")
    p.add_argument(
        "--keep-heads", default="", help="perceptual heads recorded as trained (comma list)"
    )
    return p


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    if args.weights:
        weights = Path(args.weights)
    elif args.quality is None:
        raise fail("give --quality (a zoo entry) or --weights FILE")
    else:
        with one_line_errors():
            check_quality(args.quality)
            weights = weights_path(args.quality, "mse", args.rate_mode, args.family)
    check_torch_file(weights, "weight file")
    if Path(args.out).exists() and not args.force:
        raise fail(f"--out {args.out} exists (a training run's checkpoint?); --force replaces it")
    check_writable_dir(Path(args.out).parent, "--out")
    keep = tuple(h for h in args.keep_heads.split(",") if h)
    with one_line_errors(f"making a start point from {weights}"):
        info = start_point(weights, args.out, keep)
    print(
        f"wrote {info['out']}: stage mse from {weights}, heads {info['heads']}, "
        f"recorded as trained: {info['trained_heads'] or 'none'}"
    )
    return info


if __name__ == "__main__":
    main()
