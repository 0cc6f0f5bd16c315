"""Squared 2-Wasserstein distance between centred Gaussians, and its optimal coupling.

``W2^2(N(0, S1), N(0, S2)) = tr S1 + tr S2 - 2 tr (S1^(1/2) S2 S1^(1/2))^(1/2)`` (Dowson and
Landau 1982; Givens and Shortt 1984). Singular covariances are allowed throughout: the
perception constraints of https://arxiv.org/abs/2305.19301 meet them whenever a frame is
coded at rate zero or a decoder is deterministic.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gaussian_w2_squared", "optimal_coupling_cross_covariance", "psd_sqrt"]

# Relative size below which an eigenvalue of a covariance counts as zero.
RANK_TOL = 1e-12


def _as_matrix(cov: np.ndarray | float, name: str) -> np.ndarray:
    a = np.atleast_2d(np.asarray(cov, dtype=float))
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return 0.5 * (a + a.T)


def _eigh_psd(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lam, vec = np.linalg.eigh(a)
    return np.clip(lam, 0.0, None), vec


def psd_sqrt(a: np.ndarray, inverse: bool = False) -> np.ndarray:
    """Symmetric square root of a PSD matrix (its pseudo-inverse when ``inverse``)."""
    lam, vec = _eigh_psd(_as_matrix(a, "a"))
    root = np.sqrt(lam)
    if inverse:
        keep = lam > RANK_TOL * max(lam.max(initial=0.0), 1e-300)
        root = np.where(keep, 1.0 / np.where(keep, root, 1.0), 0.0)
    return (vec * root) @ vec.T


def gaussian_w2_squared(cov1: np.ndarray | float, cov2: np.ndarray | float) -> float:
    """Squared W2 distance between ``N(0, cov1)`` and ``N(0, cov2)``.

    Args:
        cov1: covariance matrix (or a variance) of the first Gaussian.
        cov2: covariance of the second, same shape.
    """
    a = _as_matrix(cov1, "cov1")
    b = _as_matrix(cov2, "cov2")
    if a.shape != b.shape:
        raise ValueError(f"covariance shapes differ: {a.shape} vs {b.shape}")
    root = psd_sqrt(a)
    lam, _ = _eigh_psd(root @ b @ root)
    value = np.trace(a) + np.trace(b) - 2.0 * np.sqrt(lam).sum()
    return float(max(value, 0.0))


def optimal_coupling_cross_covariance(cov1: np.ndarray, cov2: np.ndarray) -> np.ndarray:
    """``Cov(U, V)`` of a W2-optimal jointly Gaussian coupling of ``U ~ N(0, cov1)``, ``V ~ N(0, cov2)``.

    On the support of ``cov1`` (eigenvectors ``Ur``, eigenvalues ``Lr``) the coupling is the
    transport map ``M`` from ``N(0, Lr)`` to the law of ``Ur^T V``; the rest of ``V`` follows
    by Gaussian regression on ``Ur^T V``. When ``cov1`` is invertible this is
    ``cov1 M`` with the usual map ``M = cov1^(-1/2) (cov1^(1/2) cov2 cov1^(1/2))^(1/2) cov1^(-1/2)``.
    """
    a = _as_matrix(cov1, "cov1")
    b = _as_matrix(cov2, "cov2")
    if a.shape != b.shape:
        raise ValueError(f"covariance shapes differ: {a.shape} vs {b.shape}")
    lam, vec = _eigh_psd(a)
    keep = lam > RANK_TOL * max(lam.max(initial=0.0), 1e-300)
    if not np.any(keep):
        return np.zeros_like(a)
    ur, lr = vec[:, keep], lam[keep]
    s = ur.T @ b @ ur
    half = np.sqrt(lr)
    mid = psd_sqrt(half[:, None] * s * half[None, :])
    transport = mid / half[:, None] / half[None, :]
    cross_r = lr[:, None] * transport  # Cov(Ur^T U, Ur^T V)
    return ur @ cross_r @ np.linalg.pinv(s, hermitian=True) @ ur.T @ b
