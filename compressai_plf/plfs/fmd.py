"""PLF-FMD: each reconstructed frame must look like a real frame (framewise marginals).

Salehkalaibar et al., NeurIPS 2023, https://arxiv.org/abs/2305.19301. Errors can be
corrected frame by frame, at the cost of temporal consistency. Real ``X_j``, fake ``R_j``, at
every frame, the I-frame included.
"""

from __future__ import annotations

from .base import PerceptionLossFunction, register_plf


@register_plf
class FramewiseMarginals(PerceptionLossFunction):
    name = "fmd"
    title = "PLF-FMD"
    first_frame = 0

    def stacked_frames(self, j: int) -> int:
        return 1

    def build_inputs(self, frames, recon, j):
        return frames[j], recon[j]
