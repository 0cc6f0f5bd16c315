"""The MMSE (Kalman) representation of a Gauss-Markov source coded causally at given rates.

Frame ``j`` is coded with a Gaussian test channel on the innovation ``Xj - rho X^(j-1)`` left
after predicting from the previous MMSE estimate. Its variance is the prediction error
``p_j = rho^2 m_(j-1) + sN^2`` (``p_1 = s1^2``); ``R_j`` bits leave ``m_j = p_j 2^(-2 R_j)``
and reveal ``q_j = p_j - m_j``. The MMSE reconstruction ``X^j = E[Xj | representations 1..j]``
then satisfies ``X^j = rho X^(j-1) + Zj`` with ``Zj ~ N(0, q_j)`` independent of the past
estimates, and ``Xj = X^j + Ej`` with ``Ej ~ N(0, m_j)`` independent of ``X^1..X^j``.
This is the representation a decoder of any perception loss works from (the universality
discussion of https://arxiv.org/abs/2305.19301).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .source import GaussMarkovSource

__all__ = ["MMSERepresentation", "per_frame"]


def per_frame(value: float | Sequence[float], frames: int, name: str) -> np.ndarray:
    """Broadcast a scalar (or check a sequence) to one non-negative value per frame.

    ``inf`` is allowed (infinite rate, unconstrained perception); NaN and negatives are not.
    """
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(frames, float(arr))
    if arr.shape != (frames,):
        raise ValueError(
            f"{name} must be a scalar or have one value per frame ({frames}), got shape {arr.shape}"
        )
    if np.any(np.isnan(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0 (inf allowed), got {arr.tolist()}")
    return arr


class MMSERepresentation:
    """Kalman quantities and the joint law of ``(X, X^mmse)`` for rates in bits per frame.

    ``X`` and ``X^`` are written as linear maps ``Gx``, ``Gh`` of independent standard normal
    primitives: ``X1/s1``, the innovations ``Nj/sN_j`` and the test-channel noises, so that
    covariances are exact matrix products and sampling is one matrix product.

    Args:
        source: the Gauss-Markov source.
        rates: bits per frame, a scalar or one value per frame, ``>= 0`` (``inf`` allowed).

    Raises:
        ValueError: on negative or NaN rates or a wrong number of them.
    """

    def __init__(self, source: GaussMarkovSource, rates: float | Sequence[float]) -> None:
        if not isinstance(source, GaussMarkovSource):
            raise TypeError(f"source must be a GaussMarkovSource, got {type(source).__name__}")
        t = source.frames
        self.source = source
        self.rates = per_frame(rates, t, "rates")
        self.p = np.empty(t)
        self.m = np.empty(t)
        dims = 1 + (t - 1) + t  # X1, innovations, test-channel noises
        gx = np.zeros((t, dims))
        gh = np.zeros((t, dims))
        for j in range(t):
            if j == 0:
                self.p[0] = source.variance
                gx[0, 0] = np.sqrt(source.variance)
                pred = np.zeros(dims)
            else:
                rho = source.rhos[j - 1]
                self.p[j] = rho**2 * self.m[j - 1] + source.innovation_variances[j - 1]
                gx[j] = rho * gx[j - 1]
                gx[j, j] = np.sqrt(source.innovation_variances[j - 1])
                pred = rho * gh[j - 1]
            # 2^(-2R) underflows to exactly 0 for R = inf, which is the lossless limit.
            self.m[j] = self.p[j] * 2.0 ** (-2.0 * self.rates[j])
            q = self.p[j] - self.m[j]
            gh[j] = pred
            if self.p[j] > 0:
                # Forward form of the backward test channel innovation = Z + E.
                gh[j] += (q / self.p[j]) * (gx[j] - pred)
                gh[j, t + j] = np.sqrt(q * self.m[j] / self.p[j])
        self.q = self.p - self.m
        self._gx = gx
        self._gh = gh

    @property
    def frames(self) -> int:
        return self.source.frames

    @property
    def estimate_variances(self) -> np.ndarray:
        """``Var(X^j) = sigma_j^2 - m_j``."""
        return self.source.variances - self.m

    def covariance(self) -> np.ndarray:
        """``Cov(X^1..X^T)`` of the MMSE estimates."""
        return self._gh @ self._gh.T

    def cross_covariance(self) -> np.ndarray:
        """``C[i, k] = Cov(X_i, X^_k)`` (source frame ``i``, estimate ``k``)."""
        return self._gx @ self._gh.T

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` source sequences and their MMSE estimates, each of shape ``(n, T)``."""
        eps = rng.standard_normal((n, self._gx.shape[1]))
        return eps @ self._gx.T, eps @ self._gh.T
