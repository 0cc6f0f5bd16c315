"""Video compression models of compressai_plf (registered in ``compressai.registry.MODELS``)."""

from .coded_clip import CodedClip, CodedFrame, CodedLatent
from .decoder_head import DecoderHead
from .fixed_rate_coder import FixedRateLatentCoder
from .frame_geometry import FrameGeometryError
from .hyperprior_coder import HyperpriorLatentCoder
from .ssf2020_weights import load_ssf2020_weights
from .ssf_plf import RATE_MODES, ScaleSpaceFlowPLF

__all__ = [
    "CodedClip",
    "CodedFrame",
    "CodedLatent",
    "RATE_MODES",
    "DecoderHead",
    "FixedRateLatentCoder",
    "FrameGeometryError",
    "HyperpriorLatentCoder",
    "ScaleSpaceFlowPLF",
    "load_ssf2020_weights",
]
