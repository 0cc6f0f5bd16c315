"""Our BD-rate and BD-PSNR against the `bjontegaard` package (test-only dependency)."""

from __future__ import annotations

import numpy as np
import pytest

from compressai_plf.utils.bd_rate import bd_psnr, bd_rate

bj = pytest.importorskip("bjontegaard")


def _curves(seed: int) -> tuple[list[float], ...]:
    """Two monotone rate-distortion curves of 4 points with overlapping quality ranges."""
    rng = np.random.default_rng(seed)
    rate_a = np.sort(rng.uniform(50, 1000, 4)) * np.array([1.0, 1.2, 1.5, 2.0])
    dist_a = 20 + 4 * np.log2(rate_a / 50) + rng.normal(0, 0.1, 4)
    rate_t = rate_a * rng.uniform(0.7, 1.1, 4)
    dist_t = dist_a + rng.uniform(-0.3, 0.5, 4)
    return list(rate_a), list(np.sort(dist_a)), list(np.sort(rate_t)), list(np.sort(dist_t))


@pytest.mark.parametrize("method", ["cubic", "pchip"])
@pytest.mark.parametrize("seed", range(5))
def test_bd_rate_and_bd_psnr_agree_with_bjontegaard(method, seed):
    ra, da, rt, dt = _curves(seed)
    assert bd_rate(ra, da, rt, dt, method=method) == pytest.approx(
        bj.bd_rate(ra, da, rt, dt, method=method), abs=1e-4
    )
    assert bd_psnr(ra, da, rt, dt, method=method) == pytest.approx(
        bj.bd_psnr(ra, da, rt, dt, method=method), abs=1e-4
    )
