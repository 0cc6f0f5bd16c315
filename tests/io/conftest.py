"""Tiny ScaleSpaceFlowPLF configurations (same as tests/models) so clip tests stay fast."""

from __future__ import annotations

import pytest
import torch

from compressai_plf.models import ScaleSpaceFlowPLF

HEADS = ("mse", "jd", "fmd", "sa")


def tiny_hyperprior(**kw) -> ScaleSpaceFlowPLF:
    """3-channel frames; latents at 1/8, hyper-latents at 1/32 of the (padded) frame."""
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
    net = ScaleSpaceFlowPLF(**cfg).eval()
    net.update(force=True)
    return net


def tiny_fixed(**kw) -> ScaleSpaceFlowPLF:
    """The paper's regime: 1-channel frames, 64x64 -> 1x1 latents, 12-bit keyframe, P-frames of
    3 + 3 four-level latents (12 bits)."""
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
    return ScaleSpaceFlowPLF(**cfg).eval()


@pytest.fixture(scope="module")
def hyper_net() -> ScaleSpaceFlowPLF:
    torch.manual_seed(1)
    return tiny_hyperprior()


@pytest.fixture(scope="module")
def fixed_net() -> ScaleSpaceFlowPLF:
    torch.manual_seed(2)
    return tiny_fixed()
