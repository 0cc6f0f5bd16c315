"""How many of a fixed-rate coder's latents sit in tanh's flat tails.

Usage::

    python -m compressai_plf.eval.latent_saturation CHECKPOINT [CHECKPOINT ...]
        --data-root DATA/mnist [--clips 64] [--threshold 0.97] [--json OUT]

The fixed-rate coder (:class:`~compressai_plf.models.fixed_rate_coder.FixedRateLatentCoder`)
squashes each latent with ``tanh`` before its L-level quantiser, and training passes the
gradient straight through the rounding but through the ``tanh``: a latent whose ``|tanh(y)|``
is near 1 gets almost no gradient from any loss and stays at the extreme level. A training
signal that pushes latents outwards (the perception loss of an end-to-end run, issue 15) then
turns the code into one that keeps fewer levels, and it does not recover. This command
measures it: per coder of each checkpoint (keyframe, motion, residual), the share of latents
with ``|tanh(y)| > threshold`` on the first ``--clips`` Moving MNIST test clips.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..checkpoint import load_ssf_plf
from ..models.fixed_rate_coder import FixedRateLatentCoder
from ..results import write_json
from ..utils.cli_errors import check_torch_file, fail, one_line_errors

__all__ = ["latent_saturation"]


@torch.no_grad()
def latent_saturation(
    model: nn.Module, frames: Sequence[Tensor], threshold: float = 0.97
) -> dict[str, float]:
    """Share of latents with ``|tanh(y)| > threshold`` at each fixed-rate coder of ``model``
    (by module name) over one MMSE forward pass of ``frames``; coders it holds twice in the
    pass (the inter coders, once per P-frame) are pooled.

    Raises:
        ValueError: ``threshold`` not in (0, 1), or the model has no fixed-rate coder.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    coders = {n: m for n, m in model.named_modules() if isinstance(m, FixedRateLatentCoder)}
    if not coders:
        raise ValueError("the model has no fixed-rate latent coder (rate_mode 'fixed')")
    counts = {n: [0, 0] for n in coders}  # name -> [saturated, total]

    def hook(name: str):
        def count(_module: nn.Module, inputs: tuple[Tensor, ...]) -> None:
            squashed = torch.tanh(inputs[0]).abs()
            counts[name][0] += int((squashed > threshold).sum())
            counts[name][1] += squashed.numel()

        return count

    handles = [m.register_forward_pre_hook(hook(n)) for n, m in coders.items()]
    was_training = model.training
    try:
        model.eval()
        model(list(frames))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return {n: s / t for n, (s, t) in counts.items() if t}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m compressai_plf.eval.latent_saturation",
        description="Share of fixed-rate latents in tanh's flat tails, per coder.",
    )
    p.add_argument("checkpoints", nargs="+", help="training checkpoints or zoo weight files")
    p.add_argument("--data-root", required=True, help="MNIST root (holding MNIST/raw)")
    p.add_argument("--clips", type=int, default=64, help="Moving MNIST test clips")
    p.add_argument("--frames", type=int, default=2)
    p.add_argument("--threshold", type=float, default=0.97)
    p.add_argument("--json", help="write the shares here")
    return p


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    if args.clips < 1 or args.frames < 2:
        raise fail("--clips must be >= 1 and --frames >= 2")
    for path in args.checkpoints:
        check_torch_file(path, "checkpoint")
    if not Path(args.data_root).is_dir():
        raise fail(f"--data-root: not a directory: {args.data_root}")
    from .clips import load_clips

    with one_line_errors("measuring latent saturation"):
        clips = [c.frames for c in load_clips("mmnist", args.data_root, args.frames, args.clips)]
        frames = list(torch.stack(clips).unbind(1))
        result: dict[str, Any] = {"clips": len(clips), "threshold": args.threshold, "models": {}}
        for path in args.checkpoints:
            shares = latent_saturation(load_ssf_plf(path), frames, args.threshold)
            result["models"][path] = shares
            print(path + ": " + ", ".join(f"{n} {s:.1%}" for n, s in shares.items()))
    if args.json:
        write_json(result, args.json)
    return result


if __name__ == "__main__":
    main()
