"""Small model configurations that keep the model tests fast on 2 CPU cores."""

from __future__ import annotations

import pytest
import torch

from compressai_plf.models import ScaleSpaceFlowPLF

HEADS = ("mse", "jd", "fmd", "sa")


def tiny_hyperprior(**kw) -> ScaleSpaceFlowPLF:
    cfg = dict(
        mid_planes=16,
        latent_planes=16,
        hyper_planes=16,
        context_planes=8,
        stages=3,
        hyper_stages=2,
        num_levels=3,
        decoders=HEADS,
    )
    cfg.update(kw)
    return ScaleSpaceFlowPLF(**cfg)


def tiny_fixed(**kw) -> ScaleSpaceFlowPLF:
    """The paper's regime: 1-channel 64x64 frames, 1x1 latents, 12-bit keyframe."""
    cfg = dict(
        channels=1,
        mid_planes=16,
        context_planes=8,
        stages=6,
        num_levels=1,
        rate_mode="fixed",
        keyframe_planes=12,
        keyframe_levels=2,
        latent_planes=3,
        levels=4,
        decoders=HEADS,
    )
    cfg.update(kw)
    return ScaleSpaceFlowPLF(**cfg)


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
