"""Bjøntegaard delta rate and delta distortion.

G. Bjøntegaard, "Calculation of average PSNR differences between RD-curves", ITU-T SG16
VCEG-M33, 2001 (https://www.itu.int/wftp3/av-arch/video-site/0104_Aus/VCEG-M33.doc): fit
log-rate as a cubic polynomial of distortion (and vice versa) for both curves and average the
gap over the overlapping interval. The ``"pchip"`` variant replaces the global cubic fit by a
piecewise cubic Hermite interpolant (as in VCEG-AL22 / JVET-style BD-rate tools), which does
not oscillate on irregular curves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.interpolate import PchipInterpolator

_METHODS = ("cubic", "pchip")


def _curve(rate: Sequence[float], dist: Sequence[float], name: str, min_points: int):
    r = np.asarray(rate, dtype=np.float64).ravel()
    d = np.asarray(dist, dtype=np.float64).ravel()
    if r.shape != d.shape:
        raise ValueError(f"{name}: rate and distortion lengths differ ({r.size} vs {d.size})")
    if r.size < min_points:
        raise ValueError(f"{name}: need at least {min_points} points, got {r.size}")
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(d))):
        raise ValueError(f"{name}: rates and distortions must be finite")
    if np.any(r <= 0):
        raise ValueError(f"{name}: rates must be positive (the fit is in log-rate)")
    return np.log(r), d


def _interval_mean(x: np.ndarray, y: np.ndarray, lo: float, hi: float, method: str) -> float:
    """Mean of the fitted y(x) over [lo, hi]."""
    if method == "cubic":
        poly = np.polyint(np.polyfit(x, y, 3))
        return (np.polyval(poly, hi) - np.polyval(poly, lo)) / (hi - lo)
    order = np.argsort(x)
    xs, ys = x[order], y[order]
    if np.any(np.diff(xs) <= 0):
        raise ValueError("pchip needs distinct abscissae (repeated rate or distortion values)")
    return float(PchipInterpolator(xs, ys).integrate(lo, hi)) / (hi - lo)


def _overlap(a: np.ndarray, b: np.ndarray, what: str) -> tuple[float, float]:
    lo, hi = max(a.min(), b.min()), min(a.max(), b.max())
    if not hi > lo:
        raise ValueError(f"the two curves' {what} ranges do not overlap")
    return lo, hi


def _check_method(method: str) -> int:
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    return 4 if method == "cubic" else 2


def bd_rate(
    rate_anchor: Sequence[float],
    dist_anchor: Sequence[float],
    rate_test: Sequence[float],
    dist_test: Sequence[float],
    method: str = "cubic",
) -> float:
    """Average rate difference of ``test`` over ``anchor`` at equal distortion, in percent.

    Negative values mean the test codec needs fewer bits. Pass a quality measure in dB
    (e.g. PSNR), as the method was defined for; any measure monotonic in rate works, and the
    average is taken uniformly over that measure's overlapping range.

    Args:
        rate_anchor: anchor rates (any positive unit, the same for both curves).
        dist_anchor: anchor distortion/quality values, one per rate.
        rate_test: test rates.
        dist_test: test distortion/quality values.
        method: ``"cubic"`` (Bjøntegaard's least-squares cubic, at least 4 points per
            curve) or ``"pchip"`` (piecewise cubic Hermite interpolation, at least 2).
    """
    n = _check_method(method)
    lr_a, d_a = _curve(rate_anchor, dist_anchor, "anchor", n)
    lr_t, d_t = _curve(rate_test, dist_test, "test", n)
    lo, hi = _overlap(d_a, d_t, "distortion")
    gap = _interval_mean(d_t, lr_t, lo, hi, method) - _interval_mean(d_a, lr_a, lo, hi, method)
    return float(np.expm1(gap) * 100)


def bd_psnr(
    rate_anchor: Sequence[float],
    dist_anchor: Sequence[float],
    rate_test: Sequence[float],
    dist_test: Sequence[float],
    method: str = "cubic",
) -> float:
    """Average distortion difference of ``test`` minus ``anchor`` at equal rate.

    In the unit of the distortion values: dB when they are PSNR (positive is better then).
    The average is taken over the overlapping log-rate range.

    Args:
        rate_anchor: anchor rates (any positive unit, the same for both curves).
        dist_anchor: anchor distortion/quality values, one per rate.
        rate_test: test rates.
        dist_test: test distortion/quality values.
        method: ``"cubic"`` or ``"pchip"``, as in :func:`bd_rate`.
    """
    n = _check_method(method)
    lr_a, d_a = _curve(rate_anchor, dist_anchor, "anchor", n)
    lr_t, d_t = _curve(rate_test, dist_test, "test", n)
    lo, hi = _overlap(lr_a, lr_t, "log-rate")
    return float(
        _interval_mean(lr_t, d_t, lo, hi, method) - _interval_mean(lr_a, d_a, lo, hi, method)
    )
