"""Optimal causal perceptual decoders of the MMSE representation (PLF-FMD, PLF-JD, PLF-SA).

Frames are decoded in order and each frame's decoder minimises its own MSE given the decoders
already fixed for earlier frames (sequential optimisation, the convention behind the closed
forms of https://arxiv.org/abs/2305.19301), subject to its squared-W2 perception budget:

- FMD: ``W2^2(Y_j, X_j) <= P_j`` (marginals);
- JD: ``W2^2((Y_1..Y_j), (X_1..X_j)) <= P_j`` (joint law of the first ``j`` frames);
- SA: ``W2^2((Y_1..Y_(j-1), Y_j), (Y_1..Y_(j-1), X_j)) <= P_j``
  (https://arxiv.org/abs/2502.10628).

Frame ``j`` problem. Let ``V = Y_1..Y_(j-1)`` with whitened coordinates ``V~`` (``Cov = I``)
and write ``X^j = g^T V~ + t eps`` with ``eps`` a unit residual independent of ``V``. Among
outputs with given ``Cov(V, Y_j)`` and ``Var(Y_j)`` the MSE-best is ``Y_j = u^T V~ + w eps``
(``w >= 0``), whose distortion is ``D_j = m_j + |u - g|^2 + (w - t)^2`` and whose perception
depends only on ``(u, w)``. In the coordinates ``b = Cov(V, Y_j)``, ``v = Var(Y_j)`` both the
distortion and the W2 constraint are convex, so the problem is convex and every KKT point of
the smooth ``(u, w)`` form is the global optimum. It is solved by SLSQP started from a
feasible point found by bisection on the segment between the zero-extra-perception decoder and
the MMSE decoder. The returned decoder always satisfies its budget to within
``PERCEPTION_TOL`` (relative to the source variance of the frames involved); its distortion
matches the optimum to about 1e-7 (checked against grid search and closed forms in tests).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize

from .decoder import LinearDecoder
from .representation import MMSERepresentation, per_frame
from .wasserstein import RANK_TOL, gaussian_w2_squared, optimal_coupling_cross_covariance, psd_sqrt

__all__ = [
    "PERCEPTION_TOL",
    "fmd_decoder_for",
    "mmse_decoder_for",
    "sequential_decoder",
]

# Feasibility tolerance of a perception constraint, relative to the total source variance of
# the frames the constraint involves.
PERCEPTION_TOL = 1e-9
# A budget further below what earlier frames already forced than this is infeasible.
_INFEASIBLE_TOL = 1e-6
# A residual of X^j after the past outputs with t^2 below this fraction of sigma_j^2 is zero.
_RESIDUAL_TOL = 1e-12


def mmse_decoder_for(rep: MMSERepresentation) -> LinearDecoder:
    """The MMSE decoder ``Y = X^``."""
    t = rep.frames
    return LinearDecoder(np.eye(t), np.zeros((t, t)))


def fmd_decoder_for(
    rep: MMSERepresentation, perception: float | Sequence[float] = 0.0
) -> LinearDecoder:
    """Closed-form PLF-FMD decoder: ``Y_j = (s_j / sqrt(Var X^j)) X^j``.

    The output std ``s_j = max(sqrt(Var X^j), sigma_j - sqrt(P_j))`` is the one closest to the
    MMSE estimate's std inside the marginal W2 ball; at ``Var X^j = 0`` the output is noise of
    std ``s_j``. Distortion ``m_j + max(0, sigma_j - sqrt(sigma_j^2 - m_j) - sqrt(P_j))^2``.
    """
    t = rep.frames
    budget = per_frame(perception, t, "perception")
    sigma = rep.source.stds
    hat_std = np.sqrt(np.maximum(rep.estimate_variances, 0.0))
    out_std = np.maximum(hat_std, sigma - np.sqrt(budget))
    a = np.zeros((t, t))
    n = np.zeros((t, t))
    for j in range(t):
        if hat_std[j] ** 2 > _RESIDUAL_TOL * sigma[j] ** 2:
            a[j, j] = out_std[j] / hat_std[j]
        else:
            n[j, j] = out_std[j]
    return LinearDecoder(a, n)


class _FrameProblem:
    """The frame-``j`` problem in the coordinates ``(u, w)`` described in the module doc."""

    def __init__(
        self, rep: MMSERepresentation, dec_a: np.ndarray, dec_n: np.ndarray, j: int, kind: str
    ):
        self.j = j
        sig = rep.source.covariance()
        k_hat = rep.covariance()
        self.sigma2 = sig[j, j]
        self.m = rep.m[j]
        past_a, past_n = dec_a[:j], dec_n[:j]
        self.past_a, self.past_n = past_a, past_n
        cov_v = past_a @ k_hat @ past_a.T + past_n @ past_n.T
        c = past_a @ k_hat[:, j]  # Cov(V, X^j) = Cov(V, X_j)
        self.cov_v = cov_v
        lam, vec = np.linalg.eigh(cov_v) if j else (np.zeros(0), np.zeros((0, 0)))
        keep = lam > RANK_TOL * max(lam.max(initial=0.0), self.sigma2)
        self.basis = vec[:, keep] * np.sqrt(lam[keep])  # V = basis @ V~
        self.whiten = (vec[:, keep] / np.sqrt(lam[keep])).T  # V~ = whiten @ V
        self.g = self.whiten @ c
        t2 = rep.estimate_variances[j] - self.g @ self.g
        self.t = float(np.sqrt(t2)) if t2 > _RESIDUAL_TOL * self.sigma2 else 0.0
        if kind == "jd":
            self.target = sig[: j + 1, : j + 1]
            # Zero extra perception: continue an optimal coupling of the past, Y_j = X'_j.
            past = sig[:j, :j]
            cross = optimal_coupling_cross_covariance(cov_v, past) if j else np.zeros((0, 0))
            beta = np.linalg.pinv(past, hermitian=True) @ sig[:j, j] if j else np.zeros(0)
            u0 = self.whiten @ (cross @ beta)
        else:
            self.target = np.block([[cov_v, c[:, None]], [c[None, :], np.array([[self.sigma2]])]])
            u0 = self.g.copy()
        w0 = np.sqrt(max(self.sigma2 - u0 @ u0, 0.0))
        self.anchor = np.append(u0, w0)
        self.mmse_point = np.append(self.g, self.t)
        self.scale = float(np.trace(sig[: j + 1, : j + 1]))
        self._root = psd_sqrt(self.target)

    def covariance(self, x: np.ndarray) -> np.ndarray:
        u, w = x[:-1], x[-1]
        j = self.j
        out = np.empty((j + 1, j + 1))
        out[:j, :j] = self.cov_v
        out[:j, j] = out[j, :j] = self.basis @ u
        out[j, j] = u @ u + w * w
        return out

    def distortion_excess(self, x: np.ndarray) -> float:
        return float(np.sum((x[:-1] - self.g) ** 2) + (x[-1] - self.t) ** 2)

    def distortion_excess_grad(self, x: np.ndarray) -> np.ndarray:
        return 2.0 * np.append(x[:-1] - self.g, x[-1] - self.t)

    def perception(self, x: np.ndarray) -> float:
        return gaussian_w2_squared(self.target, self.covariance(x))

    def perception_grad(self, x: np.ndarray) -> np.ndarray:
        # d W2^2 / d Sigma2 = I - R (R Sigma2 R)^(-1/2) R with R = target^(1/2).
        r = self._root
        grad_cov = np.eye(self.j + 1) - r @ psd_sqrt(r @ self.covariance(x) @ r, inverse=True) @ r
        u, w = x[:-1], x[-1]
        gu = 2.0 * self.basis.T @ grad_cov[: self.j, self.j] + 2.0 * grad_cov[self.j, self.j] * u
        return np.append(gu, 2.0 * grad_cov[self.j, self.j] * w)

    def from_bv(self, b: np.ndarray, v: float) -> np.ndarray:
        u = self.whiten @ b
        return np.append(u, np.sqrt(max(v - u @ u, 0.0)))

    def to_bv(self, x: np.ndarray) -> tuple[np.ndarray, float]:
        return self.basis @ x[:-1], float(x[:-1] @ x[:-1] + x[-1] ** 2)

    def rows(self, x: np.ndarray, frames: int) -> tuple[np.ndarray, np.ndarray]:
        """Decoder rows for ``Y_j = u^T V~ + w eps`` in terms of ``X^`` and ``xi``."""
        u, w = x[:-1], x[-1]
        a_row = np.zeros(frames)
        n_row = np.zeros(frames)
        if self.t > 0:
            on_vt = u - (w / self.t) * self.g  # eps = (X^j - g^T V~) / t
            a_row[self.j] = w / self.t
        else:
            on_vt = u.copy()
            n_row[self.j] = w  # eps is fresh noise
        on_v = self.whiten.T @ on_vt
        a_row += on_v @ self.past_a
        n_row += on_v @ self.past_n
        return a_row, n_row

    def solve(self, budget: float, numeric_only: bool = False) -> tuple[np.ndarray, str]:
        tol = PERCEPTION_TOL * self.scale
        if self.perception(self.mmse_point) <= budget + tol:
            return self.mmse_point, "mmse"
        anchor_p = self.perception(self.anchor)
        if budget < anchor_p - _INFEASIBLE_TOL * self.scale:
            raise ValueError(
                f"perception budget {budget:.6g} at frame {self.j + 1} is below the "
                f"{anchor_p:.6g} already incurred by earlier frames (JD budgets bound the joint "
                "law of all frames so far and must not decrease)"
            )
        if budget <= anchor_p + tol and not numeric_only:
            return self.anchor, "closed-form"
        if numeric_only:
            # Off w = 0, where the (u, w) chart of the output covariance is singular.
            start = self.mmse_point.copy()
            start[-1] = max(start[-1], 1e-3 * np.sqrt(self.sigma2))
        else:
            # Bisection on the (b, v) segment anchor -> MMSE, where the constraint is convex.
            b0, v0 = self.to_bv(self.anchor)
            b1, v1 = self.to_bv(self.mmse_point)

            def along(theta: float) -> np.ndarray:
                return self.from_bv(b0 + theta * (b1 - b0), v0 + theta * (v1 - v0))

            lo, hi = 0.0, 1.0  # lo feasible, hi not
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                if self.perception(along(mid)) <= budget:
                    lo = mid
                else:
                    hi = mid
            start = along(lo)
        res = minimize(
            self.distortion_excess,
            start,
            jac=self.distortion_excess_grad,
            method="SLSQP",
            bounds=[(None, None)] * (len(start) - 1) + [(0.0, None)],
            constraints=[
                {
                    "type": "ineq",
                    "fun": lambda x: budget - self.perception(x),
                    "jac": lambda x: -self.perception_grad(x),
                }
            ],
            options={"ftol": 1e-15, "maxiter": 500},
        )
        x = np.asarray(res.x, dtype=float)
        x[-1] = max(x[-1], 0.0)
        feasible = self.perception(x) <= budget + tol
        if numeric_only:
            return x, "numeric" if feasible else "numeric-infeasible"
        if feasible and self.distortion_excess(x) <= self.distortion_excess(start):
            return x, "numeric"
        return start, "bisection"


def sequential_decoder(
    rep: MMSERepresentation,
    kind: str,
    perception: float | Sequence[float] = 0.0,
    numeric_only: bool = False,
) -> tuple[LinearDecoder, list[str]]:
    """Optimal PLF-JD or PLF-SA decoder, frame by frame.

    Args:
        rep: the MMSE representation.
        kind: ``"jd"`` or ``"sa"``.
        perception: squared-W2 budget per frame (scalar or one per frame, ``inf`` allowed).
            JD budgets bound the joint law of frames ``1..j`` and so cannot decrease below what
            earlier frames already spent.
        numeric_only: skip the closed-form shortcuts (zero extra perception) and the feasible
            start, running SLSQP from the MMSE decoder; for testing the solver.

    Returns:
        The decoder and, per frame, how it was found: ``"mmse"`` (MMSE is within budget),
        ``"closed-form"`` (zero extra perception), ``"numeric"`` (SLSQP),
        ``"bisection"`` (feasible start kept), ``"numeric-infeasible"``.

    Raises:
        ValueError: on an unknown kind, bad budgets, or an infeasible JD budget.
    """
    if kind not in ("jd", "sa"):
        raise ValueError(f"kind must be 'jd' or 'sa', got {kind!r}")
    t = rep.frames
    budget = per_frame(perception, t, "perception")
    a = np.zeros((t, t))
    n = np.zeros((t, t))
    how = []
    for j in range(t):
        problem = _FrameProblem(rep, a, n, j, kind)
        x, method = problem.solve(float(budget[j]), numeric_only=numeric_only)
        a[j], n[j] = problem.rows(x, t)
        how.append(method)
    return LinearDecoder(a, n), how
