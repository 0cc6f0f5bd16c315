"""``python -m compressai_plf.demo``: the shipped zoo models on Moving MNIST, every decoder
head, from real bitstreams.

The README's main job, a few minutes on a laptop CPU:

1. load the fixed-rate zoo models shipped in the package (``ssf_plf(q, rate_mode="fixed",
   pretrained=True)`` for q = 1, 3, 5: a 12-bit I-frame and 2, 8 or 16 bits per P-frame, the
   PLF paper's regime, https://arxiv.org/abs/2305.19301), each with an MMSE head and
   universal PLF-JD, PLF-FMD and PLF-SA heads;
2. write each Moving MNIST test clip to a real bitstream per model and decode it with every
   head (one bitstream, four decoders);
3. measure per-frame MSE / PSNR and digit agreement (the shipped digit classifier; W1 too
   when ``--eval-critics`` is given) into ``OUT/demo.json`` (CompressAI's eval layout),
   draw per-frame curves and reconstruction grids into ``OUT/plots`` and print the
   error-permanence table (``OUT/tables.md``).

``docs/results.md`` has the full reproduction (``python -m compressai_plf.reproduction``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .datasets.data_root import find_data_root
from .results import write_json


def mnist_root(explicit: str | None) -> tuple[str, bool]:
    """``(root, download)``: ``--data-root``, else ``$PLF_DATA_ROOT/mnist``, else the
    project's shared data folder (``../shared/data/mnist`` from the working directory), else a
    cache folder filled by torchvision's download."""
    if explicit:
        return explicit, False
    found = find_data_root("mnist", "MNIST/raw")
    if found is not None:
        return str(found), False
    return str(Path.home() / ".cache" / "compressai_plf" / "mnist"), True


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="results/demo", help="output folder")
    p.add_argument("--data-root", default=None, help="MNIST root (torchvision layout)")
    p.add_argument("--clips", type=int, default=200, help="test clips to evaluate")
    p.add_argument("--classifier", default=None, help="digit classifier (default: shipped)")
    p.add_argument("--eval-critics", default=None, help="evaluation critics file (optional)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import torch

    from .eval import evaluate_models
    from .metrics.packaged import packaged_classifier_path
    from .reproduction.family import QUALITIES, family_models, pframe_bits
    from .reproduction.figures import family_figures
    from .reproduction.report import permanence_tables
    from .reproduction.tables import error_permanence, family_summary

    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    root, download = mnist_root(args.data_root)
    if download:
        from .datasets import MovingMNIST

        print(f"downloading MNIST to {root} (torchvision)", file=sys.stderr)
        MovingMNIST(root, split="test", download=True)

    print(f"1/3 loading the zoo's fixed-rate models q{QUALITIES}", file=sys.stderr)
    models = family_models("zoo")
    print(f"2/3 coding {args.clips} test clips per model, decoding every head", file=sys.stderr)
    results = evaluate_models(
        models,
        dataset="mmnist",
        data_root=root,
        max_clips=args.clips,
        classifier=args.classifier or packaged_classifier_path(),
        eval_critics=args.eval_critics,
        lpips=None,
        out_dir=out,
        name="demo",
        grid=True,
        grid_clips=3,
        progress=not args.no_progress,
    )
    print("3/3 plots and tables", file=sys.stderr)
    rows = error_permanence(results, pframe_bits())
    figures = family_figures(results, out / "grids", out / "plots")
    tables = permanence_tables(family_summary(rows))
    (out / "tables.md").write_text(tables)
    summary = {
        "results": str(out / "demo.json"),
        "tables": str(out / "tables.md"),
        "plots": [str(f) for f in figures],
        "clips": results["settings"]["clips"],
        "error_permanence": rows,
    }
    write_json(summary, out / "summary.json")
    print(tables)
    return summary


if __name__ == "__main__":
    main()
