"""Plot evaluation results.

Usage::

    python -m compressai_plf.plot RESULTS.json [RESULTS.json ...] --out DIR
        [--metric psnr-rgb --metric mse ...] [--distortion mse] [--perception w1 ...]
        [--grid CLIPS.npz ...] [--sample 0] [--format png]

Writes into DIR:

* ``rd-<metric>.<fmt>``: rate-distortion curves of every run (and head) for each metric
  (default: every metric with one value per rate point);
* ``dp-<distortion>-vs-<perception>.<fmt>``: distortion-perception curves per head
  (default perception metrics: every metric whose name starts with ``w1``);
* ``per-frame-<metric>-<run>.<fmt>``: per-frame curves per head, one panel per rate point;
* ``grid-<file>.<fmt>``: reconstruction grids from ``--grid`` files.

The JSON layout is described in ``docs/evaluation.md`` and :mod:`compressai_plf.results`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..results import head_key, heads_of, load_results, per_frame_metrics, scalar_metrics
from ..utils.cli_errors import check_readable_file, check_writable_dir, fail, one_line_errors
from ._figure import safe_name
from .distortion_perception import plot_distortion_perception
from .per_frame import plot_per_frame
from .rate_distortion import plot_rate_distortion
from .reconstruction_grid import load_grid, plot_reconstruction_grid

FORMATS = {"png", "pdf", "svg", "jpg", "jpeg", "eps", "ps", "tif", "tiff", "webp"}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m compressai_plf.plot",
        description="Rate-distortion, distortion-perception, per-frame and grid plots.",
    )
    p.add_argument("results", nargs="*", type=Path, help="results JSON files")
    p.add_argument("--out", "-o", required=True, type=Path, help="output directory")
    p.add_argument("--metric", "-m", action="append", help="RD metric (repeatable)")
    p.add_argument("--distortion", default="mse", help="distortion axis of DP plots")
    p.add_argument("--perception", action="append", help="perception axis of DP plots")
    p.add_argument("--grid", action="append", type=Path, default=[], help=".npz/.pt clips")
    p.add_argument("--sample", type=int, default=0, help="clip index in batched grid files")
    p.add_argument("--format", default="png", help="image format (png, pdf, svg)")
    return p


def _has_dp(run: dict, distortion: str, perception: str) -> bool:
    res = run["results"]
    return any(
        head_key(perception, h) in res and head_key(distortion, h) in res
        for h in [None, *heads_of(res)]
    )


def main(argv: list[str] | None = None) -> list[Path]:
    args = build_parser().parse_args(argv)
    if not args.results and not args.grid:
        raise SystemExit("nothing to plot: give results JSON files and/or --grid files")
    for path in args.results:
        check_readable_file(path, "results")
    for path in args.grid:
        check_readable_file(path, "--grid")
    if args.format.lower() not in FORMATS:
        raise fail(f"--format must be one of {sorted(FORMATS)}, got {args.format!r}")
    check_writable_dir(args.out, "--out")
    with one_line_errors():
        return _plot(args)


def _plot(args: argparse.Namespace) -> list[Path]:
    runs = []
    for path in args.results:
        with one_line_errors(f"results file {path}"):
            runs.append(load_results(path))
    grids = []
    for path in args.grid:
        with one_line_errors(f"--grid {path} is not a grid file (.npz/.pt of clips)"):
            grids.append(load_grid(path))
    out, ext = args.out, args.format
    written: list[Path] = []

    metrics = args.metric or list(
        dict.fromkeys(m for run in runs for m in scalar_metrics(run["results"]))
    )
    for metric in metrics:
        written.append(plot_rate_distortion(runs, metric, out / f"rd-{safe_name(metric)}.{ext}"))

    perceptions = args.perception or list(
        dict.fromkeys(m for m in metrics if m.startswith("w1") and m != args.distortion)
    )
    for perception in perceptions:
        if any(_has_dp(run, args.distortion, perception) for run in runs):
            name = f"dp-{safe_name(args.distortion)}-vs-{safe_name(perception)}.{ext}"
            written.append(
                plot_distortion_perception(runs, out / name, args.distortion, perception)
            )

    for path, run in zip(args.results, runs, strict=True):
        for metric in per_frame_metrics(run["results"]):
            name = f"per-frame-{safe_name(metric)}-{safe_name(path.stem)}.{ext}"
            written.append(plot_per_frame(run, metric, out / name))

    for grid, clips, name in zip(args.grid, grids, grid_names(args.grid), strict=True):
        written.append(
            plot_reconstruction_grid(clips, out / f"grid-{name}.{ext}", args.sample, grid.stem)
        )
    for p in written:
        print(p)
    return written


def grid_names(paths: list[Path]) -> list[str]:
    """One distinct output name per grid file: its stem, with the suffix (``clips-npz``) when
    two files share a stem, and a counter when even that is shared (one figure per file)."""
    stems = [safe_name(p.stem) for p in paths]
    names = [
        f"{s}-{safe_name(p.suffix[1:])}" if stems.count(s) > 1 and p.suffix else s
        for s, p in zip(stems, paths, strict=True)
    ]
    return [
        f"{n}-{names[:i].count(n) + 1}" if names.count(n) > 1 else n for i, n in enumerate(names)
    ]


if __name__ == "__main__":
    main(sys.argv[1:])
