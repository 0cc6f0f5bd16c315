"""``python -m compressai_plf.demo``: the shipped zoo models on Moving MNIST, every decoder
head, from real bitstreams, showing the PLF paper's error permanence.

The README's main job, a few minutes on a laptop CPU:

1. load the fixed-rate zoo models shipped in the package (``ssf_plf(q, rate_mode="fixed",
   pretrained=True)`` for q = 1, 5, 9: a 12-bit I-frame and 2, 16 or 256 bits per P-frame,
   the PLF paper's regime, https://arxiv.org/abs/2305.19301), each with an MMSE head and
   universal PLF-JD, PLF-FMD and PLF-SA heads;
2. write each Moving MNIST test clip to a real bitstream per model and decode it with every
   head (one bitstream, several decoders), the perceptual heads continuing an exact posterior
   sample of the 12-bit I-frame code (a realistic first frame that mostly shows a wrong
   digit, as a perfectly realistic I-frame decoder would draw; its index over the MNIST
   training digits is built once per model and cached);
3. measure per-frame MSE and the digit-identity statistics (the shipped digit classifier; W1
   too when ``--eval-critics`` is given) into ``OUT/demo.json`` (CompressAI's eval layout),
   check the paper's findings (:mod:`compressai_plf.reproduction.findings`), draw per-frame
   curves into ``OUT/plots`` and the reconstruction grid ``OUT/plots/contrast-q9.png``: a
   256-bit clip whose wrong first digit PLF-JD keeps while PLF-FMD returns to the source
   digit (the other kept clips' frames are in ``OUT/grids``), and print the tables
   (``OUT/tables.md``).

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
    p.add_argument(
        "--frames",
        type=int,
        default=2,
        help="frames per clip (2: the paper's headline experiment, as the heads were trained)",
    )
    p.add_argument("--grid-clips", type=int, default=40, help="clips kept for reconstruction grids")
    p.add_argument("--classifier", default=None, help="digit classifier (default: shipped)")
    p.add_argument("--eval-critics", default=None, help="evaluation critics file (optional)")
    p.add_argument(
        "--posterior-digits",
        type=int,
        default=None,
        help="index only the first N MNIST training digits for the posterior frame 0 "
        "(default: all 60000, as docs/results.md)",
    )
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import torch

    from .eval import evaluate_models
    from .eval.evaluate import posterior_iframe_decoder
    from .metrics.packaged import packaged_classifier_path
    from .reproduction.family import HIGH, LOW, QUALITIES, family_models, pframe_bits
    from .reproduction.figures import contrast_grid, per_frame_figures
    from .reproduction.findings import check_findings
    from .reproduction.report import findings_tables, permanence_tables
    from .reproduction.tables import posterior_summary

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
    print(
        f"2/3 coding {args.clips} test clips per model, decoding every head from a posterior "
        "frame 0 (its index is built once per model, then cached)",
        file=sys.stderr,
    )
    sampler = posterior_iframe_decoder(
        root, max_digits=args.posterior_digits, progress=not args.no_progress
    )
    results = evaluate_models(
        models,
        dataset="mmnist",
        data_root=root,
        max_clips=args.clips,
        frames=args.frames,
        classifier=args.classifier or packaged_classifier_path(),
        eval_critics=args.eval_critics,
        lpips=None,
        out_dir=out,
        name="demo",
        grid=True,
        grid_clips=args.grid_clips,
        iframe_sampler=sampler,
        progress=not args.no_progress,
    )
    print("3/3 findings, plots and tables", file=sys.stderr)
    bits = pframe_bits()
    summary: dict[str, Any] = posterior_summary(results, bits)
    summary["findings"] = check_findings(summary["posterior_permanence"], LOW, HIGH)
    figures = per_frame_figures(results, out / "plots")
    contrast = contrast_grid(out, HIGH, bits[HIGH], out / "plots")
    figures += [contrast] if contrast else []
    tables = permanence_tables(summary) + "\n" + findings_tables(summary)
    (out / "tables.md").write_text(tables)
    summary.update(
        {
            "results": str(out / "demo.json"),
            "tables": str(out / "tables.md"),
            "plots": [str(f) for f in figures],
            "contrast_grid": str(contrast) if contrast else None,
            "clips": results["settings"]["clips"],
        }
    )
    write_json(summary, out / "summary.json")
    print(tables)
    if contrast is None:
        print(f"no kept clip shows JD keeping and FMD correcting at {HIGH}", file=sys.stderr)
    return summary


if __name__ == "__main__":
    main()
