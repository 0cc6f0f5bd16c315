"""Gauss-Markov rate-distortion-perception theory for the PLF paper (numpy/scipy only).

See :mod:`compressai_plf.theory.gauss_markov` and ``docs/theory.md``; run
``python -m compressai_plf.theory --out DIR`` for tables and plots.
"""

from .decoder import PERCEPTION_KINDS, LinearDecoder
from .gauss_markov import (
    PLFS,
    error_permanence_limit,
    fmd,
    fmd_decoder,
    jd,
    jd_decoder,
    mmse,
    mmse_decoder,
    optimal_decoder,
    sa,
    sa_decoder,
    simulate,
)
from .perceptual import PERCEPTION_TOL, sequential_decoder
from .representation import MMSERepresentation
from .source import GaussMarkovSource
from .wasserstein import gaussian_w2_squared

__all__ = [
    "PERCEPTION_KINDS",
    "PERCEPTION_TOL",
    "PLFS",
    "GaussMarkovSource",
    "LinearDecoder",
    "MMSERepresentation",
    "error_permanence_limit",
    "fmd",
    "fmd_decoder",
    "gaussian_w2_squared",
    "jd",
    "jd_decoder",
    "mmse",
    "mmse_decoder",
    "optimal_decoder",
    "sa",
    "sa_decoder",
    "sequential_decoder",
    "simulate",
]
