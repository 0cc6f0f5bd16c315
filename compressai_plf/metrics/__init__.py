"""Offline evaluation metrics: distortion (MSE, PSNR, MS-SSIM), realism (Fréchet distance on
features of a digit classifier trained here), digit agreement and flow-based temporal
consistency. None of them needs downloaded weights."""

from .digit_agreement import digit_agreement_per_frame
from .digit_classifier import (
    DigitClassifier,
    classifier_features,
    classifier_predictions,
    classify_frames,
    load_digit_classifier,
)
from .frechet import (
    frechet_distance,
    frechet_distance_pairs,
    frechet_distance_per_frame,
    gaussian_frechet_distance,
)
from .ms_ssim import ms_ssim_per_frame, ms_ssim_window
from .psnr import mse_per_frame, psnr_per_frame
from .temporal_consistency import farneback_flow, flow_difference_per_frame

__all__ = [
    "DigitClassifier",
    "classifier_features",
    "classifier_predictions",
    "classify_frames",
    "digit_agreement_per_frame",
    "farneback_flow",
    "flow_difference_per_frame",
    "frechet_distance",
    "frechet_distance_pairs",
    "frechet_distance_per_frame",
    "gaussian_frechet_distance",
    "load_digit_classifier",
    "ms_ssim_per_frame",
    "ms_ssim_window",
    "mse_per_frame",
    "psnr_per_frame",
]
