"""Reproduce the PLF paper's Moving MNIST findings and write ``docs/results``.

Usage::

    python -m compressai_plf.reproduction --data-root DATA/mnist --out docs/results
        [--source runs|zoo] [--runs-dir runs] [--work-dir results/reproduction]
        [--max-clips 500] [--threads 2] [--classifier FILE] [--eval-critics FILE]

Models: the fixed-rate family at 2, 8 and 16 bits per P-frame (qualities 1, 3, 5; a 12-bit
I-frame) with MMSE and universal JD, FMD and SA heads, from the zoo (``--source zoo``) or from
the training runs of ``zoo/*.json`` (``--source runs``, the default: checkpoints
``RUNS/ssf_plf-fixed-q{1,3,5}-universal/checkpoint.pth.tar``). The experiments of
``zoo/experiments/*.json`` are added when their checkpoints exist under ``--runs-dir``:
end-to-end PLF-FMD at q1 (universality gap) and universal FMD heads at other perception
weights (distortion-perception curve).

Every model codes the first ``--max-clips`` Moving MNIST test clips to real bitstreams and
decodes them with every head (:func:`compressai_plf.eval.evaluate_models`), twice: each head
with its own I-frame (``rates.json``), and every perceptual head continuing an exact posterior
sample of the keyframe code (:mod:`compressai_plf.eval.posterior_iframe`;
``posterior-iframe.json``), which isolates the P-frame decoders' error permanence from I-frame
training and measures the factor of two. Metrics: per-frame MSE, the digit-identity statistics
(:mod:`compressai_plf.metrics.identity_statistics`, with the shipped digit classifier or
``--classifier``), Fréchet distances on its features, and the W1 estimates of frozen
evaluation critics (built once into the work dir with
``python -m compressai_plf.eval.build_eval_critics`` unless ``--eval-critics`` is given).

Writes into ``--out``: ``rates.json``, ``posterior-iframe.json`` (and ``universality.json``,
``dp.json``), ``tables.md`` (the tables ``docs/results.md`` quotes), ``summary.json`` (the
rows behind them) and ``figures/``. Per-sequence files, grids and bitstreams stay in the work
dir; the posterior sampler's index is cached in the user's cache folder.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

import torch

from ..eval import evaluate_models
from ..eval.evaluate import posterior_iframe_decoder
from ..eval.models import from_checkpoint
from ..metrics.packaged import packaged_classifier_path
from ..results import write_json
from .family import family_models, pframe_bits, run_checkpoint
from .figures import dp_figure, family_figures, per_frame_figures
from .report import experiment_tables, permanence_tables
from .tables import (
    dp_points,
    error_permanence,
    family_summary,
    permanence_summary,
    posterior_factor_of_two,
    universality_gap,
)

DP_LAMBDAS = (0.003, 0.03)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m compressai_plf.reproduction",
        description="Reproduce the PLF paper's Moving MNIST findings (docs/results.md).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--data-root", required=True, help="MNIST root (holding MNIST/raw)")
    p.add_argument("--out", default="docs/results", help="results folder")
    p.add_argument("--source", choices=("runs", "zoo"), default="runs")
    p.add_argument(
        "--runs-dir",
        default="runs",
        help="training runs (the family with --source runs; experiments)",
    )
    p.add_argument("--work-dir", default="results/reproduction", help="caches and per-clip files")
    p.add_argument("--max-clips", type=int, default=500, help="test clips per model")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--classifier", help="digit classifier (default: the shipped one)")
    p.add_argument("--eval-critics", help="evaluation critics file (default: build once)")
    p.add_argument(
        "--posterior-digits",
        type=int,
        help="index only the first N MNIST training digits for posterior sampling (default: all)",
    )
    p.add_argument(
        "--no-posterior", action="store_true", help="skip the posterior-sample I-frame run"
    )
    p.add_argument("--no-progress", action="store_true")
    return p


def _eval_critics(args: argparse.Namespace, work: Path) -> str:
    if args.eval_critics:
        return args.eval_critics
    path = work / "eval_critics.pt"
    if not path.is_file():
        from ..eval.build_eval_critics import main as build

        print(f"building evaluation critics into {path} (once; a few minutes)", file=sys.stderr)
        build(["--data-root", args.data_root, "--out", str(path), "--threads", str(args.threads)])
    return str(path)


def _evaluate(models, name: str, args, work: Path, out: Path, metrics: dict, **kw) -> dict:
    data = evaluate_models(
        models,
        "mmnist",
        args.data_root,
        max_clips=args.max_clips,
        out_dir=work / name,
        name=name,
        progress=not args.no_progress,
        lpips=None,
        **metrics,
        **kw,
    )
    shutil.copyfile(work / name / f"{name}.json", out / f"{name}.json")
    return data


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    out, work = Path(args.out), Path(args.work_dir)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    metrics = {
        "classifier": args.classifier or packaged_classifier_path(),
        "eval_critics": _eval_critics(args, work),
    }
    models = family_models(args.source, args.runs_dir)
    rates = _evaluate(models, "rates", args, work, out, metrics, grid=True, grid_clips=3)
    rows = error_permanence(rates, pframe_bits())
    summary: dict[str, Any] = {
        "source": args.source,
        "clips": rates["settings"]["clips"],
        **family_summary(rows),
    }
    posterior = None
    if not args.no_posterior:
        sampler = posterior_iframe_decoder(
            args.data_root, max_digits=args.posterior_digits, progress=not args.no_progress
        )
        posterior = _evaluate(
            family_models(args.source, args.runs_dir),
            "posterior-iframe",
            args,
            work,
            out,
            metrics,
            iframe_sampler=sampler,
        )
        post_rows = error_permanence(posterior, pframe_bits())
        summary["posterior_permanence"] = post_rows
        summary["posterior_permanence_summary"] = permanence_summary(
            [r for r in post_rows if r["head"] != "source"]
        )
        summary["posterior_factor_of_two"] = posterior_factor_of_two(posterior, pframe_bits())
    # the q1 heads' perception weight, as its weight file (or checkpoint) records it
    q1_lambda_p = next(m for m in models if m.label == "q1").training.get("lambda_p")
    dp_src = [(0.0, rates, "q1", "mse"), (q1_lambda_p, rates, "q1", "fmd")]
    runs = Path(args.runs_dir)  # experiments come from training runs, whatever the source
    e2e = run_checkpoint(runs, "exp-q1-e2e-fmd")
    if e2e.is_file():
        uni = _evaluate(
            [from_checkpoint(e2e, "q1-e2e-fmd")],
            "universality",
            args,
            work,
            out,
            metrics,
            heads=["mse", "fmd"],
        )
        summary["universality"] = universality_gap(rates, "q1", uni, "q1-e2e-fmd")
    extra = [(lam, run_checkpoint(runs, f"exp-q1-universal-fmd-lp{lam:g}")) for lam in DP_LAMBDAS]
    extra = [(lam, p) for lam, p in extra if p.is_file()]
    if extra:
        srcs = [from_checkpoint(p, f"q1-fmd-lp{lam:g}") for lam, p in extra]
        dp = _evaluate(srcs, "dp", args, work, out, metrics, heads=["mse", "fmd"])
        dp_src += [(lam, dp, f"q1-fmd-lp{lam:g}", "fmd") for lam, _ in extra]
    summary["dp"] = dp_points(dp_src)
    figs = out / "figures"
    made = family_figures(rates, work / "rates" / "grids", figs)
    if posterior is not None:
        made += per_frame_figures(posterior, figs, prefix="posterior-iframe-")
    if len(summary["dp"]) >= 2:
        made.append(dp_figure(summary["dp"], figs / "dp-mse-vs-w1-fmd.png"))
    summary["figures"] = [str(p) for p in made]
    write_json(summary, out / "summary.json")
    (out / "tables.md").write_text(permanence_tables(summary) + "\n" + experiment_tables(summary))
    print((out / "tables.md").read_text())
    return summary


if __name__ == "__main__":
    main()
