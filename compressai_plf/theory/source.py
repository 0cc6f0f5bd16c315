"""The scalar Gauss-Markov source of the PLF rate-distortion-perception analysis.

``X1 ~ N(0, s1^2)`` and ``X(j+1) = rho_j Xj + Nj`` with independent ``Nj ~ N(0, sN_j^2)``: the
first-order Markov model used for the Gaussian analysis in Salehkalaibar et al., "On the
choice of perception loss function for learned video compression" (NeurIPS 2023,
https://arxiv.org/abs/2305.19301) and its self-adaptive follow-up
(https://arxiv.org/abs/2502.10628).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["GaussMarkovSource"]


def _per_link(value: float | Sequence[float], links: int, name: str) -> np.ndarray:
    """Broadcast a scalar or check a sequence of one value per frame transition."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(links, float(arr))
    if arr.shape != (links,):
        raise ValueError(
            f"{name} must be a scalar or have one value per frame transition ({links}), "
            f"got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr.tolist()}")
    return arr


class GaussMarkovSource:
    """A Gauss-Markov sequence of ``frames`` scalar frames.

    Args:
        variance: variance ``s1^2 > 0`` of the first frame ``X1``.
        rho: correlation coefficient(s) ``rho_j`` with ``|rho_j| <= 1``; a scalar or one value
            per transition ``X_j -> X_(j+1)`` (``frames - 1`` values).
        frames: number of frames ``T >= 1``.
        innovation_variance: variance(s) ``sN_j^2 >= 0`` of the innovations ``Nj``; a scalar or
            ``frames - 1`` values. Default ``(1 - rho_j^2) * variance``, which makes a constant
            ``rho`` source stationary (every frame has variance ``variance``).

    Raises:
        ValueError: on a non-positive variance, ``|rho| > 1``, a negative innovation
            variance, ``frames < 1`` or mis-sized per-frame sequences.
    """

    def __init__(
        self,
        variance: float = 1.0,
        rho: float | Sequence[float] = 0.9,
        frames: int = 3,
        innovation_variance: float | Sequence[float] | None = None,
    ) -> None:
        if isinstance(frames, bool) or not isinstance(frames, int | np.integer):
            raise TypeError(f"frames must be an int, got {type(frames).__name__}")
        if frames < 1:
            raise ValueError(f"frames must be >= 1, got {frames}")
        variance = float(variance)
        if not np.isfinite(variance) or variance <= 0:
            raise ValueError(f"variance must be finite and > 0, got {variance}")
        links = frames - 1
        rhos = _per_link(rho, links, "rho")
        if np.any(np.abs(rhos) > 1):
            raise ValueError(f"|rho| must be <= 1, got {rhos.tolist()}")
        if innovation_variance is None:
            innov = (1.0 - rhos**2) * variance
        else:
            innov = _per_link(innovation_variance, links, "innovation_variance")
            if np.any(innov < 0):
                raise ValueError(f"innovation_variance must be >= 0, got {innov.tolist()}")
        self.frames = int(frames)
        self.variance = variance
        self.rhos = rhos
        self.innovation_variances = innov
        var = np.empty(frames)
        var[0] = variance
        for j in range(links):
            var[j + 1] = rhos[j] ** 2 * var[j] + innov[j]
        self.variances = var

    @property
    def stds(self) -> np.ndarray:
        """Per-frame standard deviations ``sigma_j``."""
        return np.sqrt(self.variances)

    def covariance(self) -> np.ndarray:
        """Joint covariance ``Cov(X1..XT)``: ``Cov(Xi, Xk) = rho_i...rho_(k-1) sigma_i^2``."""
        t = self.frames
        cov = np.diag(self.variances).astype(float)
        for i in range(t):
            gain = 1.0
            for k in range(i + 1, t):
                gain *= self.rhos[k - 1]
                cov[i, k] = cov[k, i] = gain * self.variances[i]
        return cov

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` sequences, shape ``(n, frames)``."""
        x = np.empty((n, self.frames))
        x[:, 0] = np.sqrt(self.variance) * rng.standard_normal(n)
        for j in range(self.frames - 1):
            noise = np.sqrt(self.innovation_variances[j]) * rng.standard_normal(n)
            x[:, j + 1] = self.rhos[j] * x[:, j] + noise
        return x

    def as_dict(self) -> dict[str, object]:
        """The source's parameters as plain JSON types (for reports)."""
        return {
            "variance": self.variance,
            "rho": self.rhos.tolist(),
            "innovation_variance": self.innovation_variances.tolist(),
            "frames": self.frames,
            "frame_variances": self.variances.tolist(),
        }

    def __repr__(self) -> str:
        return (
            f"GaussMarkovSource(variance={self.variance}, rho={self.rhos.tolist()}, "
            f"frames={self.frames}, innovation_variance={self.innovation_variances.tolist()})"
        )
