"""What the critic of each perception loss function (PLF) compares.

PLF paper (Salehkalaibar et al., NeurIPS 2023, https://arxiv.org/abs/2305.19301) and the
self-adaptive follow-up (https://arxiv.org/abs/2502.10628). For frame ``j`` (0-based), frames
``X_0..X_j`` and reconstructions ``R_0..R_j``, stacked along channels:

======  ===========================================  ===========================================
PLF     real                                         fake
======  ===========================================  ===========================================
``jd``  ``cat(X_0, ..., X_j)``                       ``cat(R_0, ..., R_j)``
``fmd`` ``X_j``                                      ``R_j``
``sa``  ``cat(R_0.detach(), ..., R_{j-1}.detach(),   ``cat(R_0.detach(), ..., R_{j-1}.detach(),
        X_j)``                                       R_j)``
======  ===========================================  ===========================================

JD asks the whole reconstructed sequence to look real (temporally consistent, but a wrong past
must be continued: error permanence); FMD asks each frame to look real; SA asks the new frame
to be a plausible continuation of the displayed past. SA's past is detached: it is a
condition, not something the critic's gradient should move.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["PLF_NAMES", "constrained_frames", "critic_inputs", "stacked_frames"]

#: Recognised perception loss functions.
PLF_NAMES = ("jd", "fmd", "sa")


def _check_plf(plf: str) -> str:
    if not isinstance(plf, str) or plf.lower() not in PLF_NAMES:
        raise ValueError(f"unknown PLF {plf!r}: expected one of {PLF_NAMES}")
    return plf.lower()


def constrained_frames(plf: str, num_frames: int) -> range:
    """0-based frames ``j`` at which ``plf`` has a critic term, for clips of ``num_frames``.

    JD: ``1..T-1`` (the joint of frames ``0..j``; frame 0's marginal is part of every one).
    FMD: ``0..T-1``, every frame's marginal, the I-frame's included. SA: ``0..T-1``; at the
    I-frame there is no past, so its condition is FMD's (the reconstructed I-frame must look
    like a real one, https://arxiv.org/abs/2502.10628).
    """
    plf = _check_plf(plf)
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
        raise ValueError(f"num_frames must be a positive int, got {num_frames!r}")
    return range(1 if plf == "jd" else 0, num_frames)


def stacked_frames(plf: str, j: int) -> int:
    """Number of frames stacked in the critic input of ``plf`` at 0-based frame ``j``."""
    plf = _check_plf(plf)
    if isinstance(j, bool) or not isinstance(j, int) or j < 0:
        raise ValueError(f"frame index j must be a non-negative int, got {j!r}")
    return 1 if plf == "fmd" else j + 1


def critic_inputs(
    plf: str, frames: Sequence[Tensor], recon: Sequence[Tensor], j: int
) -> tuple[Tensor, Tensor]:
    """The ``(real, fake)`` critic inputs of ``plf`` for frame ``j`` (table in module doc).

    Args:
        plf: ``"jd"``, ``"fmd"`` or ``"sa"``.
        frames: source frames, a list of ``(B, C, H, W)`` tensors.
        recon: reconstructions, same length and shapes.
        j: 0-based frame index, ``0 <= j < len(frames)``.

    Returns:
        ``(real, fake)``, each ``(B, k * C, H, W)`` with ``k = stacked_frames(plf, j)``.
        Gradients reach ``recon`` only through the fake stack (and, for SA, only through
        ``recon[j]``).
    """
    plf = _check_plf(plf)
    if len(frames) != len(recon) or len(frames) == 0:
        raise ValueError(
            f"frames and recon must be non-empty lists of equal length, got {len(frames)} "
            f"and {len(recon)}"
        )
    if isinstance(j, bool) or not isinstance(j, int) or not 0 <= j < len(frames):
        raise ValueError(f"frame index j={j!r} out of range for {len(frames)} frames")
    for x, r in zip(frames[: j + 1], recon[: j + 1], strict=True):
        if x.dim() != 4 or x.shape != r.shape:
            raise ValueError(
                f"frames must be (B, C, H, W) tensors matching recon, got {tuple(x.shape)} "
                f"and {tuple(r.shape)}"
            )
    if plf == "jd":
        return torch.cat(list(frames[: j + 1]), 1), torch.cat(list(recon[: j + 1]), 1)
    if plf == "fmd":
        return frames[j], recon[j]
    past = [r.detach() for r in recon[:j]]
    return torch.cat(past + [frames[j]], 1), torch.cat(past + [recon[j]], 1)
