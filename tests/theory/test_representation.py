"""MMSE representation: Kalman recursion by hand, and against an independent simulation."""

import numpy as np
import pytest

from compressai_plf.theory import GaussMarkovSource, MMSERepresentation, mmse, simulate


def test_kalman_recursion_by_hand():
    src = GaussMarkovSource(variance=1.0, rho=0.9, frames=3)
    rep = MMSERepresentation(src, [1.0, 1.0, 0.5])
    # p1 = 1, m1 = 1/4; p2 = 0.81/4 + 0.19 = 0.3925, m2 = p2/4; p3 = 0.81 m2 + 0.19, m3 = p3/2
    m2 = 0.3925 / 4
    p3 = 0.81 * m2 + 0.19
    np.testing.assert_allclose(rep.p, [1.0, 0.3925, p3])
    np.testing.assert_allclose(rep.m, [0.25, m2, p3 / 2])
    np.testing.assert_allclose(rep.q, rep.p - rep.m)
    np.testing.assert_allclose(np.diag(rep.covariance()), src.variances - rep.m)


def test_infinite_rate_is_lossless_and_zero_rate_keeps_prior():
    src = GaussMarkovSource(variance=3.0, rho=0.7, frames=4)
    np.testing.assert_array_equal(mmse(src, np.inf), np.zeros(4))
    np.testing.assert_allclose(mmse(src, 0.0), src.variances)  # nothing sent: D = variance
    big = mmse(src, 60.0)
    assert np.all(big < 1e-30)


@pytest.mark.parametrize("rates", [-0.1, [1.0, float("nan"), 1.0], [1.0, 2.0]])
def test_bad_rates_raise(rates):
    with pytest.raises(ValueError):
        MMSERepresentation(GaussMarkovSource(frames=3), rates)


def _independent_encoder(x, rho, innov, s1, rates, rng):
    """Forward Gaussian test channel on the Kalman innovation, written out separately."""
    n, t = x.shape
    xhat = np.zeros_like(x)
    m_prev = None
    for j in range(t):
        pred = np.zeros(n) if j == 0 else rho * xhat[:, j - 1]
        p = s1 if j == 0 else rho**2 * m_prev + innov
        m = p * 4.0 ** (-rates[j])
        q = p - m
        xhat[:, j] = pred + (q / p) * (x[:, j] - pred) + np.sqrt(q * m / p) * rng.standard_normal(n)
        m_prev = m
    return xhat


def test_estimates_are_mmse_and_cost_the_rate():
    src = GaussMarkovSource(variance=1.0, rho=0.9, frames=3)
    rates = np.array([0.5, 1.0, 2.0])
    rng = np.random.default_rng(1)
    x = src.sample(1_000_000, rng)
    xhat = _independent_encoder(x, 0.9, 0.19, 1.0, rates, rng)
    rep = MMSERepresentation(src, rates)
    err = x - xhat
    np.testing.assert_allclose((err**2).mean(0), rep.m, rtol=6e-3)
    # Orthogonality: the error of frame j is uncorrelated with every estimate up to j.
    for j in range(3):
        corr = (err[:, j : j + 1] * xhat[:, : j + 1]).mean(0)
        np.testing.assert_allclose(corr, 0.0, atol=3e-3)
    # Rate of frame j = I(X_j; X^_j | X^_<j) = 0.5 log2(Var(X_j | X^_<j) / Var(X_j | X^_<=j)).
    for j in range(3):
        past = xhat[:, :j]
        if j:
            coef = np.linalg.lstsq(past, x[:, j], rcond=None)[0]
            resid_past = x[:, j] - past @ coef
        else:
            resid_past = x[:, j]
        bits = 0.5 * np.log2(resid_past.var() / err[:, j].var())
        assert abs(bits - rates[j]) < 0.01
    # The module's own sampler and covariances agree with this encoder.
    np.testing.assert_allclose(np.cov(xhat.T), rep.covariance(), atol=5e-3)
    xs, hs = simulate(src, rates, 400_000, np.random.default_rng(2))
    np.testing.assert_allclose(np.cov(hs.T), rep.covariance(), atol=8e-3)
    np.testing.assert_allclose(((xs - hs) ** 2).mean(0), rep.m, rtol=1e-2)
    full = np.cov(np.hstack([xs, hs]).T)
    np.testing.assert_allclose(full[:3, 3:], rep.cross_covariance(), atol=8e-3)
