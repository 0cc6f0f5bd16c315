"""Reproduce the PLF paper's Moving MNIST findings and write ``docs/results``.

Usage::

    python -m compressai_plf.reproduction --data-root DATA/mnist --out docs/results
        [--source runs|zoo] [--runs-dir ../plf_runs] [--work-dir results/reproduction]
        [--max-clips 500] [--threads 2] [--classifier FILE] [--eval-critics FILE]

Models: the fixed-rate family at 2, 16 and 256 bits per P-frame (qualities 1, 5, 9; one
frozen 12-bit keyframe codec) with an MMSE head and universal own-past JD, FMD and SA heads
(:mod:`compressai_plf.reproduction.family`), from the zoo (``--source zoo``) or from the
campaign's training runs (``--source runs``, the default). The 256-bit experiments of
``zoo/campaign/`` are added when their checkpoints exist under ``--runs-dir``: universal JD
and FMD heads at perception weights :data:`DP_WEIGHTS` (``q9-l16-dp-w*``) and end-to-end JD
and FMD at the same weights (``q9-l16-e2e-{jd,fmd}-w*``), i.e. distortion-perception curves
and universality at matched realism.

Every model codes the first ``--max-clips`` Moving MNIST test clips to real bitstreams and
decodes them with every head (:func:`compressai_plf.eval.evaluate_models`), twice for the
family: as a bitstream decodes with the file alone (``rates.json``: the heads continue the
MMSE I-frame, a blurred digit), and with every perceptual head continuing an exact posterior
sample of the keyframe code (:mod:`compressai_plf.eval.posterior_iframe`;
``posterior-iframe.json``): a realistic frame 0 that shows the wrong digit most of the time,
the precondition of error permanence, which also measures the factor of two. The experiments
are evaluated with the posterior frame 0 only. Metrics: per-frame MSE, the digit-identity
statistics (:mod:`compressai_plf.metrics.identity_statistics`, with the shipped digit
classifier or ``--classifier``), Fréchet distances on its features, and the W1 estimates of
frozen evaluation critics (built once into the work dir with
``python -m compressai_plf.eval.build_eval_critics`` unless ``--eval-critics`` is given).
The acceptance checks of :mod:`compressai_plf.reproduction.findings` (realism, error
permanence at 256 bits, JD's and FMD's MSE from 2 to 256 bits) run on the posterior rows.

Writes into ``--out``: ``rates.json``, ``posterior-iframe.json`` (and ``dp.json``,
``e2e-jd.json``, ``e2e-fmd.json``), ``tables.md`` (the tables ``docs/results.md`` quotes),
``summary.json`` (the rows behind them) and ``figures/``. Per-sequence files, grids and
bitstreams stay in the work dir; the posterior sampler's index is cached in the user's cache
folder.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import load_checkpoint
from ..eval import evaluate_models
from ..eval.evaluate import posterior_iframe_decoder
from ..eval.models import EvalModel
from ..metrics.packaged import packaged_classifier_path
from ..results import write_json
from .family import HIGH, LOW, family_models, pframe_bits, run_checkpoint, run_model
from .figures import contrast_grid, dp_figure, family_figures, per_frame_figures
from .findings import check_findings
from .report import experiment_tables, findings_tables, permanence_tables
from .tables import (
    dp_points,
    error_permanence,
    family_summary,
    posterior_summary,
    realism_given_mmse,
    universality_at_matched_realism,
)

#: Perception weights of the 256-bit distortion-perception runs (``zoo/campaign/q9-l16-dp-w*``
#: and ``q9-l16-e2e-{jd,fmd}-w*``), as their folder names write them.
DP_WEIGHTS = ("0.03", "0.1", "0.3", "1.0")


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
        default="../plf_runs",
        help="training runs, the campaign recipes' save_dir (the family with --source runs; "
        "experiments)",
    )
    p.add_argument("--work-dir", default="results/reproduction", help="caches and per-clip files")
    p.add_argument("--max-clips", type=int, default=500, help="test clips per model")
    p.add_argument(
        "--frames",
        type=int,
        default=2,
        help="frames per clip (2: the paper's headline experiment, as the heads were trained)",
    )
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
        frames=args.frames,
        out_dir=work / name,
        name=name,
        progress=not args.no_progress,
        lpips=None,
        **metrics,
        **kw,
    )
    shutil.copyfile(work / name / f"{name}.json", out / f"{name}.json")
    return data


def _experiment(runs: Path, name: str, heads: tuple[str, ...]) -> EvalModel | None:
    """A 256-bit experiment's checkpoint with only ``heads`` (the ones its run trained) and
    no I-frame generator, as the family is evaluated; ``None`` when not trained here or not
    finished (a run still training is no point of a curve)."""
    path = run_checkpoint(runs, name)
    if not path.is_file():
        return None
    if not load_checkpoint(path).get("final"):
        print(f"skipping {name}: its run has not finished", file=sys.stderr)
        return None
    return run_model(path, name, ("mse", *heads))


def _experiments(args, work: Path, out: Path, metrics: dict, sampler, family: dict) -> dict:
    """Distortion-perception rows (universal and end-to-end, JD and FMD, with the family's
    256-bit MMSE head as weight 0) and universality at matched realism, for the runs found."""
    runs = Path(args.runs_dir)
    uni = [(w, _experiment(runs, f"q9-l16-dp-w{w}", ("jd", "fmd"))) for w in DP_WEIGHTS]
    uni = [(w, m) for w, m in uni if m is not None]
    e2e = {
        head: [(w, _experiment(runs, f"q9-l16-e2e-{head}-w{w}", (head,))) for w in DP_WEIGHTS]
        for head in ("jd", "fmd")
    }
    e2e = {h: [(w, m) for w, m in pts if m is not None] for h, pts in e2e.items()}
    found = bool(uni) or any(e2e.values())
    if not found:
        return {}
    kw = {"iframe_sampler": sampler}
    rows = dp_points([(0.0, family, HIGH, "mse")])
    given_mmse = []
    high_bits = pframe_bits()[HIGH]  # every experiment is at the family's highest rate
    if uni:
        data = _evaluate([m for _, m in uni], "dp", args, work, out, metrics, **kw)
        rows += dp_points([(float(w), data, m.label, h) for w, m in uni for h in ("jd", "fmd")])
        given_mmse += realism_given_mmse(data, {m.label: high_bits for _, m in uni})
    for head, pts in e2e.items():
        if pts:
            data = _evaluate(
                [m for _, m in pts], f"e2e-{head}", args, work, out, metrics, heads=["mse", head],
                **kw,
            )  # fmt: skip
            rows += dp_points([(float(w), data, m.label, head) for w, m in pts], "end-to-end")
            given_mmse += realism_given_mmse(data, {m.label: high_bits for _, m in pts})
    universality = []
    mmse = [{**r, "head": head} for r in rows[:1] for head in ("jd", "fmd")]
    for head in ("jd", "fmd"):
        # weight 0, the MMSE head, starts each universal curve
        curve = [r for r in mmse + rows if r["training"] == "universal" and r["head"] == head]
        points = [r for r in rows if r["training"] == "end-to-end" and r["head"] == head]
        universality += universality_at_matched_realism(curve, points)
    return {"dp": rows, "universality": universality, "dp_realism_given_mmse": given_mmse}


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
            models, "posterior-iframe", args, work, out, metrics, iframe_sampler=sampler,
            grid=True, grid_clips=40,
        )  # fmt: skip
        summary.update(posterior_summary(posterior, pframe_bits()))
        summary["findings"] = check_findings(summary["posterior_permanence"], LOW, HIGH)
        summary.update(_experiments(args, work, out, metrics, sampler, posterior))
    figs = out / "figures"
    made = family_figures(rates, work / "rates" / "grids", figs)
    if posterior is not None:
        made += per_frame_figures(posterior, figs, prefix="posterior-iframe-")
        contrast = contrast_grid(work / "posterior-iframe", HIGH, pframe_bits()[HIGH], figs)
        made += [contrast] if contrast else []
    if len(summary.get("dp", [])) >= 2:
        made.append(dp_figure(summary["dp"], figs / "dp-p-mse-vs-confident.png"))
    summary["figures"] = [str(p) for p in made]
    write_json(summary, out / "summary.json")
    tables = permanence_tables(summary) + "\n" + findings_tables(summary)
    (out / "tables.md").write_text(tables + "\n" + experiment_tables(summary))
    print((out / "tables.md").read_text())
    return summary


if __name__ == "__main__":
    main()
