"""Rate-distortion-perception of a Gauss-Markov source under PLF-MMSE/FMD/JD/SA, computable.

The model and the perception losses follow Salehkalaibar, Phan, Chen, Yu, Khisti, "On the
choice of perception loss function for learned video compression" (NeurIPS 2023,
https://arxiv.org/abs/2305.19301) and the self-adaptive follow-up "On self-adaptive perception
loss function for sequential lossy compression" (https://arxiv.org/abs/2502.10628).
Derivations: ``docs/theory.md``.

Every frame ``j`` is coded by the MMSE (Kalman test-channel) encoder at ``R_j`` bits
(:class:`MMSERepresentation`); a decoder maps the MMSE estimates ``X^1..X^j`` linearly and adds
independent Gaussian noise (:class:`LinearDecoder`). Distortions are per-frame MSEs; perception
budgets are squared W2 distances per frame. Frames are optimised in order, each minimising its
own MSE given the earlier frames' decoders.

Closed forms (``p``, ``m``, ``q`` of the Kalman recursion, ``sigma_j^2 = Var X_j``):

- MMSE: ``D_j = m_j``.
- FMD: ``D_j = m_j + max(0, sigma_j - sqrt(sigma_j^2 - m_j) - sqrt(P_j))^2``.
- JD at ``P = 0``: ``C_1 = sigma_1 sqrt(q_1)``, ``C_j = rho^2 C_(j-1) + sN sqrt(q_j)``,
  ``D_j = 2 sigma_j^2 - 2 C_j``.
- SA at ``P = 0``: ``D_j = 2 p_j - 2 sqrt(p_j q_j)``.

JD and SA at positive perception use the convex solver of :mod:`.perceptual`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .decoder import PERCEPTION_KINDS, LinearDecoder
from .perceptual import PERCEPTION_TOL, fmd_decoder_for, mmse_decoder_for, sequential_decoder
from .representation import MMSERepresentation, per_frame
from .source import GaussMarkovSource

__all__ = [
    "PERCEPTION_KINDS",
    "PERCEPTION_TOL",
    "PLFS",
    "GaussMarkovSource",
    "LinearDecoder",
    "MMSERepresentation",
    "error_permanence_limit",
    "fmd",
    "fmd_decoder",
    "jd",
    "jd_decoder",
    "mmse",
    "mmse_decoder",
    "optimal_decoder",
    "sa",
    "sa_decoder",
    "simulate",
]

PLFS = ("mse", "fmd", "jd", "sa")

Rates = float | Sequence[float]
Budgets = float | Sequence[float]


def mmse(source: GaussMarkovSource, rates: Rates) -> np.ndarray:
    """Per-frame MMSE distortion ``m_j`` at ``rates`` bits per frame."""
    return MMSERepresentation(source, rates).m.copy()


def fmd(source: GaussMarkovSource, rates: Rates, perception: Budgets = 0.0) -> np.ndarray:
    """Per-frame PLF-FMD distortion (closed form for every budget)."""
    rep = MMSERepresentation(source, rates)
    budget = per_frame(perception, source.frames, "perception")
    sigma = source.stds
    gap = sigma - np.sqrt(np.maximum(source.variances - rep.m, 0.0)) - np.sqrt(budget)
    return rep.m + np.maximum(gap, 0.0) ** 2


def _jd_zero_perception(rep: MMSERepresentation) -> np.ndarray:
    src = rep.source
    cross = np.empty(src.frames)  # C_j = Cov(X_j, Y_j)
    cross[0] = src.stds[0] * np.sqrt(rep.q[0])
    for j in range(1, src.frames):
        innov_std = np.sqrt(src.innovation_variances[j - 1])
        cross[j] = src.rhos[j - 1] ** 2 * cross[j - 1] + innov_std * np.sqrt(rep.q[j])
    return 2.0 * src.variances - 2.0 * cross


def jd(source: GaussMarkovSource, rates: Rates, perception: Budgets = 0.0) -> np.ndarray:
    """Per-frame PLF-JD distortion; closed form at zero perception, convex solver otherwise.

    ``perception[j]`` bounds ``W2^2`` between the joint laws of the first ``j`` output and
    source frames, so it cannot usefully decrease with ``j``; a budget below what earlier
    frames already spent raises ``ValueError``.
    """
    rep = MMSERepresentation(source, rates)
    budget = per_frame(perception, source.frames, "perception")
    if np.all(budget == 0):
        return _jd_zero_perception(rep)
    decoder, _ = sequential_decoder(rep, "jd", budget)
    return decoder.distortion(rep)


def sa(source: GaussMarkovSource, rates: Rates, perception: Budgets = 0.0) -> np.ndarray:
    """Per-frame PLF-SA distortion; closed form at zero perception, convex solver otherwise."""
    rep = MMSERepresentation(source, rates)
    budget = per_frame(perception, source.frames, "perception")
    if np.all(budget == 0):
        return 2.0 * rep.p - 2.0 * np.sqrt(rep.p * rep.q)
    decoder, _ = sequential_decoder(rep, "sa", budget)
    return decoder.distortion(rep)


def mmse_decoder(source: GaussMarkovSource, rates: Rates) -> LinearDecoder:
    """The identity decoder ``Y = X^`` (validates ``rates``)."""
    return mmse_decoder_for(MMSERepresentation(source, rates))


def fmd_decoder(
    source: GaussMarkovSource, rates: Rates, perception: Budgets = 0.0
) -> LinearDecoder:
    """Optimal PLF-FMD decoder: a per-frame rescaling of ``X^j`` (noise when ``X^j = 0``)."""
    return fmd_decoder_for(MMSERepresentation(source, rates), perception)


def jd_decoder(source: GaussMarkovSource, rates: Rates, perception: Budgets = 0.0) -> LinearDecoder:
    """Optimal sequential PLF-JD decoder of the MMSE representation."""
    return sequential_decoder(MMSERepresentation(source, rates), "jd", perception)[0]


def sa_decoder(source: GaussMarkovSource, rates: Rates, perception: Budgets = 0.0) -> LinearDecoder:
    """Optimal sequential PLF-SA decoder of the MMSE representation."""
    return sequential_decoder(MMSERepresentation(source, rates), "sa", perception)[0]


def optimal_decoder(
    source: GaussMarkovSource, rates: Rates, plf: str, perception: Budgets = 0.0
) -> LinearDecoder:
    """The decoder for ``plf`` in ``("mse", "fmd", "jd", "sa")`` (``"mse"``: the MMSE decoder,
    the package's name for that head; perception unused for it)."""
    if plf == "mse":
        return mmse_decoder(source, rates)
    if plf == "fmd":
        return fmd_decoder(source, rates, perception)
    if plf == "jd":
        return jd_decoder(source, rates, perception)
    if plf == "sa":
        return sa_decoder(source, rates, perception)
    raise ValueError(f"plf must be one of {PLFS}, got {plf!r}")


def simulate(
    source: GaussMarkovSource, rates: Rates, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` source sequences and their MMSE estimates (each ``(n, T)``)."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    return MMSERepresentation(source, rates).sample(int(n), rng)


def error_permanence_limit(source: GaussMarkovSource, frame: int = 2) -> float:
    """Limit of the zero-perception JD distortion of ``frame`` when frame 1 has rate zero and
    the P-frame rates grow without bound.

    With ``R_1 = 0`` the first output is independent noise; JD forces every later output to
    continue it like the source would, so only the innovation part can be matched:
    ``D_2 -> 2 sigma_2^2 - 2 sN_1 sigma_2`` (``2 sigma^2 - 2 sN sigma`` when stationary), and in
    general ``2 sigma_j^2 - 2 C_j`` with ``C_2 = sN_1 sigma_2`` and later frames continuing the
    zero-perception recursion at infinite rate.
    """
    if not 2 <= frame <= source.frames:
        raise ValueError(f"frame must be in 2..{source.frames}, got {frame}")
    rates = np.full(source.frames, np.inf)
    rates[0] = 0.0
    return float(_jd_zero_perception(MMSERepresentation(source, rates))[frame - 1])
