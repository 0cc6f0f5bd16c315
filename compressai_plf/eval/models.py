"""Models to evaluate (each a rate point): zoo entries and training checkpoints, each with a
label. ("Source" in eval means the original clips, never a model.)

Checkpoints are read like CompressAI's eval tool reads them (the ``state_dict``, ``network``
or ``model_state_dict`` key, or the dict itself), but safely (``weights_only=True``, on the
CPU) and without naming an architecture: ``ScaleSpaceFlowPLF`` stores its own constructor
arguments, so :meth:`~compressai_plf.models.ScaleSpaceFlowPLF.from_state_dict` rebuilds it.
Then, as CompressAI's tool does, ``update(force=True)`` fills the entropy coder's tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..checkpoint import load_checkpoint, ssf_plf_of, training_weights
from ..models.ssf_plf import ScaleSpaceFlowPLF

__all__ = ["EvalModel", "checkpoint_label", "from_checkpoint", "from_zoo", "parse_qualities"]

_SUFFIXES = (".pth.tar", ".tar.pth", ".pth", ".pt", ".tar", ".ckpt")


@dataclass
class EvalModel:
    """A model with the label of its rate point.

    Attributes:
        label: the ``q`` entry of the results and the name of its per-sequence file.
        model: the codec, updated and in eval mode.
        origin: where it came from (checkpoint path or zoo entry), for the description.
        training: the loss weights it was trained with, ``{"lmbda", "lambda_p"}``, from the
            weight file's metadata or the checkpoint's arguments (``None`` if unrecorded).
    """

    label: str
    model: ScaleSpaceFlowPLF
    origin: str = ""
    training: dict[str, float | None] = field(default_factory=dict)


def checkpoint_label(path: str | os.PathLike) -> str:
    """File name without its checkpoint suffix (``run/q3.pth.tar`` -> ``q3``); for the
    trainer's ``checkpoint.pth.tar`` the run folder's name (``runs/q1-mse/checkpoint.pth.tar``
    -> ``q1-mse``)."""
    path = Path(path)
    name = path.name
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    if name == "checkpoint" and path.parent.name not in ("", ".", ".."):
        return path.parent.name
    return name


def from_checkpoint(path: str | os.PathLike, label: str | None = None) -> EvalModel:
    """Load a ``ScaleSpaceFlowPLF`` from a training checkpoint (or a bare state dict file).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is damaged, unsafe, or holds no ``ScaleSpaceFlowPLF``.
    """
    ckpt = load_checkpoint(path)
    model = ssf_plf_of(ckpt, f"checkpoint {path}")
    model.update(force=True)
    return EvalModel(
        label or checkpoint_label(path), model.eval(), str(path), training_weights(ckpt)
    )


def from_zoo(
    quality: int,
    rate_mode: str = "hyperprior",
    metric: str = "mse",
    label: str | None = None,
    family: str | None = None,
) -> EvalModel:
    """Load the pretrained ``ssf_plf`` zoo entry of ``quality`` (weights shipped offline);
    ``family`` as :func:`compressai_plf.zoo.presets.resolve_family` resolves it.

    Raises:
        FileNotFoundError: no weights are shipped for this entry (the message says how to
            train them).
        ValueError: invalid quality, metric or rate mode.
    """
    from ..zoo import ssf_plf
    from ..zoo.presets import resolve_family
    from ..zoo.pretrained import weights_name, weights_path

    family = resolve_family(family, rate_mode)
    try:
        model = ssf_plf(quality, metric=metric, pretrained=True, rate_mode=rate_mode, family=family)
    except RuntimeError as err:  # the zoo's "no pretrained weights are shipped" error
        raise FileNotFoundError(str(err)) from err
    model.update(force=True)
    name = label or weights_name(quality, metric, rate_mode, family).removesuffix(".pth.tar")
    path = weights_path(quality, metric, rate_mode, family)
    meta = load_checkpoint(path, what="zoo weight file")
    origin = f"zoo ssf_plf quality {quality} ({family}, {rate_mode})"
    return EvalModel(name, model.eval(), origin, training_weights(meta))


def parse_qualities(text: str | Iterable[int]) -> list[int]:
    """``"1,2,5"`` or ``"1-3"`` (or a list of ints) -> sorted unique qualities."""
    if not isinstance(text, str):
        return sorted({int(q) for q in text})
    out: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part:
                lo, hi = (int(p) for p in part.split("-", 1))
                out.update(range(lo, hi + 1))
            else:
                out.add(int(part))
        except ValueError as err:
            raise ValueError(f"bad quality list {text!r}: expected e.g. '1,2,5' or '1-3'") from err
    if not out:
        raise ValueError(f"empty quality list {text!r}")
    return sorted(out)
