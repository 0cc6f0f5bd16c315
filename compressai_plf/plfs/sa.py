"""PLF-SA (self-adaptive): the new frame must be a plausible continuation of the displayed past.

https://arxiv.org/abs/2502.10628. Real ``cat(R_0..R_{j-1} detached, X_j)``, fake
``cat(R_0..R_{j-1} detached, R_j)``, at every frame; at the I-frame there is no past and the
condition is FMD's. The past is detached: it is a condition, not something the critic's
gradient should move. Consistent with a good past, no error permanence with a bad one.
"""

from __future__ import annotations

import torch

from .base import PerceptionLossFunction, register_plf


@register_plf
class SelfAdaptive(PerceptionLossFunction):
    name = "sa"
    title = "PLF-SA"
    first_frame = 0

    def stacked_frames(self, j: int) -> int:
        return j + 1

    def build_inputs(self, frames, recon, j):
        past = [r.detach() for r in recon[:j]]
        return torch.cat(past + [frames[j]], 1), torch.cat(past + [recon[j]], 1)
