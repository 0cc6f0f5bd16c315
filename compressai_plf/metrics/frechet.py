"""Fréchet distance between two feature sets, as in FID (Heusel et al. 2017,
https://arxiv.org/abs/1706.08500), computed per frame and over consecutive frame pairs."""

from __future__ import annotations

import numpy as np
import torch
from scipy import linalg


def _as_2d(x, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name}: expected (num_samples, dim) features, got shape {x.shape}")
    if x.shape[0] < 2:
        raise ValueError(f"{name}: need at least 2 samples to estimate a covariance")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: features contain NaN or inf")
    return x


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    # Symmetric eigendecomposition; tiny negative eigenvalues are rounding noise.
    w, v = linalg.eigh(sigma)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def gaussian_frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    """Closed-form squared Fréchet (2-Wasserstein) distance between two Gaussians:
    ``||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2)``.

    The cross term uses ``Tr((S1 S2)^1/2) = Tr((S1^1/2 S2 S1^1/2)^1/2)``: the inner matrix is
    symmetric positive semi-definite, so only symmetric eigendecompositions are needed. This
    avoids the complex results and singular-matrix failures of ``sqrtm(S1 @ S2)`` when the
    covariances are rank deficient (fewer samples than feature dimensions).

    Args:
        mu1: mean of the first Gaussian, shape (d,).
        sigma1: covariance of the first Gaussian, shape (d, d).
        mu2: mean of the second Gaussian, shape (d,).
        sigma2: covariance of the second Gaussian, shape (d, d).
    """
    mu1, mu2 = (
        np.atleast_1d(np.asarray(mu1, np.float64)),
        np.atleast_1d(np.asarray(mu2, np.float64)),
    )
    s1, s2 = (
        np.atleast_2d(np.asarray(sigma1, np.float64)),
        np.atleast_2d(np.asarray(sigma2, np.float64)),
    )
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(
            f"shape mismatch: mu1 {mu1.shape}, sigma1 {s1.shape}, mu2 {mu2.shape}, sigma2 {s2.shape}"
        )
    s1, s2 = (s1 + s1.T) / 2, (s2 + s2.T) / 2
    r1 = _psd_sqrt(s1)
    inner = r1 @ s2 @ r1
    cross = np.sqrt(np.clip(linalg.eigvalsh((inner + inner.T) / 2), 0.0, None)).sum()
    diff = mu1 - mu2
    value = diff @ diff + np.trace(s1) + np.trace(s2) - 2 * cross
    return float(max(value, 0.0))


def frechet_distance(features1, features2) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (FID-style).

    The estimate is biased for small sets: use many more samples than feature dimensions
    and the same number of samples when comparing values.

    Args:
        features1: (num_samples, dim) array or tensor.
        features2: (num_samples, dim) array or tensor with the same ``dim``.
    """
    f1, f2 = _as_2d(features1, "features1"), _as_2d(features2, "features2")
    if f1.shape[1] != f2.shape[1]:
        raise ValueError(f"feature dims differ: {f1.shape[1]} vs {f2.shape[1]}")
    return gaussian_frechet_distance(
        f1.mean(0), np.cov(f1, rowvar=False), f2.mean(0), np.cov(f2, rowvar=False)
    )


def _as_3d(x, name: str) -> torch.Tensor:
    x = torch.as_tensor(x)
    if x.dim() != 3:
        raise ValueError(f"{name}: expected (N, T, dim) per-frame features, got {tuple(x.shape)}")
    return x


def frechet_distance_per_frame(real_features, fake_features) -> list[float]:
    """Fréchet distance between real and reconstructed features at each frame index
    (framewise marginal realism, what PLF-FMD targets).

    Args:
        real_features: (N, T, dim) features of source clips.
        fake_features: (M, T, dim) features of reconstructed clips.

    Returns:
        One distance per frame index (length T).
    """
    r, f = _as_3d(real_features, "real_features"), _as_3d(fake_features, "fake_features")
    if r.shape[1:] != f.shape[1:]:
        raise ValueError(f"(T, dim) differ: {tuple(r.shape[1:])} vs {tuple(f.shape[1:])}")
    return [frechet_distance(r[:, t], f[:, t]) for t in range(r.shape[1])]


def frechet_distance_pairs(real_features, fake_features) -> list[float]:
    """Fréchet distance of the joint features of consecutive frames ``(t, t+1)``
    (temporal realism, closer to what PLF-JD targets): features of frames t and t+1 are
    concatenated, so a set of realistic frames in an unrealistic order is penalised.

    Args:
        real_features: (N, T, dim) features of source clips, T >= 2.
        fake_features: (M, T, dim) features of reconstructed clips.

    Returns:
        One distance per consecutive pair (length T - 1).
    """
    r, f = _as_3d(real_features, "real_features"), _as_3d(fake_features, "fake_features")
    if r.shape[1:] != f.shape[1:]:
        raise ValueError(f"(T, dim) differ: {tuple(r.shape[1:])} vs {tuple(f.shape[1:])}")
    if r.shape[1] < 2:
        raise ValueError("frame pairs need at least 2 frames")
    return [
        frechet_distance(r[:, t : t + 2].flatten(1), f[:, t : t + 2].flatten(1))
        for t in range(r.shape[1] - 1)
    ]
