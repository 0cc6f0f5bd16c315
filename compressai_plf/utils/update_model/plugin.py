"""CompressAI's ``update_model`` with this package's architectures.

``python -m compressai.utils.update_model CKPT -a ssf_plf`` is rejected: the architectures
live in a dict inside that module. This entry point adds ``ssf_plf`` to it and loads
checkpoints safely (``weights_only=True``, on the CPU), then runs CompressAI's own ``main``:
the model is rebuilt with ``ScaleSpaceFlowPLF.from_state_dict`` (its stored architecture,
Gaussian tables rebuilt), its CDF tables are updated and it is saved as
``NAME-<sha256 prefix>.pth.tar``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import compressai.utils.update_model.__main__ as _tool
import torch
from compressai.zoo import load_state_dict

import compressai_plf  # noqa: F401  (registers models)
from compressai_plf.checkpoint import load_checkpoint as _load_file
from compressai_plf.checkpoint import state_dict_of
from compressai_plf.models import ScaleSpaceFlowPLF

__all__ = ["install", "load_checkpoint", "main"]

ARCHITECTURES = {"ssf_plf": ScaleSpaceFlowPLF}


def load_checkpoint(filepath: Path, arch: str) -> dict[str, torch.Tensor]:
    """The state dict of a checkpoint (``network``, ``state_dict`` or a bare state dict)."""
    del arch
    return load_state_dict(state_dict_of(_load_file(filepath), str(filepath)))


def install() -> None:
    _tool.models.update(ARCHITECTURES)
    _tool.load_checkpoint = load_checkpoint


def main(argv: list[str] | None = None) -> None:
    install()
    try:
        _tool.main(sys.argv[1:] if argv is None else list(argv))
    except (RuntimeError, ValueError) as err:  # one line, not a traceback
        raise SystemExit(f"error: {err}") from None
