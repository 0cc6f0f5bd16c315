"""Mean-scale hyperprior latent coder (Minnen et al., NeurIPS 2018,
https://arxiv.org/abs/1809.02736), as used by ScaleSpaceFlow for every latent.

Same behaviour and state-dict keys as the ``Hyperprior`` class CompressAI defines inside
``ScaleSpaceFlow.__init__``, with configurable depth so that small frames can be coded.
"""

from __future__ import annotations

from typing import Any

from compressai.entropy_models import EntropyBottleneck, GaussianConditional
from compressai.models.base import CompressionModel
from compressai.ops import quantize_ste
from torch import Tensor

from .transforms import HyperSynthesisQReLU, analysis_transform, synthesis_transform


class HyperpriorLatentCoder(CompressionModel):
    """Codes a latent ``y`` with a Gaussian conditional whose mean and scale come from a
    hyper-latent ``z`` coded by a factorized entropy bottleneck (rANS bitstreams).

    Args:
        planes: channels of ``y``.
        mid_planes: channels of ``z`` and of the hyper transforms.
        stages: stride-2 stages between ``y`` and ``z`` (3 in ScaleSpaceFlow).
    """

    def __init__(self, planes: int = 192, mid_planes: int = 192, stages: int = 3) -> None:
        super().__init__()
        self.entropy_bottleneck = EntropyBottleneck(mid_planes)
        self.hyper_encoder = analysis_transform(planes, mid_planes, mid_planes, stages)
        self.hyper_decoder_mean = synthesis_transform(mid_planes, mid_planes, planes, stages)
        self.hyper_decoder_scale = HyperSynthesisQReLU(mid_planes, mid_planes, planes, stages)
        self.gaussian_conditional = GaussianConditional(None)

    def forward(self, y: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        z = self.hyper_encoder(y)
        z_hat, z_likelihoods = self.entropy_bottleneck(z)
        scales = self.hyper_decoder_scale(z_hat)
        means = self.hyper_decoder_mean(z_hat)
        _, y_likelihoods = self.gaussian_conditional(y, scales, means)
        # The decoder sees the rounded latent (straight-through), as in ScaleSpaceFlow.
        y_hat = quantize_ste(y - means) + means
        return y_hat, {"y": y_likelihoods, "z": z_likelihoods}

    def compress(self, y: Tensor) -> tuple[Tensor, dict[str, Any]]:
        z = self.hyper_encoder(y)
        z_strings = self.entropy_bottleneck.compress(z)
        z_hat = self.entropy_bottleneck.decompress(z_strings, z.size()[-2:])
        scales = self.hyper_decoder_scale(z_hat)
        means = self.hyper_decoder_mean(z_hat)
        indexes = self.gaussian_conditional.build_indexes(scales)
        y_strings = self.gaussian_conditional.compress(y, indexes, means)
        y_hat = self.gaussian_conditional.quantize(y, "dequantize", means)
        return y_hat, {"strings": [y_strings, z_strings], "shape": tuple(z.size()[-2:])}

    def decompress(self, strings: list, shape: tuple[int, int]) -> Tensor:
        if not isinstance(strings, (list, tuple)) or len(strings) != 2:
            raise ValueError("a hyperprior latent needs two strings lists: [y_strings, z_strings]")
        z_hat = self.entropy_bottleneck.decompress(strings[1], tuple(shape))
        scales = self.hyper_decoder_scale(z_hat)
        means = self.hyper_decoder_mean(z_hat)
        indexes = self.gaussian_conditional.build_indexes(scales)
        return self.gaussian_conditional.decompress(strings[0], indexes, z_hat.dtype, means)
