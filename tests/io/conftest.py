"""Tiny ScaleSpaceFlowPLF configurations (same as tests/models) so clip tests stay fast."""

from __future__ import annotations

import pytest
import torch

from compressai_plf.models import ScaleSpaceFlowPLF
from compressai_plf.zoo.presets import tiny_architecture

HEADS = ("mse", "jd", "fmd", "sa")


def tiny_hyperprior(**kw) -> ScaleSpaceFlowPLF:
    """3-channel frames; latents at 1/8, hyper-latents at 1/32 of the (padded) frame."""
    net = ScaleSpaceFlowPLF(**{**tiny_architecture("hyperprior"), **kw}).eval()
    net.update(force=True)
    return net


def tiny_fixed(**kw) -> ScaleSpaceFlowPLF:
    """The paper's regime: 1-channel 64x64 frames -> 1x1 latents, 12-bit keyframe, P-frames of
    3 + 3 four-level latents (12 bits)."""
    return ScaleSpaceFlowPLF(**{**tiny_architecture("fixed"), **kw}).eval()


@pytest.fixture(scope="module")
def hyper_net() -> ScaleSpaceFlowPLF:
    torch.manual_seed(1)
    return tiny_hyperprior()


@pytest.fixture(scope="module")
def fixed_net() -> ScaleSpaceFlowPLF:
    torch.manual_seed(2)
    return tiny_fixed()
