"""Tables, plots and a JSON of the Gauss-Markov RDP calculator (``python -m compressai_plf.theory``).

Three studies of https://arxiv.org/abs/2305.19301 and https://arxiv.org/abs/2502.10628:
distortion against rate per perception loss, distortion-perception curves, and the error
permanence of PLF-JD when the I-frame has rate zero and the P-frame rate grows. A Monte Carlo
run applies the four decoders to one set of simulated MMSE estimates (universality).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..results import write_json
from .gauss_markov import PLFS, error_permanence_limit, fmd, jd, mmse, optimal_decoder, sa
from .representation import MMSERepresentation
from .source import GaussMarkovSource
from .wasserstein import gaussian_w2_squared

__all__ = [
    "error_permanence",
    "main",
    "perception_sweep",
    "rate_sweep",
    "universality_check",
    "write_plots",
]

_DISTORTION = {"mse": lambda s, r, p: mmse(s, r), "fmd": fmd, "jd": jd, "sa": sa}
# "mse" is the MMSE decoder under the package's head name (model decoders, eval JSON keys).
_LABEL = {"mse": "mse", "fmd": "PLF-FMD", "jd": "PLF-JD", "sa": "PLF-SA"}
# FMD drawn wide and SA with markers: they coincide on frame 1 and after a zero-rate I-frame.
_STYLE = {
    "mse": {"color": "k", "ls": "--"},
    "fmd": {"color": "C0", "lw": 3.5, "alpha": 0.5},
    "jd": {"color": "C3"},
    "sa": {"color": "C2", "marker": ".", "ms": 5},
}


def _rows(values: np.ndarray) -> list[list[float]]:
    return [[float(v) for v in row] for row in np.atleast_2d(values)]


def rate_sweep(source: GaussMarkovSource, rates: Sequence[float], perception: float = 0.0) -> dict:
    """Per-frame distortion of every PLF with the same rate on every frame."""
    table = {plf: [] for plf in PLFS}
    for r in rates:
        for plf in PLFS:
            table[plf].append(_DISTORTION[plf](source, float(r), perception))
    return {
        "rate_bits_per_frame": [float(r) for r in rates],
        "perception": float(perception),
        "distortion": {plf: _rows(np.array(v)) for plf, v in table.items()},
    }


def perception_sweep(
    source: GaussMarkovSource, rates: Sequence[float], budgets: Sequence[float]
) -> dict:
    """Per-frame distortion against a perception budget shared by all frames."""
    table = {plf: [] for plf in PLFS}
    for b in budgets:
        for plf in PLFS:
            table[plf].append(_DISTORTION[plf](source, rates, float(b)))
    return {
        "rates": [float(r) for r in rates],
        "perception": [float(b) for b in budgets],
        "distortion": {plf: _rows(np.array(v)) for plf, v in table.items()},
    }


def error_permanence(source: GaussMarkovSource, p_rates: Sequence[float]) -> dict:
    """Zero-perception distortion with a zero-rate I-frame as the P-frame rate grows."""
    table = {plf: [] for plf in PLFS}
    for r in p_rates:
        rates = np.full(source.frames, float(r))
        rates[0] = 0.0
        for plf in PLFS:
            table[plf].append(_DISTORTION[plf](source, rates, 0.0))
    return {
        "i_frame_rate": 0.0,
        "p_frame_rate": [float(r) for r in p_rates],
        "distortion": {plf: _rows(np.array(v)) for plf, v in table.items()},
        "jd_limit_frame2": error_permanence_limit(source, 2),
    }


def universality_check(
    source: GaussMarkovSource, rates: Sequence[float], perception: float, n: int, seed: int
) -> dict:
    """Apply every optimal decoder to the same simulated MMSE estimates.

    Returns predicted and measured per-frame MSE and own-PLF squared W2 (Gaussian W2 of the
    empirical covariances).
    """
    rng = np.random.default_rng(seed)
    rep = MMSERepresentation(source, rates)
    x, xhat = rep.sample(n, rng)
    out = {}
    for plf in PLFS:
        dec = optimal_decoder(source, rates, plf, perception)
        y = dec(xhat, rng)
        kind = "jd" if plf == "mse" else plf
        measured_p = []
        for j in range(source.frames):
            if kind == "fmd":
                real, fake = x[:, j : j + 1], y[:, j : j + 1]
            elif kind == "jd":
                real, fake = x[:, : j + 1], y[:, : j + 1]
            else:
                real, fake = np.column_stack([y[:, :j], x[:, j]]), y[:, : j + 1]
            measured_p.append(gaussian_w2_squared(np.cov(real.T, ddof=0), np.cov(fake.T, ddof=0)))
        out[plf] = {
            "perception_kind": kind,
            "predicted_mse": _rows(dec.distortion(rep))[0],
            "measured_mse": _rows(((x - y) ** 2).mean(0))[0],
            "predicted_w2sq": _rows(dec.perception(rep, kind))[0],
            "measured_w2sq": [float(v) for v in measured_p],
            "coefficients": _rows(dec.coefficients),
            "noise": _rows(dec.noise),
        }
    return {"rates": [float(r) for r in rates], "perception": perception, "samples": n, **out}


def write_plots(results: dict, out: Path) -> list[Path]:
    """Write the three figures as PNG files into ``out``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    frames = results["source"]["frames"]
    paths = []

    def save(fig: Figure, name: str) -> None:
        FigureCanvasAgg(fig)
        fig.tight_layout()
        path = out / name
        fig.savefig(path, dpi=110)
        paths.append(path)

    rs = results["rate_sweep"]
    fig = Figure(figsize=(4 * frames, 6.4))
    base = np.array(rs["distortion"]["mse"])
    for j in range(frames):
        ax = fig.add_subplot(2, frames, j + 1)
        ratio = fig.add_subplot(2, frames, frames + j + 1)
        for plf in PLFS:
            d = np.array(rs["distortion"][plf])[:, j]
            ax.semilogy(rs["rate_bits_per_frame"], d, label=_LABEL[plf], **_STYLE[plf])
            ratio.plot(rs["rate_bits_per_frame"], d / base[:, j], label=_LABEL[plf], **_STYLE[plf])
        ax.set_title(f"frame {j + 1}, P = {rs['perception']:g}")
        ax.set_ylabel("MSE")
        ratio.set_xlabel("rate (bits per frame, all frames)")
        ratio.set_ylabel("MSE relative to mse")
        for a in (ax, ratio):
            a.grid(alpha=0.3)
    ax.legend()
    save(fig, "distortion_rate.png")

    ps = results["perception_sweep"]
    fig = Figure(figsize=(4 * frames, 3.4))
    for j in range(frames):
        ax = fig.add_subplot(1, frames, j + 1)
        for plf in PLFS:
            d = np.array(ps["distortion"][plf])[:, j]
            ax.plot(ps["perception"], d, label=_LABEL[plf], **_STYLE[plf])
        ax.set_title(f"frame {j + 1}, rates {ps['rates']}")
        ax.set_xlabel("perception budget (squared W2, every frame)")
        ax.set_ylabel("MSE")
        ax.grid(alpha=0.3)
    ax.legend()
    save(fig, "distortion_perception.png")

    ep = results["error_permanence"]
    fig = Figure(figsize=(5, 3.6))
    ax = fig.add_subplot(1, 1, 1)
    for plf in PLFS:
        d = np.array(ep["distortion"][plf])[:, 1]
        ax.plot(ep["p_frame_rate"], d, label=_LABEL[plf], **_STYLE[plf])
    ax.axhline(ep["jd_limit_frame2"], color="C3", ls=":", label="JD limit 2σ²-2σ_Nσ")
    ax.set_title("frame 2, I-frame rate 0, P = 0 (FMD = SA here)")
    ax.set_xlabel("P-frame rate (bits)")
    ax.set_ylabel("MSE")
    ax.grid(alpha=0.3)
    ax.legend()
    save(fig, "error_permanence.png")
    return paths


def _table(title: str, header: list[str], rows: list[list]) -> str:
    cells = [header] + [[f"{v:.5f}" if isinstance(v, float) else str(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [title]
    for k, r in enumerate(cells):
        lines.append("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_tables(results: dict) -> str:
    """Plain-text tables of the results."""
    frames = results["source"]["frames"]
    header_f = [f"{_LABEL[p]} D{j + 1}" for p in PLFS for j in range(frames)]
    parts = []
    rs = results["rate_sweep"]
    rows = [
        [r] + [rs["distortion"][p][i][j] for p in PLFS for j in range(frames)]
        for i, r in enumerate(rs["rate_bits_per_frame"])
    ]
    parts.append(_table(f"Distortion vs rate (P = {rs['perception']:g})", ["R"] + header_f, rows))
    ps = results["perception_sweep"]
    rows = [
        [b] + [ps["distortion"][p][i][j] for p in PLFS for j in range(frames)]
        for i, b in enumerate(ps["perception"])
    ]
    parts.append(_table(f"Distortion vs perception (rates {ps['rates']})", ["P"] + header_f, rows))
    ep = results["error_permanence"]
    rows = [
        [r] + [ep["distortion"][p][i][1] for p in PLFS] for i, r in enumerate(ep["p_frame_rate"])
    ]
    parts.append(
        _table(
            f"Error permanence: I-frame rate 0, P = 0, frame 2 (JD limit "
            f"{ep['jd_limit_frame2']:.4f})",
            ["R_P"] + [_LABEL[p] for p in PLFS],
            rows,
        )
    )
    if "universality" in results:
        un = results["universality"]
        rows = []
        for p in PLFS:
            for j in range(frames):
                e = un[p]
                rows.append(
                    [
                        _LABEL[p],
                        j + 1,
                        e["predicted_mse"][j],
                        e["measured_mse"][j],
                        e["perception_kind"],
                        e["predicted_w2sq"][j],
                        e["measured_w2sq"][j],
                    ]
                )
        parts.append(
            _table(
                f"One MMSE encoder, four decoders: Monte Carlo ({un['samples']} sequences, "
                f"rates {un['rates']}, P = {un['perception']:g})",
                ["decoder", "frame", "MSE pred", "MSE meas", "W2 kind", "W2^2 pred", "W2^2 meas"],
                rows,
            )
        )
    return "\n\n".join(parts)


def _budget_grid(
    source: GaussMarkovSource, rates: Sequence[float], points: int = 25
) -> list[float]:
    """Budgets from 0 to just past the largest perception loss of the MMSE decoder.

    Quadratic spacing, since distortions move like ``sqrt(P)`` near ``P = 0``.
    """
    rep = MMSERepresentation(source, rates)
    dec = optimal_decoder(source, rates, "mse")
    top = max(float(dec.perception(rep, kind).max()) for kind in ("fmd", "jd", "sa"))
    top = 1.05 * top if top > 0 else source.variance
    return (top * np.linspace(0.0, 1.0, points) ** 2).tolist()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m compressai_plf.theory",
        description="Gauss-Markov rate-distortion-perception tables and plots (PLF-JD/FMD/SA).",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("gauss_markov_theory"),
        help="output folder (default: ./gauss_markov_theory)",
    )
    parser.add_argument("--variance", type=float, default=1.0, help="Var X1")
    parser.add_argument("--rho", type=float, default=0.9, help="frame correlation")
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument(
        "--rates",
        type=float,
        nargs="+",
        default=None,
        help="bits per frame for the distortion-perception and Monte Carlo tables: one value "
        "or one per frame (default: 0.5 for the I-frame, 0.25 for P-frames)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=200_000,
        help="Monte Carlo sequences for the universality table (0: skip)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args(argv)

    if args.frames < 2:
        parser.error("--frames must be >= 2 (the error-permanence study needs a P-frame)")
    try:
        source = GaussMarkovSource(args.variance, args.rho, args.frames)
    except ValueError as err:
        parser.error(str(err))
    if args.rates is None:
        rates = [0.5] + [0.25] * (args.frames - 1)
    elif len(args.rates) in (1, args.frames):
        rates = np.broadcast_to(np.asarray(args.rates, dtype=float), (args.frames,)).tolist()
    else:
        parser.error(f"--rates needs 1 or {args.frames} values, got {len(args.rates)}")
    perception_budget = 0.02 * source.variance
    results = {
        "source": source.as_dict(),
        "rate_sweep": rate_sweep(source, np.round(np.arange(0, 6.01, 0.25), 2).tolist()),
        "perception_sweep": perception_sweep(source, rates, _budget_grid(source, rates)),
        "error_permanence": error_permanence(source, [0, 0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 12]),
    }
    if args.samples > 0:
        results["universality"] = universality_check(
            source, rates, perception_budget, args.samples, args.seed
        )
    args.out.mkdir(parents=True, exist_ok=True)
    print(format_tables(results))
    json_path = args.out / "gauss_markov.json"
    write_json(results, json_path, indent=1)
    written = [json_path]
    if not args.no_plots:
        written += write_plots(results, args.out)
    print("\nwrote " + ", ".join(str(p) for p in written))
    return 0
