"""Model zoo of compressai_plf: ``from compressai_plf.zoo import ssf_plf``."""

from .presets import FIXED_PFRAME_BITS, HYPERPRIOR_LAMBDAS
from .pretrained import ssf_plf

video_models = {"ssf_plf": ssf_plf}

__all__ = ["FIXED_PFRAME_BITS", "HYPERPRIOR_LAMBDAS", "ssf_plf", "video_models"]
