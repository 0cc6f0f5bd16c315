"""Gaussian W2: known values and the optimal coupling."""

import numpy as np
import pytest

from compressai_plf.theory.wasserstein import (
    gaussian_w2_squared,
    optimal_coupling_cross_covariance,
    psd_sqrt,
)


def test_scalar_and_commuting_cases():
    assert gaussian_w2_squared(4.0, 1.0) == pytest.approx(1.0)  # (2 - 1)^2
    a = np.diag([1.0, 9.0])
    b = np.diag([4.0, 0.0])
    assert gaussian_w2_squared(a, b) == pytest.approx(1.0 + 9.0)
    assert gaussian_w2_squared(a, a) == pytest.approx(0.0, abs=1e-12)


def test_two_by_two_closed_form():
    # For 2x2: tr (S1^1/2 S2 S1^1/2)^1/2 = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)).
    s1 = np.array([[2.0, 0.7], [0.7, 1.0]])
    s2 = np.array([[1.0, -0.3], [-0.3, 0.5]])
    cross = np.sqrt(np.trace(s1 @ s2) + 2 * np.sqrt(np.linalg.det(s1) * np.linalg.det(s2)))
    expected = np.trace(s1) + np.trace(s2) - 2 * cross
    assert gaussian_w2_squared(s1, s2) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("singular", [False, True])
def test_coupling_attains_w2(singular):
    rng = np.random.default_rng(0)
    f1 = rng.normal(size=(3, 2 if singular else 3))
    f2 = rng.normal(size=(3, 3))
    s1, s2 = f1 @ f1.T, f2 @ f2.T
    c = optimal_coupling_cross_covariance(s1, s2)
    joint = np.block([[s1, c], [c.T, s2]])
    assert np.linalg.eigvalsh(joint).min() > -1e-9  # a valid joint covariance
    cost = np.trace(s1) + np.trace(s2) - 2 * np.trace(c)
    # sqrt of round-off eigenvalues (~1e-16) limits singular cases to ~1e-8.
    assert cost == pytest.approx(gaussian_w2_squared(s1, s2), rel=1e-7)


def test_psd_sqrt_and_shape_errors():
    a = np.array([[4.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(psd_sqrt(a), np.diag([2.0, 0.0]))
    np.testing.assert_allclose(psd_sqrt(a, inverse=True), np.diag([0.5, 0.0]))
    with pytest.raises(ValueError):
        gaussian_w2_squared(np.eye(2), np.eye(3))
