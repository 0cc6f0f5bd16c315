"""``python -m compressai_plf.theory.operational``: learned codecs on Gauss-Markov sequences
beside the rate-distortion-perception theory.

Sequences of ``T`` frames of ``d`` i.i.d. components of a Gauss-Markov source; per rate point
a small causal MLP codec with the PLF paper's fixed-rate dithered quantiser is trained for
the MSE, then one universal decoder per registered PLF on its frozen encoder
(https://arxiv.org/abs/2305.19301, https://arxiv.org/abs/2502.10628). Two studies: the same
rate on every frame (distortion against rate), and error permanence (frame 1 at rate
``--i-rate``, later frames from low to high rate). Writes ``operational.json``,
``operational.png`` and ``operational.md`` (the table of learned / theoretical distortion).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ...plfs import get_plf, plf_names
from ..gauss_markov import error_permanence_limit
from ..source import GaussMarkovSource
from .codec import frame_bits
from .experiment import run_point, theory_distortion
from .training import CRITICS, TrainConfig

__all__ = ["format_markdown", "main", "write_plot"]

DEFAULT_PERCEPTION_WEIGHT = {"gaussian": 20.0, "wgan": 1.0}


def _title(key: str) -> str:
    return "mse" if key == "mse" else get_plf(key).title


def _theory_curves(
    source: GaussMarkovSource, names: Sequence[str], grid: np.ndarray, first: float | None
) -> dict:
    """Zero-perception theory over ``grid``: same rate on every frame, or frame 1 at ``first``."""
    curves: dict = {"rate": [float(r) for r in grid]}
    for key in ["mse", *names]:
        rows = []
        for r in grid:
            rates = [float(r)] * source.frames
            if first is not None:
                rates[0] = first
            rows.append(theory_distortion(source, rates, key, [0.0] * source.frames))
        curves[key] = None if rows and rows[0] is None else rows
    return curves


def write_plot(results: dict, path: Path) -> Path:
    """One PNG: per-frame distortion against rate (theory lines at zero perception, learned
    points, and the theory for the learned MMSE representation), then error permanence."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    frames = results["source"]["frames"]
    names = results["plfs"]
    keys = ["mse", *names]
    color = {k: ("k" if k == "mse" else f"C{i}") for i, k in enumerate(keys)}
    fig = Figure(figsize=(4.2 * (frames + 1), 3.8))
    FigureCanvasAgg(fig)
    panels = [(j, "rate_sweep") for j in range(frames)] + [(1, "error_permanence")]
    for k, (j, study) in enumerate(panels):
        ax = fig.add_subplot(1, frames + 1, k + 1)
        part = results[study]
        curves = part["theory_curves"]
        for key in keys:
            if curves.get(key) is not None:
                d = [row[j] for row in curves[key]]
                ax.plot(curves["rate"], d, color=color[key], lw=1.2, label=f"{_title(key)} theory")
            x = [p["rates"][j] for p in part["points"]]
            ax.plot(
                x,
                [p["learned"][key]["distortion"][j] for p in part["points"]],
                "o",
                color=color[key],
                ms=6,
                label=f"{_title(key)} learned",
            )
            if all(p["matched"][key] is not None for p in part["points"]):
                ax.plot(
                    x,
                    [p["matched"][key][j] for p in part["points"]],
                    "x",
                    color=color[key],
                    ms=6,
                    label=f"{_title(key)} theory, learned MMSE" if key == "mse" else None,
                )
        if study == "error_permanence":
            ax.axhline(part["jd_limit_frame2"], color="0.5", ls=":", label="JD limit (R→∞)")
            ax.set_title(f"frame 2, frame 1 at {part['i_frame_rate']:g} bits")
        else:
            ax.set_title(f"frame {j + 1}, same rate on every frame")
        ax.set_xlabel("rate of this frame (bits per component)")
        ax.set_ylabel("MSE per component")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    ax.legend(fontsize=6, loc="upper right")
    fig.suptitle(
        f"learned ({results['config']['critic']} critic, d = {results['dim']}) vs theory; "
        "x: theory for the learned MMSE error (matched rates)",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def _fmt(values: Sequence[float | None] | None, digits: int = 3) -> str:
    if values is None:
        return "-"
    return " / ".join("-" if v is None else f"{v:.{digits}f}" for v in values)


def format_markdown(results: dict) -> str:
    """The doc table: per point and decoder, learned distortion, the theory at zero and at the
    measured perception, and learned / theory (per frame, ``a / b`` for frames 1 / 2 ...)."""
    lines = [
        "| study | rates | decoder | learned D | theory D (P = 0) | learned / theory (P = 0) "
        "| measured P | learned / theory (measured P) | learned / matched |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for study in ("rate_sweep", "error_permanence"):
        for p in results[study]["points"]:
            for key in ["mse", *results["plfs"]]:
                learned = p["learned"][key]["distortion"]
                zero = p["theory"]["mse"] if key == "mse" else p["theory_zero_perception"][key]
                zero_ratio = (
                    None
                    if zero is None
                    else [a / b if b > 1e-12 else None for a, b in zip(learned, zero, strict=True)]
                )
                perception = None if key == "mse" else p["learned"][key]["perception"]
                lines.append(
                    f"| {study.replace('_', ' ')} | {_fmt(p['rates'], 2)} | {_title(key)} | "
                    f"{_fmt(learned)} | {_fmt(zero)} | {_fmt(zero_ratio, 2)} | "
                    f"{_fmt(perception, 4)} | "
                    f"{'-' if key == 'mse' else _fmt(p['ratio'][key]['theory'], 2)} | "
                    f"{_fmt(p['ratio'][key]['matched'], 2)} |"
                )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m compressai_plf.theory.operational",
        description="Learned causal codecs (MMSE + universal PLF decoders) on Gauss-Markov "
        "sequences beside the closed-form rate-distortion-perception theory.",
    )
    parser.add_argument("--out", type=Path, default=Path("gauss_markov_operational"))
    parser.add_argument("--dim", type=int, default=16, help="i.i.d. components per frame")
    parser.add_argument("--frames", type=int, default=2, help="frames per sequence (>= 2)")
    parser.add_argument("--variance", type=float, default=1.0, help="Var X1")
    parser.add_argument("--rho", type=float, default=0.9, help="frame correlation")
    parser.add_argument(
        "--innovation-variance",
        type=float,
        default=None,
        help="Var of the innovations (default (1 - rho^2) * variance: stationary)",
    )
    parser.add_argument(
        "--rates",
        type=float,
        nargs="*",
        default=[0.25, 0.5, 1.0, 2.0],
        help="rate sweep: bits per component, the same on every frame (none: skip)",
    )
    parser.add_argument("--i-rate", type=float, default=0.0, help="error permanence: frame-1 rate")
    parser.add_argument(
        "--p-rates",
        type=float,
        nargs="*",
        default=[0.5, 1.0, 2.0, 4.0],
        help="error permanence: rates of the later frames (none: skip)",
    )
    parser.add_argument("--critic", choices=CRITICS, default="gaussian")
    parser.add_argument(
        "--perception-weight",
        type=float,
        default=None,
        help="PLF weight (default: 20 gaussian, 1 wgan)",
    )
    parser.add_argument("--mmse-steps", type=int, default=TrainConfig.mmse_steps)
    parser.add_argument("--plf-steps", type=int, default=TrainConfig.plf_steps)
    parser.add_argument("--batch", type=int, default=TrainConfig.batch)
    parser.add_argument("--hidden", type=int, default=TrainConfig.hidden)
    parser.add_argument("--eval-samples", type=int, default=20_000)
    parser.add_argument(
        "--plfs",
        nargs="+",
        default=None,
        help=f"PLFs to train (default: every registered one, {plf_names()})",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--no-plots", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.frames < 2:
        parser.error("--frames must be >= 2 (PLFs compare a P-frame with its past)")
    if args.dim < 1 or args.eval_samples < 2 or args.threads < 1:
        parser.error("--dim, --threads must be >= 1 and --eval-samples >= 2")
    if not args.rates and not args.p_rates:
        parser.error("nothing to do: both --rates and --p-rates are empty")
    weight = args.perception_weight
    if weight is None:
        weight = DEFAULT_PERCEPTION_WEIGHT[args.critic]
    try:
        source = GaussMarkovSource(args.variance, args.rho, args.frames, args.innovation_variance)
        names = [get_plf(n).name for n in args.plfs] if args.plfs else list(plf_names())
        for r in [*args.rates, *args.p_rates, args.i_rate]:
            frame_bits(r, args.dim)
        config = TrainConfig(
            mmse_steps=args.mmse_steps,
            plf_steps=args.plf_steps,
            batch=args.batch,
            hidden=args.hidden,
            critic=args.critic,
            perception_weight=weight,
        )
    except (TypeError, ValueError) as err:
        parser.error(str(err))
    torch.set_num_threads(args.threads)

    studies = {
        "rate_sweep": [[float(r)] * args.frames for r in args.rates],
        "error_permanence": [[args.i_rate] + [float(r)] * (args.frames - 1) for r in args.p_rates],
    }
    total = sum(len(v) for v in studies.values()) * (
        config.mmse_steps + len(names) * config.plf_steps
    )
    results: dict = {
        "command": "python -m compressai_plf.theory.operational " + " ".join(argv),
        "source": source.as_dict(),
        "dim": args.dim,
        "plfs": names,
        "config": {
            **vars(config),
            "eval_samples": args.eval_samples,
            "seed": args.seed,
            "threads": args.threads,
        },
    }
    start = time.perf_counter()
    with tqdm(total=total, desc="training", unit="step", mininterval=2) as bar:
        for k, (study, point_rates) in enumerate(studies.items()):
            points = []
            for i, rates in enumerate(point_rates):
                bar.set_postfix_str(f"{study} rates {rates}")
                seed = args.seed + 1000 * k + 37 * i
                points.append(
                    run_point(
                        source,
                        args.dim,
                        rates,
                        config,
                        seed,
                        args.eval_samples,
                        names,
                        lambda: bar.update(),
                    )
                )
            top = max((r for rates in point_rates for r in rates), default=1.0)
            grid = np.linspace(0.0, max(top, 0.5) * 1.1, 45)
            results[study] = {
                "points": points,
                "theory_curves": _theory_curves(
                    source, names, grid, args.i_rate if study == "error_permanence" else None
                ),
            }
    results["error_permanence"]["i_frame_rate"] = args.i_rate
    results["error_permanence"]["jd_limit_frame2"] = (
        error_permanence_limit(source, 2) if args.i_rate == 0 else None
    )
    results["seconds"] = round(time.perf_counter() - start, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    table = format_markdown(results)
    print(table)
    written = [args.out / "operational.json", args.out / "operational.md"]
    written[0].write_text(json.dumps(results, indent=1, allow_nan=False) + "\n")
    written[1].write_text(table + "\n")
    if not args.no_plots:
        written.append(write_plot(results, args.out / "operational.png"))
    print(f"\n{results['seconds']:.0f} s; wrote " + ", ".join(str(p) for p in written))
    return 0
