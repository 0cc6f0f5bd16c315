"""Learned codecs on Gauss-Markov sequences, beside the closed-form theory.

The theory of :mod:`compressai_plf.theory` says what the MMSE, PLF-FMD, PLF-JD and PLF-SA
decoders of a Gauss-Markov source can reach (Salehkalaibar et al., NeurIPS 2023,
https://arxiv.org/abs/2305.19301; https://arxiv.org/abs/2502.10628). This subpackage trains
the package's own objectives on that source and measures what a learned system reaches: a
causal MLP codec per frame with the paper's fixed-rate dithered quantiser
(:class:`CausalMLPCodec`), MMSE training, then universal PLF decoders (:class:`PLFDecoder`) on
the frozen encoder with :class:`~compressai_plf.losses.PLFLoss` and WGAN-GP critics or the
batch Gaussian W2 (:func:`batch_gaussian_w2_squared`). Unlike the rest of
:mod:`compressai_plf.theory` it needs torch. Run ``python -m compressai_plf.theory.operational``.
"""

from .codec import CausalMLPCodec, frame_bits, latent_layout
from .experiment import effective_rates, evaluate, run_point, theory_distortion
from .gaussian_critic import batch_gaussian_w2_squared
from .plf_decoder import PLFDecoder
from .sampling import sample_sequences
from .training import CRITICS, TrainConfig, train_mmse, train_plf_decoder

__all__ = [
    "CRITICS",
    "CausalMLPCodec",
    "PLFDecoder",
    "TrainConfig",
    "batch_gaussian_w2_squared",
    "effective_rates",
    "evaluate",
    "frame_bits",
    "latent_layout",
    "run_point",
    "sample_sequences",
    "theory_distortion",
    "train_mmse",
    "train_plf_decoder",
]
