"""``python -m compressai_plf.utils.video.eval_model``: CompressAI's video eval tool, with this
package's architectures.

CompressAI's tool never imports plugins: its architectures live in a dict inside
``compressai.utils.video.eval_model.__main__`` and pretrained mode reads
``compressai.zoo.video_models``. This entry point adds ``ssf_plf`` to both, replaces the
checkpoint loader with one that works on CPU-only machines (``map_location``), refuses
pickled code (``weights_only=True``) and rebuilds ``ssf_plf`` checkpoints with their stored
architecture, and lets MS-SSIM use a window that fits frames under 161 px (the tool asserts
otherwise), then runs CompressAI's own ``main`` with exactly its arguments.
"""

from __future__ import annotations

import sys
from pathlib import Path

import compressai.utils.video.eval_model.__main__ as _tool
import torch
import torch.nn as nn
from pytorch_msssim import ms_ssim
from torch import Tensor

import compressai_plf  # noqa: F401  (registers models and zoo entries)
from compressai_plf.metrics.ms_ssim import ms_ssim_window
from compressai_plf.models import ScaleSpaceFlowPLF
from compressai_plf.zoo import video_models

ARCHITECTURES = {"ssf_plf": ScaleSpaceFlowPLF}
_STATE_DICT_KEYS = ("network", "state_dict", "model_state_dict")


def load_checkpoint(arch: str, no_update: bool, checkpoint_path: str) -> nn.Module:
    """Load a checkpoint for ``arch`` onto the CPU (CompressAI's loader semantics)."""
    install()
    path = Path(checkpoint_path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for damaged files
        raise ValueError(f"cannot read checkpoint {path}: {err}") from err
    state_dict = checkpoint
    for key in _STATE_DICT_KEYS:
        if isinstance(checkpoint, dict) and key in checkpoint:
            state_dict = checkpoint[key]
    if arch not in _tool.models:
        raise ValueError(f"unknown architecture {arch!r}; choose from {sorted(_tool.models)}")
    cls = _tool.models[arch]
    if hasattr(cls, "from_state_dict") and arch in ARCHITECTURES:
        net = cls.from_state_dict(state_dict)
    else:
        net = cls()
        net.load_state_dict(state_dict)
    if not no_update:
        net.update(force=True)
    return net.eval()


def ms_ssim_fitting(x: Tensor, y: Tensor, data_range: float = 255, **kwargs) -> Tensor:
    """CompressAI's MS-SSIM call with a window that fits the frame: identical to the tool's
    value from 161 px on, and defined (instead of an AssertionError) for smaller frames."""
    kwargs.setdefault("win_size", ms_ssim_window(*x.shape[-2:]))
    return ms_ssim(x, y, data_range=data_range, **kwargs)


def install() -> None:
    """Add this package's architectures and loader to CompressAI's eval tool module."""
    _tool.models.update(ARCHITECTURES)
    _tool.pretrained_models.update(video_models)
    _tool.load_checkpoint = load_checkpoint
    _tool.ms_ssim = ms_ssim_fitting


def main(argv: list[str] | None = None) -> None:
    install()
    _tool.main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
