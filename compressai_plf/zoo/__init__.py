"""Model zoo of compressai_plf: ``from compressai_plf.zoo import ssf_plf``."""

from .presets import FIXED_PFRAME_BITS, HYPERPRIOR_LAMBDAS
from .pretrained import ssf_plf
from .weight_cards import list_pretrained

video_models = {"ssf_plf": ssf_plf}

__all__ = [
    "FIXED_PFRAME_BITS",
    "HYPERPRIOR_LAMBDAS",
    "list_pretrained",
    "ssf_plf",
    "video_models",
]
