"""Reproduce the PLF paper's Moving MNIST findings and write ``docs/results``.

Usage::

    python -m compressai_plf.reproduction --data-root DATA/mnist --out docs/results
        [--source runs|zoo] [--runs-dir ../plf_runs] [--work-dir results/reproduction]
        [--max-clips 500] [--threads 2] [--classifier FILE] [--eval-critics FILE]
        [--experiments-only] [--reuse-evaluations]

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

``--experiments-only`` evaluates the experiments alone and keeps the family's rows from an
earlier run's ``--out``; ``--reuse-evaluations`` keeps the columns of experiments whose runs
are gone from their group's earlier JSON (W1 blanked unless the same critics, by hash,
measured them), merged with the runs evaluated now.

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
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import load_checkpoint
from ..eval import evaluate_models
from ..eval.aggregate import check_mergeable, frames_of, merge_evaluations, select_models
from ..eval.eval_critic import EvalCritics
from ..eval.evaluate import posterior_iframe_decoder
from ..eval.models import EvalModel
from ..metrics.packaged import packaged_classifier_path
from ..results import validate_results, write_json
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


def _read(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run the reproduction without this option first")
    return json.loads(path.read_text())


Group = tuple[str, tuple[str, ...], list[str]]  # training, heads, run names


def _groups() -> dict[str, Group]:
    groups = {"dp": ("universal", ("jd", "fmd"), [f"q9-l16-dp-w{w}" for w in DP_WEIGHTS])}
    for head in ("jd", "fmd"):
        names = [f"q9-l16-e2e-{head}-w{w}" for w in DP_WEIGHTS]
        groups[f"e2e-{head}"] = ("end-to-end", (head,), names)
    return groups


def _kept(
    args: argparse.Namespace, out: Path, group: str, names: list[str], family: dict, sha: str
) -> tuple[dict | None, str | None]:
    """``--reuse-evaluations``: the columns of the group's earlier evaluation in ``out`` whose
    runs are absent from ``--runs-dir`` (a run there but unfinished is no point and is not
    replaced by an older evaluation), checked against ``family``; and the note of what was
    reused. Read before this run's evaluation replaces the file."""
    path = out / f"{group}.json"
    if not (args.reuse_evaluations and path.is_file()):
        return None, None
    earlier = _read(path)
    absent = [
        lb
        for lb in earlier["results"]["q"]
        if lb in names and not run_checkpoint(args.runs_dir, lb).is_file()
    ]
    if not absent:
        return None, None
    kept = select_models(earlier, absent)
    try:
        note = check_mergeable(kept, family, sha)
    except ValueError as err:
        raise ValueError(f"{path}: {err}; remove it or leave out --reuse-evaluations") from None
    return kept, f"{path} ({', '.join(absent)}" + (f"; {note})" if note else ")")


def _experiments(
    args: argparse.Namespace,
    work: Path,
    out: Path,
    metrics: dict[str, Any],
    sampler: Any,
    family: dict[str, Any],
    before: dict[str, Any],
    sha: str,
) -> dict[str, Any]:
    """Distortion-perception rows (universal and end-to-end, JD and FMD, with the family's
    256-bit MMSE head as weight 0) and universality at matched realism, for the runs found.
    With ``--reuse-evaluations`` an experiment whose run is absent keeps its columns of the
    group's evaluation in ``out`` (:func:`_kept`, merged into the file after the runs evaluated
    now) and its realism split from ``before`` (the earlier summary). Every earlier
    evaluation is checked before anything is evaluated."""
    runs = Path(args.runs_dir)
    high_bits = pframe_bits()[HIGH]  # every experiment is at the family's highest rate
    plan = []
    for group, (training, heads, names) in _groups().items():
        found = [m for m in (_experiment(runs, n, heads) for n in names) if m is not None]
        kept, what = _kept(args, out, group, names, family, sha)
        plan.append((group, training, heads, found, kept, what))
    rows = dp_points([(0.0, family, HIGH, "mse")])
    given_mmse: list = []
    reused: dict[str, str] = {}
    for group, training, heads, found, kept, what in plan:
        split = []
        if kept is not None:
            labels = list(kept["results"]["q"])
            split = [r for r in before.get("dp_realism_given_mmse", []) if r["model"] in labels]
            if len({r["model"] for r in split}) < len(labels):
                what = what[:-1] + "; realism split not in the earlier summary)"
            reused[group] = what
            print(f"reusing {what}: their runs are not under {runs}", file=sys.stderr)
        if found:
            data = _evaluate(
                found, group, args, work, out, metrics, heads=["mse", *heads],
                iframe_sampler=sampler,
            )  # fmt: skip
            check_mergeable(data, family, sha)  # the family may come from an earlier run
            split += realism_given_mmse(data, {m.label: high_bits for m in found})
            if kept is not None:
                data = merge_evaluations(data, kept)
        elif kept is not None:
            data = kept
        else:
            continue
        order = sorted(data["results"]["q"], key=_weight)
        data = select_models(data, order)
        if kept is not None:
            write_json(validate_results(data, f"{group}.json"), out / f"{group}.json")
        given_mmse += sorted(split, key=lambda r: order.index(r["model"]))  # stable: heads
        rows += dp_points([(_weight(lb), data, lb, h) for lb in order for h in heads], training)
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


#: the summary keys ``--experiments-only`` makes again
EXPERIMENT_KEYS = ("dp", "universality", "dp_realism_given_mmse", "reused")


def _experiments_only(
    args: argparse.Namespace, work: Path, out: Path, metrics: dict[str, Any], sha: str
) -> dict[str, Any]:
    """``--experiments-only``: the earlier summary with its experiment rows made again."""
    before = _read(out / "summary.json")
    family = _read(out / "posterior-iframe.json")
    made = (family.get("settings") or {}).get("clips")
    if made != args.max_clips or frames_of(family) != args.frames:
        raise ValueError(
            f"{out / 'posterior-iframe.json'} holds {made} clips of {frames_of(family)} frames; "
            f"give --max-clips {made} --frames {frames_of(family)} to add experiments to it"
        )
    note = check_mergeable(family, family, sha)  # blanks W1 of the weight-0 row if need be
    sampler = posterior_iframe_decoder(
        args.data_root, max_digits=args.posterior_digits, progress=not args.no_progress
    )
    summary = {k: v for k, v in before.items() if k not in EXPERIMENT_KEYS}
    summary.update(_experiments(args, work, out, metrics, sampler, family, before, sha))
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
    if (args.experiments_only or args.reuse_evaluations) and args.no_posterior:
        raise SystemExit(
            "error: --experiments-only and --reuse-evaluations need the posterior-sample frame 0"
        )
    torch.set_num_threads(args.threads)
    out, work = Path(args.out), Path(args.work_dir)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    metrics = {
        "classifier": args.classifier or packaged_classifier_path(),
        "eval_critics": _eval_critics(args, work),
    }
    sha = EvalCritics.load(metrics["eval_critics"]).sha256()
    if args.experiments_only:
        return _experiments_only(args, work, out, metrics, sha)
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
        summary.update(_experiments(args, work, out, metrics, sampler, posterior, before, sha))
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
