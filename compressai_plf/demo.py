"""``python -m compressai_plf.demo``: train a small PLF codec on Moving MNIST, then evaluate
every decoder head from real bitstreams.

Until the zoo ships trained weights, the main job is this train-then-evaluate demo, run on a
laptop CPU in a few minutes:

1. MMSE stage: a small fixed-rate ``ssf_plf`` (12-bit I-frame, 2-bit P-frames, 64x64
   Moving MNIST clips, the PLF paper's regime, https://arxiv.org/abs/2305.19301);
2. universal stage: JD, FMD and SA decoder heads trained on the frozen encoder (the bitstream
   does not change), each with its own Wasserstein critic;
3. evaluation: every test clip is written to a real bitstream and decoded with each head;
   per-frame MSE / PSNR (and, given a classifier or evaluation critics, digit agreement and
   W1) go to ``OUT/demo.json`` in CompressAI's eval layout, with plots and a reconstruction
   grid in ``OUT/plots``.

The model is small and briefly trained: the numbers show the pipeline, not the paper's
results (see ``zoo/README.md`` for the recipes that reproduce those).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from .datasets.data_root import ENV_VAR

_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"

DEMO_ARCHITECTURE = {
    "rate_mode": "fixed",
    "channels": 1,
    "mid_planes": 32,
    "context_planes": 16,
    "stages": 6,
    "num_levels": 1,
    "keyframe_planes": 12,
    "keyframe_levels": 2,
    "latent_planes": 1,
    "levels": 2,
    "decoders": ["mse", "jd", "fmd", "sa"],
}


def mnist_root(explicit: str | None) -> tuple[str, bool]:
    """``(root, download)``: ``--data-root``, else ``$PLF_DATA_ROOT/mnist``, else the
    project's shared data folder, else a cache folder filled by torchvision's download."""
    if explicit:
        return explicit, False
    if os.environ.get(ENV_VAR):
        return str(Path(os.environ[ENV_VAR]) / "mnist"), False
    if (_SHARED / "MNIST" / "raw").is_dir():
        return str(_SHARED), False
    return str(Path.home() / ".cache" / "compressai_plf" / "mnist"), True


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="results/demo", help="output folder")
    p.add_argument("--data-root", default=None, help="MNIST root (torchvision layout)")
    p.add_argument("--steps", type=int, default=600, help="MMSE-stage steps")
    p.add_argument("--head-steps", type=int, default=150, help="universal-stage steps")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--clips", type=int, default=128, help="test clips to evaluate")
    p.add_argument("--lambda-p", type=float, default=0.04, help="perception weight of the heads")
    p.add_argument("--classifier", default=None, help="digit classifier checkpoint (optional)")
    p.add_argument("--eval-critics", default=None, help="evaluation critics file (optional)")
    p.add_argument("--seed", type=int, default=0)
    return p


def _train(stage: str, out: Path, root: str, args: argparse.Namespace, **extra: Any) -> dict:
    from .training.cli import finalize
    from .training.trainer import namespace, train

    targs = namespace(
        stage=stage,
        data_root=root,
        model_args=dict(DEMO_ARCHITECTURE),
        lmbda=1.0,
        learning_rate=5e-4,
        batch_size=args.batch_size,
        eval_interval=0,
        checkpoint_interval=100,
        log_interval=25,
        seed=args.seed,
        save_dir=str(out / f"train_{stage}"),
        **extra,
    )
    targs.patch_size = [64]
    targs.critic_steps = extra.get("critic_steps")
    return train(finalize(targs))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    root, download = mnist_root(args.data_root)
    if download:
        from .datasets import MovingMNIST

        print(f"downloading MNIST to {root} (torchvision)", file=sys.stderr)
        MovingMNIST(root, split="test", download=True)

    print("1/3 MMSE stage", file=sys.stderr)
    mse = _train("mse", out, root, args, steps=args.steps)
    print("2/3 universal JD/FMD/SA heads on the frozen encoder", file=sys.stderr)
    heads = _train(
        "universal",
        out,
        root,
        args,
        steps=args.head_steps,
        plf=["jd", "fmd", "sa"],
        lambda_p=args.lambda_p,
        critic_steps=2,
        init=mse["checkpoint"],
    )

    print("3/3 evaluation from real bitstreams, every head", file=sys.stderr)
    from .eval import evaluate_models
    from .eval.sources import from_checkpoint

    results = evaluate_models(
        [from_checkpoint(heads["checkpoint"], label="demo")],
        dataset="mmnist",
        data_root=root,
        max_clips=args.clips,
        classifier=args.classifier,
        eval_critics=args.eval_critics,
        lpips=None,
        rate_count="payload",
        out_dir=out,
        name="demo",
        grid=True,
    )
    from .plot.__main__ import main as plot_main

    plot_args = [str(out / "demo.json"), "--out", str(out / "plots")]
    grids = sorted((out / "grids").glob("*.npz")) if (out / "grids").is_dir() else []
    if grids:
        plot_args += ["--grid", str(grids[0])]
    plot_main(plot_args)
    summary = {
        "mse_stage": mse,
        "universal_stage": heads,
        "results": str(out / "demo.json"),
        "plots": str(out / "plots"),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    print(json.dumps(results.get("results", {}), indent=2, default=str)[:4000])
    return summary


if __name__ == "__main__":
    main()
