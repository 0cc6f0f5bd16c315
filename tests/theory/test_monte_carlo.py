"""Monte Carlo: the module's optimal decoders on simulated MMSE representations.

10^6 Gauss-Markov sequences are drawn and encoded by a separately written Gaussian test
channel; each decoder is applied to the estimates, and the measured MSE and the Gaussian W2 of
the empirical output covariances are checked against the module's predictions.
"""

import numpy as np
import pytest

from compressai_plf.theory import (
    GaussMarkovSource,
    MMSERepresentation,
    fmd,
    gaussian_w2_squared,
    jd,
    mmse,
    optimal_decoder,
    sa,
)

N = 1_000_000
RHO, INNOV = 0.9, 0.19


def _encode(x, rates, rng):
    n, t = x.shape
    xhat = np.zeros_like(x)
    m_prev = 0.0
    for j in range(t):
        pred = np.zeros(n) if j == 0 else RHO * xhat[:, j - 1]
        p = 1.0 if j == 0 else RHO**2 * m_prev + INNOV
        m = p * 4.0 ** (-rates[j])
        q = p - m
        xhat[:, j] = pred + (q / p) * (x[:, j] - pred) + np.sqrt(q * m / p) * rng.standard_normal(n)
        m_prev = m
    return xhat


def _sequences(rates, seed):
    rng = np.random.default_rng(seed)
    x = np.empty((N, 3))
    x[:, 0] = rng.standard_normal(N)
    for j in (1, 2):
        x[:, j] = RHO * x[:, j - 1] + np.sqrt(INNOV) * rng.standard_normal(N)
    return x, _encode(x, rates, rng), rng


def _measured_perception(x, y, kind):
    out = []
    for j in range(3):
        if kind == "fmd":
            out.append(gaussian_w2_squared(x[:, j].var(), y[:, j].var()))
        elif kind == "jd":
            out.append(gaussian_w2_squared(np.cov(x[:, : j + 1].T), np.cov(y[:, : j + 1].T)))
        else:
            real = np.column_stack([y[:, :j], x[:, j]])
            out.append(gaussian_w2_squared(np.cov(real.T), np.cov(y[:, : j + 1].T)))
    return np.array(out)


CLOSED = {"mse": lambda s, r, p: mmse(s, r), "fmd": fmd, "jd": jd, "sa": sa}


@pytest.fixture(
    scope="module", params=[([0.5, 1.0, 2.0], 0), ([0.0, 2.0, 2.0], 1)], ids=["mixed", "zero_I"]
)
def samples(request):
    rates, seed = request.param
    return rates, *_sequences(rates, seed)


@pytest.mark.parametrize("plf", ["mse", "fmd", "jd", "sa"])
@pytest.mark.parametrize("budget", [0.0, 0.02])
def test_decoders_on_samples(samples, plf, budget):
    rates, x, xhat, rng = samples
    src = GaussMarkovSource(variance=1.0, rho=RHO, frames=3)
    rep = MMSERepresentation(src, rates)
    dec = optimal_decoder(src, rates, plf, budget)
    y = dec(xhat, rng)
    predicted_d = CLOSED[plf](src, rates, budget)
    np.testing.assert_allclose(dec.distortion(rep), predicted_d, rtol=1e-9, atol=1e-12)
    mse = ((x - y) ** 2).mean(0)
    # Sampling error of a mean square over 10^6 draws is about 0.15 % (std).
    np.testing.assert_allclose(mse, predicted_d, rtol=1e-2, atol=1e-4)
    kinds = ("fmd", "jd", "sa") if plf == "mse" else (plf,)
    for kind in kinds:
        predicted_p = dec.perception(rep, kind)
        if plf != "mse":
            assert np.all(predicted_p <= budget + 1e-8)
        measured = _measured_perception(x, y, kind)
        # Empirical covariances move W2^2 by O(1/n) at zero and O(sqrt(P / n)) elsewhere.
        tol = 5e-5 + 1e-2 * np.sqrt(predicted_p)
        assert np.all(np.abs(measured - predicted_p) <= tol), (measured, predicted_p)
