"""The fixed-rate model family of the reproduction: qualities 1, 5 and 9 (a 12-bit I-frame
and 2, 16 or 256 bits per P-frame) sharing one frozen keyframe codec, each with an MMSE head
and universal own-past PLF-JD, PLF-FMD and PLF-SA heads trained on its frozen MMSE encoder
(``zoo/campaign/``; the PLF paper's Moving MNIST experiment,
https://arxiv.org/abs/2305.19301)."""

from __future__ import annotations

import os
from pathlib import Path

from ..eval.models import EvalModel, from_checkpoint, from_zoo
from ..zoo.presets import FIXED_PFRAME_BITS

QUALITIES = (1, 5, 9)
#: Quality -> (training run folder, its trained heads): the run whose checkpoint holds every
#: head of the shipped file (the SA run of each rate; its JD and FMD heads were trained in
#: earlier runs that its ``--init`` copied and left frozen; the export records each head's run).
RUNS = {
    1: ("q1-universal-posterior-2f-perhead-sa", ("mse", "jd", "fmd", "sa")),
    5: ("q5-universal-posterior-2f-perhead-sa", ("mse", "jd", "fmd", "sa")),
    9: ("q9-l16-universal-posterior-2f-perhead-sa", ("mse", "jd", "fmd", "sa")),
}


def label(quality: int) -> str:
    """Results label of a quality (``q1``...)."""
    return f"q{quality}"


#: The family's lowest and highest P-frame rates (results labels): the rate and error
#: permanence checks.
LOW, HIGH = label(QUALITIES[0]), label(QUALITIES[-1])


def pframe_bits() -> dict[str, int]:
    """Results label -> bits per P-frame."""
    return {label(q): FIXED_PFRAME_BITS[q] for q in QUALITIES}


def run_checkpoint(runs_dir: str | os.PathLike, run: str) -> Path:
    """The trainer's checkpoint of run folder ``run`` (the recipes' ``save_dir`` names)."""
    return Path(runs_dir) / run / "checkpoint.pth.tar"


def family_models(
    source: str = "zoo", runs_dir: str | os.PathLike = "../plf_runs"
) -> list[EvalModel]:
    """The family from the shipped zoo weights (``"zoo"``) or from the training runs of
    ``zoo/campaign/`` (``"runs"``: :data:`RUNS`, converted as the export converts them: the
    trained heads only, no I-frame generator, so the heads continue the MMSE I-frame or a
    frame 0 given at decode time).

    Raises:
        FileNotFoundError: weights or checkpoints are missing (the message says how to get them).
    """
    if source == "zoo":
        return [from_zoo(q, "fixed", label=label(q)) for q in QUALITIES]
    if source != "runs":
        raise ValueError(f"source must be 'zoo' or 'runs', got {source!r}")
    paths = {q: run_checkpoint(runs_dir, RUNS[q][0]) for q in QUALITIES}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"training runs missing: {missing}; train them with `python examples/train_video.py "
            "--config zoo/campaign/<recipe>.json` (zoo/README.md lists the order), or use the zoo"
        )
    return [run_model(paths[q], label(q), RUNS[q][1]) for q in QUALITIES]


def run_model(path: str | os.PathLike, name: str, heads: tuple[str, ...]) -> EvalModel:
    """A training checkpoint as the family's files hold it: only ``heads`` (those its run
    trained; ``"mse"`` among them) and no I-frame generator (``perceptual_iframe="mmse"``)."""
    m = from_checkpoint(path, name)
    m.model = m.model.with_decoders(heads, "mmse")
    m.model.update(force=True)
    return m
