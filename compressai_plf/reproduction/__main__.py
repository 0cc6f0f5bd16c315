"""Reproduce the PLF paper's Moving MNIST findings and write ``docs/results``.

Usage::

    python -m compressai_plf.reproduction --data-root DATA/mnist --out docs/results
        [--source runs|zoo] [--runs-dir runs] [--work-dir results/reproduction]
        [--max-clips 500] [--threads 2] [--classifier FILE] [--eval-critics FILE]

Models: the fixed-rate family at 2, 8 and 16 bits per P-frame (qualities 1, 3, 5; a 12-bit
I-frame) with MMSE and universal JD, FMD and SA heads, from the zoo (``--source zoo``) or from
the training runs of ``zoo/*.json`` (``--source runs``, the default: checkpoints
``RUNS/ssf_plf-fixed-q{1,3,5}-universal/checkpoint.pth.tar``). With ``--source runs`` the
experiments of ``zoo/experiments/*.json`` are added when their checkpoints exist: end-to-end
PLF-FMD at q1 (universality gap) and universal FMD heads at other perception weights
(distortion-perception curve).

Every model codes the first ``--max-clips`` Moving MNIST test clips to real bitstreams and
decodes them with every head (:func:`compressai_plf.eval.evaluate_models`). Metrics: per-frame
MSE, digit agreement (the shipped digit classifier or ``--classifier``) and the W1 estimates of
frozen evaluation critics (built once into the work dir with
``python -m compressai_plf.eval.build_eval_critics`` unless ``--eval-critics`` is given).

Writes into ``--out``: ``rates.json`` (and ``universality.json``, ``dp.json``), ``tables.md``
(the tables ``docs/results.md`` quotes), ``summary.json`` (the rows behind them) and
``figures/``. Per-sequence files, grids and bitstreams stay in the work dir.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import torch

from ..eval import evaluate_models
from ..eval.sources import ModelSource, from_checkpoint, from_zoo
from ..metrics.packaged import packaged_classifier_path
from ..plot.distortion_perception import plot_distortion_perception
from ..plot.per_frame import plot_per_frame
from ..plot.reconstruction_grid import load_grid, plot_reconstruction_grid
from ..plot.results import make_results
from ..zoo.presets import FIXED_PFRAME_BITS
from .tables import (
    dp_points,
    error_permanence,
    factor_of_two,
    markdown_table,
    permanence_summary,
    reference_comparison,
    universality_gap,
)

QUALITIES = (1, 3, 5)
ZOO_LAMBDA_P = 0.01  # the zoo recipes' perception weight (zoo/ssf_plf-fixed-q*-universal.json)
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
    p.add_argument("--runs-dir", default="runs", help="training runs (--source runs)")
    p.add_argument("--work-dir", default="results/reproduction", help="caches and per-clip files")
    p.add_argument("--max-clips", type=int, default=500, help="test clips per model")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--classifier", help="digit classifier (default: the shipped one)")
    p.add_argument("--eval-critics", help="evaluation critics file (default: build once)")
    p.add_argument("--no-progress", action="store_true")
    return p


def _checkpoint(runs: Path, name: str) -> Path:
    return runs / name / "checkpoint.pth.tar"


def _rate_sources(args: argparse.Namespace) -> list[ModelSource]:
    if args.source == "zoo":
        return [from_zoo(q, "fixed", label=f"q{q}") for q in QUALITIES]
    runs = Path(args.runs_dir)
    paths = [_checkpoint(runs, f"ssf_plf-fixed-q{q}-universal") for q in QUALITIES]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"training runs missing: {missing}; train them with `python examples/train_video.py "
            "--config zoo/ssf_plf-fixed-q<q>-{mse,universal}.json`, or pass --source zoo"
        )
    return [from_checkpoint(p, f"q{q}") for p, q in zip(paths, QUALITIES, strict=True)]


def _eval_critics(args: argparse.Namespace, work: Path) -> str:
    if args.eval_critics:
        return args.eval_critics
    path = work / "eval_critics.pt"
    if not path.is_file():
        from ..eval.build_eval_critics import main as build

        print(f"building evaluation critics into {path} (once; a few minutes)", file=sys.stderr)
        build(["--data-root", args.data_root, "--out", str(path), "--threads", str(args.threads)])
    return str(path)


def _evaluate(sources, name: str, args, work: Path, out: Path, metrics: dict, **kw) -> dict:
    data = evaluate_models(
        sources,
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


def _figures(rates: dict, dp_rows: list[dict], work: Path, figs: Path) -> list[str]:
    made = []
    for metric in ("mse", "digit-agreement", "w1-fmd", "w1-jd"):
        try:
            made.append(plot_per_frame(rates, metric, figs / f"per-frame-{metric}.png"))
        except ValueError:
            pass  # metric not measured
    for q in (QUALITIES[0], QUALITIES[-1]):
        grid = load_grid(work / "rates" / "grids" / f"q{q}.npz")
        for sample in (0, 1, 2):
            made.append(
                plot_reconstruction_grid(
                    grid,
                    figs / f"grid-q{q}-clip{sample}.png",
                    sample,
                    f"{FIXED_PFRAME_BITS[q]}-bit P-frames, 12-bit I-frame (test clip {sample})",
                )
            )
    if len(dp_rows) >= 2:
        run = make_results(
            "q1 FMD heads over lambda_p",
            [0.0] * len(dp_rows),
            heads={
                "fmd": {
                    "mse": [r["mse"] for r in dp_rows],
                    "w1-fmd": [r["w1_fmd"] for r in dp_rows],
                }
            },
            q=[f"lambda_p={r['lambda_p']:g}" for r in dp_rows],
        )
        made.append(
            plot_distortion_perception([run], figs / "dp-mse-vs-w1-fmd.png", "mse", "w1-fmd")
        )
    return [str(p) for p in made]


PCT = {"agreement_per_frame": lambda v: " / ".join(f"{100 * x:.0f}%" for x in v)}


def _tables(summary: dict[str, Any]) -> str:
    parts = ["<!-- generated by python -m compressai_plf.reproduction; do not edit -->"]
    parts += [
        "### Error permanence (per-frame MSE and digit agreement; W1 of the evaluation critics)",
        markdown_table(
            summary["error_permanence"],
            [
                "p_bits",
                "head",
                "mse_per_frame",
                "p_mse",
                "agreement_per_frame",
                "w1_jd",
                "w1_fmd",
                "w1_sa",
            ],
            [
                "P bits",
                "head",
                "MSE frames 1/2/3",
                "P-frame MSE",
                "digit agreement 1/2/3",
                "W1-JD",
                "W1-FMD",
                "W1-SA",
            ],
            {
                **PCT,
                "mse_per_frame": ".4f",
                "p_mse": ".4f",
                "w1_jd": ".3f",
                "w1_fmd": ".3f",
                "w1_sa": ".3f",
            },
        ),
        "### Lowest vs highest P-frame rate",
        markdown_table(
            summary["permanence_summary"],
            [
                "head",
                "bits",
                "p_mse_low",
                "p_mse_high",
                "p_mse_ratio",
                "agree_i_low",
                "agree_last_low",
                "agree_last_high",
            ],
            [
                "head",
                "P bits",
                "P-frame MSE (low)",
                "P-frame MSE (high)",
                "high / low",
                "I-frame agreement (low)",
                "last-frame agreement (low)",
                "last-frame agreement (high)",
            ],
            {
                "p_mse_low": ".4f",
                "p_mse_high": ".4f",
                "p_mse_ratio": ".2f",
                "agree_i_low": ".0%",
                "agree_last_low": ".0%",
                "agree_last_high": ".0%",
            },
        ),
        "### Factor of two (FMD P-frame MSE against the MMSE head's)",
        markdown_table(
            summary["factor_of_two"],
            [
                "p_bits",
                "mmse_p_mse",
                "twice_mmse",
                "fmd_p_mse",
                "ratio_to_mmse",
                "fmd_w1_fmd",
                "mmse_w1_fmd",
            ],
            [
                "P bits",
                "MMSE P-frame MSE",
                "2 x MMSE",
                "FMD P-frame MSE",
                "FMD / MMSE",
                "FMD W1-FMD",
                "MMSE W1-FMD",
            ],
            {
                "ratio_to_mmse": ".2f",
                "fmd_w1_fmd": ".3f",
                "mmse_w1_fmd": ".3f",
                "mmse_p_mse": ".4f",
                "twice_mmse": ".4f",
                "fmd_p_mse": ".4f",
            },
        ),
        "### Against the authors' logs (12-bit I-frame)",
        markdown_table(
            summary["reference_comparison"],
            ["head", "p_bits", "paper_mse", "ours_clip_mse", "ours_p_mse"],
            ["head", "P bits", "authors' MSE", "ours: clip mean", "ours: P-frame mean"],
            {"paper_mse": ".4f", "ours_clip_mse": ".4f", "ours_p_mse": ".4f"},
        ),
    ]
    if summary.get("universality"):
        parts += [
            "### Universality (PLF-FMD head at 2-bit P-frames)",
            markdown_table(
                summary["universality"],
                ["training", "mse", "p_mse", "w1_fmd", "mmse_head_mse"],
                ["FMD head", "MSE", "P-frame MSE", "W1-FMD", "MMSE head's MSE"],
                {"mse": ".4f", "p_mse": ".4f", "w1_fmd": ".3f", "mmse_head_mse": ".4f"},
            ),
        ]
    if summary.get("dp"):
        parts += [
            "### Distortion-perception (q1, universal FMD heads)",
            markdown_table(
                summary["dp"],
                ["lambda_p", "head", "mse", "p_mse", "w1_fmd"],
                ["lambda_p", "head", "MSE", "P-frame MSE", "W1-FMD"],
                {"lambda_p": "g", "mse": ".4f", "p_mse": ".4f", "w1_fmd": ".3f"},
            ),
        ]
    return "\n\n".join(parts) + "\n"


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
    rates = _evaluate(
        _rate_sources(args), "rates", args, work, out, metrics, grid=True, grid_clips=3
    )
    bits = {f"q{q}": FIXED_PFRAME_BITS[q] for q in QUALITIES}
    rows = error_permanence(rates, bits)
    summary: dict[str, Any] = {
        "source": args.source,
        "clips": rates["settings"]["clips"],
        "error_permanence": rows,
        "permanence_summary": permanence_summary(rows),
        "factor_of_two": factor_of_two(rows),
        "reference_comparison": reference_comparison(rows),
    }
    dp_src = [(0.0, rates, "q1", "mse"), (ZOO_LAMBDA_P, rates, "q1", "fmd")]
    if args.source == "runs":
        runs = Path(args.runs_dir)
        e2e = _checkpoint(runs, "exp-q1-e2e-fmd")
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
        extra = [(lam, _checkpoint(runs, f"exp-q1-universal-fmd-lp{lam:g}")) for lam in DP_LAMBDAS]
        extra = [(lam, p) for lam, p in extra if p.is_file()]
        if extra:
            srcs = [from_checkpoint(p, f"q1-fmd-lp{lam:g}") for lam, p in extra]
            dp = _evaluate(srcs, "dp", args, work, out, metrics, heads=["mse", "fmd"])
            dp_src += [(lam, dp, f"q1-fmd-lp{lam:g}", "fmd") for lam, _ in extra]
    summary["dp"] = dp_points(dp_src)
    summary["figures"] = _figures(rates, summary["dp"], work, out / "figures")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False, default=str))
    (out / "tables.md").write_text(_tables(summary))
    print((out / "tables.md").read_text())
    return summary


if __name__ == "__main__":
    main()
