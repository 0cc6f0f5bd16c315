"""Perceptual video objectives and their building blocks. Importing this package registers
``VideoRateDistortionLoss``, ``VideoReconstructionLoss`` and ``PLFLoss`` in
``compressai.registry.CRITERIONS``."""

from .adaptive_weight import adaptive_weight
from .frozen_parameters import frozen_parameters
from .gradient_penalty import gradient_penalty, interpolated_gradient_penalty
from .hinge import hinge_discriminator_loss, hinge_generator_loss
from .plf import PLFLoss, critic_score
from .rate import bits_per_pixel, total_bits
from .video_inputs import check_video, likelihoods_of, reconstructions
from .video_rate_distortion import VideoRateDistortionLoss
from .video_reconstruction import VideoReconstructionLoss

__all__ = [
    "PLFLoss",
    "VideoRateDistortionLoss",
    "VideoReconstructionLoss",
    "adaptive_weight",
    "bits_per_pixel",
    "check_video",
    "critic_score",
    "frozen_parameters",
    "gradient_penalty",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "interpolated_gradient_penalty",
    "likelihoods_of",
    "reconstructions",
    "total_bits",
]
