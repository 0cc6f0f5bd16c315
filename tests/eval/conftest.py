"""Tiny models and a classifier stub that keep the evaluation tests fast on 2 CPU cores."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from compressai_plf.models import ScaleSpaceFlowPLF

HEADS = ("mse", "jd", "fmd", "sa")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread: on 2 cores shared with other jobs, OpenMP threads waiting for each
    other made these tests 10-40x slower (measured); restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_fixed(decoders=HEADS, seed: int = 0) -> ScaleSpaceFlowPLF:
    """The paper's regime, narrow: 64x64 gray -> 1x1 latents; 12-bit keyframe, 4-bit P-frames
    (2 motion + 2 residual binary latents)."""
    torch.manual_seed(seed)
    net = ScaleSpaceFlowPLF(
        channels=1,
        mid_planes=8,
        context_planes=8,
        stages=6,
        num_levels=1,
        rate_mode="fixed",
        keyframe_planes=12,
        keyframe_levels=2,
        latent_planes=2,
        levels=2,
        decoders=decoders,
    )
    net.update(force=True)
    return net.eval()


def tiny_hyperprior(seed: int = 0) -> ScaleSpaceFlowPLF:
    """RGB, entropy-coded; frames padded to multiples of 32."""
    torch.manual_seed(seed)
    net = ScaleSpaceFlowPLF(
        mid_planes=8,
        latent_planes=8,
        hyper_planes=8,
        context_planes=8,
        stages=3,
        hyper_stages=2,
        num_levels=2,
        decoders=("mse", "fmd"),
    )
    net.update(force=True)
    return net.eval()


def save_checkpoint(net: ScaleSpaceFlowPLF, path) -> str:
    torch.save({"state_dict": net.state_dict()}, path)
    return str(path)


class StubClassifier(nn.Module):
    """Stand-in for the digit classifier: features are the four quadrant means, the class is
    the overall brightness bucket. Deterministic, so identical frames get identical labels."""

    def features(self, x):
        return F.adaptive_avg_pool2d(x, 2).flatten(1)

    def forward(self, x):
        bucket = (x.mean(dim=(1, 2, 3)) * 40).long().clamp(0, 9)
        return F.one_hot(bucket, 10).float()
