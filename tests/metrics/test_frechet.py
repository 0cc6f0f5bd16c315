import numpy as np
import pytest
import torch
from scipy import linalg

from compressai_plf.metrics import (
    frechet_distance,
    frechet_distance_pairs,
    frechet_distance_per_frame,
    gaussian_frechet_distance,
)


def _samples(n=2000, d=5, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d))
    return rng.normal(size=(n, d)) @ a  # correlated Gaussian


def test_self_distance_is_zero():
    x = _samples()
    assert abs(frechet_distance(x, x)) < 1e-8 * np.trace(np.cov(x, rowvar=False))


def test_shift_gives_squared_mean_distance():
    x = _samples()
    delta = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    assert frechet_distance(x, x + delta) == pytest.approx(delta @ delta, rel=1e-9)


def test_scaled_set_trace_term():
    # Y = 2X + delta: mean gap mean(X) + delta, and Tr(S + 4S - 2 * 2S) = Tr(S) with S the
    # empirical covariance of X.
    x = _samples()
    delta = np.array([0.0, 1.0, 0.0, 1.0, 0.0])
    gap = x.mean(0) + delta
    expected = gap @ gap + np.trace(np.cov(x, rowvar=False))
    assert frechet_distance(x, 2 * x + delta) == pytest.approx(expected, rel=1e-8)


def test_gaussian_closed_form_diagonal():
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    mu1, mu2 = np.zeros(3), np.array([3.0, 0.0, 4.0])
    # Commuting covariances: sum (sqrt a - sqrt b)^2 = 1 + 1 + 0
    value = gaussian_frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    assert value == pytest.approx(25.0 + 2.0)


def test_gaussian_closed_form_general_and_symmetric():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    s1, s2 = a @ a.T, b @ b.T
    mu1, mu2 = rng.normal(size=4), rng.normal(size=4)
    ref = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real)
    d12 = gaussian_frechet_distance(mu1, s1, mu2, s2)
    assert d12 == pytest.approx(ref, rel=1e-7)
    assert gaussian_frechet_distance(mu2, s2, mu1, s1) == pytest.approx(d12, rel=1e-9)


def test_rank_deficient_is_finite_and_zero_on_self():
    x = _samples(n=10, d=64)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    assert np.isfinite(frechet_distance(x, _samples(n=10, d=64, seed=3)))


def test_per_frame_and_pairs():
    rng = np.random.default_rng(0)
    n, d = 4000, 3
    x1 = rng.normal(size=(n, d))
    x2 = 0.9 * x1 + 0.3 * rng.normal(size=(n, d))  # correlated in time
    real = torch.tensor(np.stack([x1, x2], 1))
    delta = torch.tensor([1.0, 2.0, 2.0], dtype=torch.float64)
    shifted = real.clone()
    shifted[:, 1] += delta
    assert frechet_distance_per_frame(real, shifted) == pytest.approx([0.0, 9.0], abs=1e-8)
    assert frechet_distance_pairs(real, shifted) == pytest.approx([9.0], rel=1e-8)
    # Realistic frames in the wrong combination: per-frame sets are unchanged (distance 0),
    # the joint distribution of consecutive frames is not.
    shuffled = real.clone()
    shuffled[:, 1] = real[torch.randperm(n), 1]
    assert frechet_distance_per_frame(real, shuffled) == pytest.approx([0.0, 0.0], abs=1e-8)
    assert frechet_distance_pairs(real, shuffled)[0] > 1.0


def test_bad_input():
    with pytest.raises(ValueError, match="dims differ"):
        frechet_distance(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="at least 2"):
        frechet_distance(np.zeros((1, 2)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.full((5, 2), np.nan), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="N, T, dim"):
        frechet_distance_per_frame(np.zeros((5, 2)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="2 frames"):
        frechet_distance_pairs(np.zeros((5, 1, 2)), np.zeros((5, 1, 2)))
