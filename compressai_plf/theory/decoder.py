"""Linear-Gaussian decoders of the MMSE representation and their exact RDP evaluation.

A causal decoder outputs ``Y = A X^ + L xi``: ``A`` (lower triangular) maps the MMSE estimates
``X^1..X^T`` and ``L`` (lower triangular) shapes shared independent noise ``xi ~ N(0, I)``, so
frame ``j`` sees only ``X^1..X^j`` and ``xi_1..xi_j``. In the Gaussian analysis of
https://arxiv.org/abs/2305.19301 and https://arxiv.org/abs/2502.10628 every optimal
reconstruction has this form: the universality statement (one MMSE encoder, the perception
loss chosen at the decoder) applied to samples is ``decoder(estimates, rng)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .representation import MMSERepresentation
from .wasserstein import gaussian_w2_squared

__all__ = ["PERCEPTION_KINDS", "LinearDecoder"]

PERCEPTION_KINDS = ("fmd", "jd", "sa")


@dataclass(frozen=True)
class LinearDecoder:
    """``Y = coefficients @ X^ + noise @ xi`` with lower-triangular ``T x T`` matrices.

    Args:
        coefficients: ``A[j, i]``, weight of the MMSE estimate ``X^i`` in output ``Y_j``.
        noise: ``L[j, i]``, weight of the shared standard normal ``xi_i`` in ``Y_j``.
    """

    coefficients: np.ndarray
    noise: np.ndarray

    def __post_init__(self) -> None:
        a = np.array(self.coefficients, dtype=float)
        b = np.array(self.noise, dtype=float)
        if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape != b.shape:
            raise ValueError(
                f"coefficients and noise must be equal square matrices, got {a.shape}, {b.shape}"
            )
        for name, mat in (("coefficients", a), ("noise", b)):
            if not np.all(np.isfinite(mat)):
                raise ValueError(f"{name} must be finite")
            if np.any(np.abs(np.triu(mat, 1)) > 1e-12 * max(1.0, np.abs(mat).max())):
                raise ValueError(f"{name} must be lower triangular (a causal decoder)")
        a.setflags(write=False)
        b.setflags(write=False)
        object.__setattr__(self, "coefficients", np.tril(a))
        object.__setattr__(self, "noise", np.tril(b))

    @property
    def frames(self) -> int:
        return self.coefficients.shape[0]

    def __call__(
        self,
        estimates: np.ndarray,
        rng: np.random.Generator | None = None,
        noise: np.ndarray | None = None,
    ) -> np.ndarray:
        """Decode MMSE estimates of shape ``(n, T)`` into outputs of shape ``(n, T)``.

        Args:
            estimates: samples of ``X^1..X^T``, one sequence per row.
            rng: generator for the shared noise ``xi`` (used when ``noise`` is None).
            noise: explicit standard normal ``xi`` of shape ``(n, T)``.
        """
        est = np.asarray(estimates, dtype=float)
        if est.ndim != 2 or est.shape[1] != self.frames:
            raise ValueError(f"estimates must have shape (n, {self.frames}), got {est.shape}")
        out = est @ self.coefficients.T
        if np.any(self.noise != 0):
            if noise is None:
                if rng is None:
                    raise ValueError("this decoder is stochastic: pass rng or noise")
                noise = rng.standard_normal(est.shape)
            if noise.shape != est.shape:
                raise ValueError(f"noise must have shape {est.shape}, got {noise.shape}")
            out = out + noise @ self.noise.T
        return out

    def _check(self, rep: MMSERepresentation) -> None:
        if rep.frames != self.frames:
            raise ValueError(f"decoder has {self.frames} frames, representation {rep.frames}")

    def output_covariance(self, rep: MMSERepresentation) -> np.ndarray:
        """``Cov(Y)``."""
        self._check(rep)
        a, n = self.coefficients, self.noise
        return a @ rep.covariance() @ a.T + n @ n.T

    def source_cross_covariance(self, rep: MMSERepresentation) -> np.ndarray:
        """``C[i, k] = Cov(X_i, Y_k)``."""
        self._check(rep)
        return rep.cross_covariance() @ self.coefficients.T

    def distortion(self, rep: MMSERepresentation) -> np.ndarray:
        """Per-frame MSE ``E (X_j - Y_j)^2``."""
        cov_y = self.output_covariance(rep)
        cross = self.source_cross_covariance(rep)
        d = rep.source.variances + np.diag(cov_y) - 2.0 * np.diag(cross)
        return np.maximum(d, 0.0)

    def perception(self, rep: MMSERepresentation, kind: str) -> np.ndarray:
        """Per-frame squared-W2 perception loss of the outputs.

        Args:
            rep: the MMSE representation the decoder reads.
            kind: ``"fmd"`` (``Y_j`` vs ``X_j``), ``"jd"`` (``Y_1..Y_j`` vs ``X_1..X_j``) or
                ``"sa"`` (``(Y_1..Y_(j-1), Y_j)`` vs ``(Y_1..Y_(j-1), X_j)``).
        """
        if kind not in PERCEPTION_KINDS:
            raise ValueError(f"kind must be one of {PERCEPTION_KINDS}, got {kind!r}")
        cov_y = self.output_covariance(rep)
        sig = rep.source.covariance()
        cross = self.source_cross_covariance(rep)
        out = np.empty(self.frames)
        for j in range(self.frames):
            if kind == "fmd":
                out[j] = gaussian_w2_squared(sig[j, j], cov_y[j, j])
            elif kind == "jd":
                out[j] = gaussian_w2_squared(sig[: j + 1, : j + 1], cov_y[: j + 1, : j + 1])
            else:
                target = cov_y[: j + 1, : j + 1].copy()
                target[:j, j] = target[j, :j] = cross[j, :j]
                target[j, j] = sig[j, j]
                out[j] = gaussian_w2_squared(target, cov_y[: j + 1, : j + 1])
        return out
