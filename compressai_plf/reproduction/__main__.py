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
import json
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import load_checkpoint
from ..eval import evaluate_models
from ..eval.aggregate import merge_evaluations, select_models
from ..eval.clip_metrics import critics_record
from ..eval.eval_critic import EvalCritics
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
    p.add_argument(
        "--reuse-evaluations",
        action="store_true",
        help="experiments whose runs are not under --runs-dir keep their rows from the "
        "evaluation an earlier run of this command wrote into --out (dp.json, e2e-jd.json, "
        "e2e-fmd.json), merged with the runs evaluated now; W1 left out where other evaluation "
        "critics measured them",
    )
    p.add_argument(
        "--experiments-only",
        action="store_true",
        help="evaluate only the 256-bit experiments; the family's rows stay as an earlier run "
        "wrote them into --out (summary.json, posterior-iframe.json)",
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


def _weight(label: str) -> float:
    """The perception weight an experiment's run name writes (``q9-l16-dp-w0.03`` -> 0.03)."""
    return float(label.rsplit("-w", 1)[1])


def comparable(data: dict, reference: Mapping, critics: Mapping | None) -> str | None:
    """Check that ``data``, an evaluation this run did not make, was made like
    ``reference`` (same dataset, clips, bit count, frame 0 and classifier), so that its rows
    stand beside this run's; where other evaluation critics measured it (``critics``: this
    run's :func:`~compressai_plf.eval.clip_metrics.critics_record`), its W1 values are blanked
    in place, and the returned note says so (``None`` when nothing was left out).

    Raises:
        ValueError: ``data`` was evaluated otherwise.
    """
    theirs, ours = data.get("settings") or {}, reference.get("settings") or {}
    for key in ("dataset", "clips", "rate_count", "iframe"):
        if theirs.get(key) != ours.get(key):
            raise ValueError(
                f"evaluation {data.get('name')!r} was made with {key}={theirs.get(key)!r}, this "
                f"run uses {ours.get(key)!r}: evaluate its runs again"
            )
    if Path(str(theirs.get("classifier"))).name != Path(str(ours.get("classifier"))).name:
        raise ValueError(f"evaluation {data.get('name')!r} used another digit classifier")
    if critics is None or theirs.get("eval_critics_meta") == critics:
        return None
    results = data["results"]
    for key in [k for k in results if k.startswith("w1-")]:
        results[key] = [None] * len(results[key])
    return "W1 left out: other evaluation critics measured it"


def _read(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run the reproduction without this option first")
    return json.loads(path.read_text())


def _experiments(args, work, out, metrics, sampler, family, before, critics) -> dict:
    """Distortion-perception rows (universal and end-to-end, JD and FMD, with the family's
    256-bit MMSE head as weight 0) and universality at matched realism, for the runs found.
    With ``--reuse-evaluations`` an experiment whose run is not found keeps its columns of the
    group's evaluation in ``out`` (checked by :func:`comparable`, merged into the file after
    the runs evaluated now) and its realism split from ``before`` (the earlier summary)."""
    runs = Path(args.runs_dir)
    high_bits = pframe_bits()[HIGH]  # every experiment is at the family's highest rate
    groups = {"dp": ("universal", ("jd", "fmd"), [f"q9-l16-dp-w{w}" for w in DP_WEIGHTS])}
    for head in ("jd", "fmd"):
        names = [f"q9-l16-e2e-{head}-w{w}" for w in DP_WEIGHTS]
        groups[f"e2e-{head}"] = ("end-to-end", (head,), names)
    rows = dp_points([(0.0, family, HIGH, "mse")])
    given_mmse: list = []
    reused: dict[str, str] = {}
    for group, (training, heads, names) in groups.items():
        found = [(n, _experiment(runs, n, heads)) for n in names]
        found = [(n, m) for n, m in found if m is not None]
        path = out / f"{group}.json"
        kept, split = None, []  # the earlier evaluation's models whose runs are not here
        if args.reuse_evaluations and path.is_file():
            earlier = _read(path)  # read before this run's evaluation replaces the file
            fresh = {m.label for _, m in found}
            labels = [lb for lb in earlier["results"]["q"] if lb in names and lb not in fresh]
            if labels:
                kept = select_models(earlier, labels)
                note = comparable(kept, family, critics)
                reused[group] = f"{path} ({', '.join(labels)}" + (f"; {note})" if note else ")")
                print(f"reusing {reused[group]}: their runs are not under {runs}", file=sys.stderr)
                split = [r for r in before.get("dp_realism_given_mmse", []) if r["model"] in labels]
        if found:
            data = _evaluate(
                [m for _, m in found], group, args, work, out, metrics,
                heads=["mse", *heads], iframe_sampler=sampler,
            )  # fmt: skip
            comparable(data, family, None)  # the family may come from an earlier run
            labels = [m.label for _, m in found]
            split += realism_given_mmse(data, {label: high_bits for label in labels})
            if kept is not None:
                data = merge_evaluations(data, kept)
                write_json(data, path)
        elif kept is not None:
            data = kept
        else:
            continue
        labels = list(data["results"]["q"])
        given_mmse += sorted(split, key=lambda r: labels.index(r["model"]))  # stable: heads
        rows += dp_points([(_weight(lb), data, lb, h) for lb in labels for h in heads], training)
    if len(rows) == 1:
        return {}
    universality = []
    mmse = [{**r, "head": head} for r in rows[:1] for head in ("jd", "fmd")]
    for head in ("jd", "fmd"):
        # weight 0, the MMSE head, starts each universal curve
        curve = [r for r in mmse + rows if r["training"] == "universal" and r["head"] == head]
        points = [r for r in rows if r["training"] == "end-to-end" and r["head"] == head]
        universality += universality_at_matched_realism(curve, points)
    result = {"dp": rows, "universality": universality, "dp_realism_given_mmse": given_mmse}
    return {**result, "reused": reused} if reused else result


def _write(summary: dict[str, Any], out: Path) -> None:
    write_json(summary, out / "summary.json")
    tables = permanence_tables(summary) + "\n" + findings_tables(summary)
    (out / "tables.md").write_text(tables + "\n" + experiment_tables(summary))
    print((out / "tables.md").read_text())


def _dp_figure(summary: dict[str, Any], figs: Path) -> list[Path]:
    if len(summary.get("dp", [])) < 2:
        return []
    return [dp_figure(summary["dp"], figs / "dp-p-mse-vs-confident.png")]


def _experiments_only(args, work: Path, out: Path, metrics: dict, critics: dict) -> dict:
    """``--experiments-only``: the earlier summary with its experiment rows made again."""
    summary = _read(out / "summary.json")
    family = _read(out / "posterior-iframe.json")
    note = comparable(family, family, critics)  # blanks W1 of the weight-0 row if need be
    sampler = posterior_iframe_decoder(
        args.data_root, max_digits=args.posterior_digits, progress=not args.no_progress
    )
    for key in ("dp", "universality", "dp_realism_given_mmse", "reused"):
        summary.pop(key, None)
    before = json.loads((out / "summary.json").read_text())
    summary.update(_experiments(args, work, out, metrics, sampler, family, before, critics))
    if note:
        summary.setdefault("reused", {})["posterior-iframe"] = (
            f"{out / 'posterior-iframe.json'} ({note})"
        )
    dp_name = "dp-p-mse-vs-confident.png"
    figures = [f for f in summary.get("figures", []) if Path(f).name != dp_name]
    summary["figures"] = figures + [str(p) for p in _dp_figure(summary, out / "figures")]
    _write(summary, out)
    return summary


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    if args.experiments_only and args.no_posterior:
        raise SystemExit("error: --experiments-only needs the posterior-sample frame 0")
    torch.set_num_threads(args.threads)
    out, work = Path(args.out), Path(args.work_dir)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    metrics = {
        "classifier": args.classifier or packaged_classifier_path(),
        "eval_critics": _eval_critics(args, work),
    }
    critics = critics_record(EvalCritics.load(metrics["eval_critics"]))
    if args.experiments_only:
        return _experiments_only(args, work, out, metrics, critics)
    before = (
        json.loads((out / "summary.json").read_text()) if (out / "summary.json").is_file() else {}
    )
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
        summary.update(_experiments(args, work, out, metrics, sampler, posterior, before, critics))
    figs = out / "figures"
    made = family_figures(rates, work / "rates" / "grids", figs)
    if posterior is not None:
        made += per_frame_figures(posterior, figs, prefix="posterior-iframe-")
        contrast = contrast_grid(work / "posterior-iframe", HIGH, pframe_bits()[HIGH], figs)
        made += [contrast] if contrast else []
    made += _dp_figure(summary, figs)
    summary["figures"] = [str(p) for p in made]
    _write(summary, out)
    return summary


if __name__ == "__main__":
    main()
