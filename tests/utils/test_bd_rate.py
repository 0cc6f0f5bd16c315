import math

import numpy as np
import pytest

from compressai_plf.utils.bd_rate import bd_psnr, bd_rate

RATES = [100.0, 180.0, 400.0, 900.0, 1500.0]
PSNR = [30.0, 32.1, 34.9, 37.2, 38.4]


@pytest.mark.parametrize("method", ["cubic", "pchip"])
def test_identical_curves(method):
    assert bd_rate(RATES, PSNR, RATES, PSNR, method) == pytest.approx(0.0, abs=1e-12)
    assert bd_psnr(RATES, PSNR, RATES, PSNR, method) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("method", ["cubic", "pchip"])
@pytest.mark.parametrize("factor", [1.1, 0.9])
def test_constant_rate_factor(method, factor):
    # Same quality at `factor` times the rate: exactly (factor - 1) * 100 percent.
    test = [r * factor for r in RATES]
    assert bd_rate(RATES, PSNR, test, PSNR, method) == pytest.approx((factor - 1) * 100, abs=1e-9)
    # Swapping the roles gives 1 / factor - 1.
    assert bd_rate(test, PSNR, RATES, PSNR, method) == pytest.approx(
        (1 / factor - 1) * 100, abs=1e-9
    )


@pytest.mark.parametrize("method", ["cubic", "pchip"])
def test_constant_psnr_offset(method):
    better = [p + 0.5 for p in PSNR]
    assert bd_psnr(RATES, PSNR, RATES, better, method) == pytest.approx(0.5, abs=1e-12)
    # Higher quality at the same rate means fewer bits at the same quality.
    assert bd_rate(RATES, PSNR, RATES, better, method) < 0


def test_cubic_exact_on_cubic_curve_with_different_samples():
    # log-rate is an exact cubic of PSNR, so the fit is exact even where the two curves are
    # sampled at different qualities and only partly overlap ([31, 36] here).
    def log_rate(d):
        return 1.0 + 0.2 * (d - 30) + 0.01 * (d - 30) ** 2 + 0.002 * (d - 30) ** 3

    d_a = np.array([30.0, 32.0, 34.0, 36.0])
    d_t = np.array([31.0, 33.0, 35.0, 37.0])
    r_a = np.exp(log_rate(d_a))
    r_t = np.exp(log_rate(d_t) + math.log(1.25))
    assert bd_rate(r_a, d_a, r_t, d_t) == pytest.approx(25.0, abs=1e-8)


def test_bd_psnr_exact_on_linear_curve():
    # PSNR = a + b ln(rate) for both, shifted by 0.3 dB.
    rates = np.array([50.0, 100.0, 200.0, 400.0])
    d_a = 20 + 3 * np.log(rates)
    assert bd_psnr(rates, d_a, rates * 1.3, 20.3 + 3 * np.log(rates * 1.3)) == pytest.approx(
        0.3, abs=1e-9
    )


def test_bad_input():
    with pytest.raises(ValueError, match="at least 4"):
        bd_rate(RATES[:3], PSNR[:3], RATES, PSNR)
    assert np.isfinite(bd_rate(RATES[:2], PSNR[:2], RATES[:2], PSNR[:2], method="pchip"))
    with pytest.raises(ValueError, match="overlap"):
        bd_rate(RATES, PSNR, RATES, [p + 20 for p in PSNR])
    with pytest.raises(ValueError, match="positive"):
        bd_rate([0.0] + RATES[1:], PSNR, RATES, PSNR)
    with pytest.raises(ValueError, match="lengths differ"):
        bd_psnr(RATES, PSNR[:4], RATES, PSNR)
    with pytest.raises(ValueError, match="method"):
        bd_rate(RATES, PSNR, RATES, PSNR, method="akima")
    with pytest.raises(ValueError, match="distinct"):
        bd_rate(RATES, [30, 30, 31, 32, 33], RATES, PSNR, method="pchip")
