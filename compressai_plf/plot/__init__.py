"""Evaluation plots (``python -m compressai_plf.plot``). The results layout they read lives in
:mod:`compressai_plf.results`; its helpers are re-exported here for plotting scripts."""

from ..results import (
    head_key,
    heads_of,
    load_results,
    make_results,
    per_frame_metrics,
    save_results,
    scalar_metrics,
    split_key,
    validate_results,
)
from .distortion_perception import plot_distortion_perception
from .per_frame import plot_per_frame
from .rate_distortion import plot_rate_distortion
from .reconstruction_grid import load_grid, plot_reconstruction_grid

__all__ = [
    "head_key",
    "heads_of",
    "load_grid",
    "load_results",
    "make_results",
    "per_frame_metrics",
    "plot_distortion_perception",
    "plot_per_frame",
    "plot_rate_distortion",
    "plot_reconstruction_grid",
    "save_results",
    "scalar_metrics",
    "split_key",
    "validate_results",
]
