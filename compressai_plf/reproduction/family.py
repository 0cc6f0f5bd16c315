"""The fixed-rate model family of the reproduction: qualities 1, 3 and 5 (a 12-bit I-frame
and 2, 8 or 16 bits per P-frame), with MMSE and universal JD/FMD/SA heads."""

from __future__ import annotations

import os
from pathlib import Path

from ..eval.models import EvalModel, from_checkpoint, from_zoo
from ..zoo.presets import FIXED_PFRAME_BITS

QUALITIES = (1, 3, 5)


def label(quality: int) -> str:
    """Results label of a quality (``q1``...)."""
    return f"q{quality}"


def pframe_bits() -> dict[str, int]:
    """Results label -> bits per P-frame."""
    return {label(q): FIXED_PFRAME_BITS[q] for q in QUALITIES}


def run_checkpoint(runs_dir: str | os.PathLike, run: str) -> Path:
    """The trainer's checkpoint of run folder ``run`` (``zoo/*.json`` ``save_dir`` names)."""
    return Path(runs_dir) / run / "checkpoint.pth.tar"


def family_models(source: str = "zoo", runs_dir: str | os.PathLike = "runs") -> list[EvalModel]:
    """The family from the shipped zoo weights (``"zoo"``) or from the training runs of
    ``zoo/ssf_plf-fixed-q*-universal.json`` (``"runs"``).

    Raises:
        FileNotFoundError: weights or checkpoints are missing (the message says how to get them).
    """
    if source == "zoo":
        return [from_zoo(q, "fixed", label=label(q)) for q in QUALITIES]
    if source != "runs":
        raise ValueError(f"source must be 'zoo' or 'runs', got {source!r}")
    paths = [run_checkpoint(runs_dir, f"ssf_plf-fixed-q{q}-universal") for q in QUALITIES]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"training runs missing: {missing}; train them with `python examples/train_video.py "
            "--config zoo/ssf_plf-fixed-q<q>-{mse,universal}.json`, or use the zoo"
        )
    return [from_checkpoint(p, label(q)) for p, q in zip(paths, QUALITIES, strict=True)]
