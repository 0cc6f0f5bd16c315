"""Small model configurations that keep the model tests fast on 2 CPU cores."""

from __future__ import annotations

import pytest
import torch

from compressai_plf.models import ScaleSpaceFlowPLF
from compressai_plf.zoo.presets import tiny_architecture

HEADS = ("mse", "jd", "fmd", "sa")


def tiny_hyperprior(**kw) -> ScaleSpaceFlowPLF:
    return ScaleSpaceFlowPLF(**{**tiny_architecture("hyperprior"), **kw})


def tiny_fixed(**kw) -> ScaleSpaceFlowPLF:
    """The paper's regime at toy width: 1-channel 64x64 frames, 1x1 latents, 12-bit keyframe."""
    return ScaleSpaceFlowPLF(**{**tiny_architecture("fixed"), **kw})


def clip(batch: int, channels: int, h: int, w: int, frames: int = 3) -> list[torch.Tensor]:
    return [torch.rand(batch, channels, h, w) for _ in range(frames)]


@pytest.fixture(params=["hyperprior", "fixed"])
def coded_model(request):
    """A model of each rate mode, updated and in eval mode, with a matching clip."""
    if request.param == "hyperprior":
        net, frames = tiny_hyperprior(), clip(2, 3, 64, 64)
    else:
        net, frames = tiny_fixed(), clip(2, 1, 64, 64)
    net.update(force=True)
    return net.eval(), frames
