"""Figures of the reproduction: per-frame curves, reconstruction grids, the D-P curve."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..eval.container_codec import safe_name
from ..plot.distortion_perception import plot_distortion_perception
from ..plot.per_frame import plot_per_frame
from ..plot.reconstruction_grid import load_grid, plot_reconstruction_grid
from ..results import PER_FRAME, head_key, make_results
from .family import QUALITIES, label, pframe_bits

PER_FRAME_METRICS = (
    "mse",
    "digit-agreement",
    "digit-accuracy",
    "self-consistency",
    "permanence",
    "correction",
    "confident",
    "w1-fmd",
    "w1-jd",
)


def per_frame_figures(results: Mapping, figs_dir: str | Path, prefix: str = "") -> list[Path]:
    """Per-frame curves of every measured metric of :data:`PER_FRAME_METRICS` (the
    ``source`` line, where present, is the ceiling)."""
    made = []
    for metric in PER_FRAME_METRICS:
        path = Path(figs_dir) / f"{prefix}per-frame-{metric}.png"
        try:
            made.append(plot_per_frame(results, metric, path))
        except ValueError:
            pass  # not measured in this run
    return made


def family_figures(
    results: Mapping, grids_dir: str | Path, figs_dir: str | Path, samples: int = 3
) -> list[Path]:
    """Per-frame curves of every measured metric and grids of the lowest and highest rate."""
    figs_dir = Path(figs_dir)
    made = per_frame_figures(results, figs_dir)
    bits = pframe_bits()
    for q in (QUALITIES[0], QUALITIES[-1]):
        grid = load_grid(Path(grids_dir) / f"{label(q)}.npz")
        n = min(samples, next(iter(grid.values())).shape[0])
        for k in range(n):
            title = f"{bits[label(q)]}-bit P-frames, 12-bit I-frame (test clip {k})"
            made.append(
                plot_reconstruction_grid(grid, figs_dir / f"grid-q{q}-clip{k}.png", k, title)
            )
    return made


def contrast_clips(
    records: Sequence[Mapping], keep: str = "jd", correct: str = "fmd", frame: int = -1
) -> list[int]:
    """Indices of the clips that show the PLF paper's contrast at ``frame``: head ``keep``
    continues its wrong frame-0 digit (``permanence`` 1) while head ``correct`` shows the
    source digit (``correction`` 1), both on a clip whose frame 0 is wrong.

    Args:
        records: the per-clip records of one model, in clip order (the ``sequences/*.json``
            file :func:`~compressai_plf.eval.evaluate_models` writes); each needs
            ``permanence-per-frame/<keep>`` and ``correction-per-frame/<correct>``.

    Raises:
        KeyError: a record lacks one of the two statistics (no classifier, or no such head).
    """
    hits = []
    for i, record in enumerate(records):
        res = record["results"] if "results" in record else record
        kept = res[head_key("permanence" + PER_FRAME, keep)][frame]
        corrected = res[head_key("correction" + PER_FRAME, correct)][frame]
        if kept == 1 and corrected == 1:  # None (frame 0 right) never counts
            hits.append(i)
    return hits


def contrast_grid(eval_dir: str | Path, label: str, bits: int, figs_dir: str | Path) -> Path | None:
    """Draw ``figs_dir/contrast-<label>.png``: the first clip kept for grids (in the
    evaluation folder ``eval_dir``, as :func:`~compressai_plf.eval.evaluate_models` writes it:
    ``sequences/<label>.json``, ``grids/<label>.npz``) on which model ``label``'s JD head keeps
    its wrong first digit while its FMD head returns to the source digit
    (:func:`contrast_clips`). ``None`` when no kept clip shows it."""
    eval_dir, name = Path(eval_dir), safe_name(label)  # as evaluate_models names the files
    records = json.loads((eval_dir / "sequences" / f"{name}.json").read_text())
    grid = load_grid(eval_dir / "grids" / f"{name}.npz")
    kept = next(iter(grid.values())).shape[0]
    hits = [i for i in contrast_clips(records) if i < kept]
    if not hits:
        return None
    title = (
        f"{bits}-bit P-frames, test clip {hits[0]}: frame 0 a posterior sample showing a wrong "
        "digit; JD keeps it, FMD returns to the source"
    )
    return plot_reconstruction_grid(grid, Path(figs_dir) / f"contrast-{label}.png", hits[0], title)


def dp_figure(rows: Sequence[Mapping], path: str | Path) -> Path:
    """P-frame MSE against the P-frame confident share, one curve per head and training
    (rows of :func:`~compressai_plf.reproduction.tables.dp_points` with a ``training``
    entry, ``"universal"`` or ``"end-to-end"``); the MMSE head's row (weight 0) starts each
    universal curve."""
    mmse = [r for r in rows if r["head"] == "mse"]
    runs = []
    for training in dict.fromkeys(r["training"] for r in rows if r["head"] != "mse"):
        mine = [r for r in rows if r["training"] == training and r["head"] != "mse"]
        for head in dict.fromkeys(r["head"] for r in mine):
            pts = (mmse if training == "universal" else []) + [r for r in mine if r["head"] == head]
            runs.append(
                make_results(
                    f"{training} {head}",
                    [0.0] * len(pts),
                    heads={
                        head: {
                            "p-mse": [r["p_mse"] for r in pts],
                            "p-confident": [r["p_confident"] for r in pts],
                        }
                    },
                    q=[f"w={_g(r['lambda_p'])}" for r in pts],
                )
            )
    return plot_distortion_perception(runs, path, "p-mse", "p-confident", higher_is_realistic=True)


def _g(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"
