"""PLF-JD: the reconstructed sequence must look like a real sequence (joint distribution).

Salehkalaibar et al., NeurIPS 2023, https://arxiv.org/abs/2305.19301. Temporally consistent,
but a wrong past must be continued: error permanence. Real ``cat(X_0..X_j)``, fake
``cat(R_0..R_j)``, at the P-frames ``j >= 1`` (frame 0's marginal is part of every joint).
"""

from __future__ import annotations

import torch

from .base import PerceptionLossFunction, register_plf


@register_plf
class JointDistribution(PerceptionLossFunction):
    name = "jd"
    title = "PLF-JD"
    first_frame = 1

    def stacked_frames(self, j: int) -> int:
        return j + 1

    def build_inputs(self, frames, recon, j):
        return torch.cat(list(frames[: j + 1]), 1), torch.cat(list(recon[: j + 1]), 1)
