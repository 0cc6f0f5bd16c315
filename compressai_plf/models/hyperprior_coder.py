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

# CompressAI's C++ rANS decoder does not bounds-check its input: a string shorter than its
# symbols need makes it read past the end of the buffer (and crash the process on a forged
# clip). Every string is therefore decoded with zero bytes appended, enough for the decoder
# to stop inside them (below), and again with another filler: a string that was read past
# its end decodes differently and is refused. A string the encoder wrote is never read past
# its end (the decoder reads back exactly the 32-bit words the encoder wrote), so valid
# streams decode unchanged.
_FILLERS = (b"\x00", b"\x11")  # no 0xF nibble: a bypass-length chain stops inside them


def _guard_bytes(symbols: int, length: int) -> int:
    """Filler bytes after a string of ``length`` bytes coding ``symbols`` symbols.

    Each symbol decode renormalises at most once (one 32-bit word); bypass-coded values read
    4-bit chunks, at most one word per 7 chunks, and their lengths are bounded by the bits of
    the string and of the 64-bit state. Twice the per-symbol words plus a margin covers both.
    """
    return 8 * symbols + 16 * length + 4096


def _guarded(strings: list, symbols: int, filler: bytes) -> list[bytes]:
    return [bytes(s) + filler * _guard_bytes(symbols, len(s)) for s in strings]


def _check_strings(strings: Any, what: str) -> list[bytes]:
    if not isinstance(strings, (list, tuple)) or not strings:
        raise ValueError(f"{what} strings must be a non-empty list of bytes")
    for s in strings:
        if not isinstance(s, (bytes, bytearray)):
            raise ValueError(f"{what} strings must be bytes, got {type(s).__name__}")
        # rANS output is whole 32-bit words, at least the two of the flushed state.
        if len(s) < 8 or len(s) % 4:
            raise ValueError(f"{what} string of {len(s)} bytes is not a rANS string")
    return list(strings)


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
        y_strings, z_strings = _check_strings(strings[0], "y"), _check_strings(strings[1], "z")
        if len(y_strings) != len(z_strings):
            raise ValueError("y and z strings must have one entry per batch element")
        shape = tuple(shape)
        z_symbols = self.entropy_bottleneck.channels * shape[0] * shape[1]
        z_hat = self._guarded_decode(
            lambda s: self.entropy_bottleneck.decompress(s, shape), z_strings, z_symbols, "z"
        )
        scales = self.hyper_decoder_scale(z_hat)
        means = self.hyper_decoder_mean(z_hat)
        indexes = self.gaussian_conditional.build_indexes(scales)
        y_symbols = indexes[0].numel()
        return self._guarded_decode(
            lambda s: self.gaussian_conditional.decompress(s, indexes, z_hat.dtype, means),
            y_strings,
            y_symbols,
            "y",
        )

    @staticmethod
    def _guarded_decode(decode: Any, strings: list[bytes], symbols: int, what: str) -> Tensor:
        """``decode(strings)`` with each string padded by two fillers; the two results must
        agree (else the decoder read past a string's end: it is too short for its shape)."""
        first, second = (decode(_guarded(strings, symbols, f)) for f in _FILLERS)
        if not first.equal(second):
            raise ValueError(
                f"{what} string is shorter than its {symbols} symbols need (forged, or "
                "decoded with a larger shape than it was coded with)"
            )
        return first
