"""Fixed-rate latent coder: a dithered L-level scalar quantizer on [-1, 1].

The PLF paper's codec (Salehkalaibar et al., NeurIPS 2023, https://arxiv.org/abs/2305.19301)
has no entropy model: every latent is squashed to [-1, 1] and quantized to one of ``L``
evenly spaced levels after adding a dither ``u ~ U(-step/2, step/2)`` that encoder and decoder
share, ``y_hat = Q(y + u) - u``. A latent of ``n`` numbers costs ``n * log2(L)`` bits.

In training the dither comes from the global RNG and the gradient passes straight through the
rounding. For coding (and eval-mode forward), the dither comes from ``self.generator``, a
``torch.Generator`` the model seeds from the seed it writes into the bitstream, so encoder and
decoder draw identical dithers in the same order.

The squashing ``tanh`` passes almost no gradient where ``|y|`` is large, so a latent pushed
there stays at an extreme level whatever any loss says (a perception loss trained through the
encoder does push them there: ``compressai_plf.eval.latent_saturation``). ``pullback > 0``
(training only, set by ``--latent-pullback``) adds the gradient of
``pullback / 2 * mean(relu(|y| - pullback_bound) ** 2)`` to the latents, which pulls such
latents back towards the range where the code still learns; the forward pass is unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from compressai.models.base import CompressionModel
from torch import Tensor

from .symbol_packing import symbol_bits


class _Pullback(torch.autograd.Function):
    """Identity forward; backward adds the gradient of
    ``strength / 2 * mean(relu(|y| - bound) ** 2)``."""

    @staticmethod
    def forward(ctx, y: Tensor, strength: float, bound: float) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(y)
        ctx.strength, ctx.bound = strength, bound
        return y.view_as(y)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None]:  # type: ignore[override]
        (y,) = ctx.saved_tensors
        excess = y - y.clamp(-ctx.bound, ctx.bound)
        return grad + ctx.strength * excess / y.numel(), None, None


class FixedRateLatentCoder(CompressionModel):
    """Dithered uniform scalar quantization with a fixed-length code.

    It produces quantisation indices (``encode_indices``), not byte strings: packing them into
    CompressAI's string form is :mod:`~compressai_plf.models.compressai_strings`' job, and into
    the container's payload ``compressai_plf.io``'s, so (unlike
    :class:`~compressai_plf.models.hyperprior_coder.HyperpriorLatentCoder`) it has no
    ``compress``/``decompress`` of its own.

    Args:
        planes: channels of the latent.
        levels: number of quantization levels ``L >= 2`` on [-1, 1].
    """

    def __init__(self, planes: int = 192, levels: int = 2) -> None:
        super().__init__()
        if levels < 2:
            raise ValueError(f"levels must be >= 2, got {levels}")
        self.planes = planes
        self.levels = levels
        self.generator: torch.Generator | None = None
        self.pullback = 0.0  # training only: see the module docstring
        self.pullback_bound = 2.0  # tanh(2) = 0.964, inside the top level for L <= 28

    @property
    def step(self) -> float:
        return 2.0 / (self.levels - 1)

    def dither(self, shape: torch.Size, like: Tensor) -> Tensor:
        """The next dither of ``shape`` from :attr:`generator` (the global RNG when None), in
        ``like``'s dtype and device."""
        # Dither is drawn on the CPU so a stream decodes identically on any device.
        u = torch.rand(shape, generator=self.generator, dtype=torch.float32)
        return ((u - 0.5) * self.step).to(device=like.device, dtype=like.dtype)

    def indices(self, y: Tensor, u: Tensor) -> Tensor:
        """Quantisation indices of latents ``y`` under dither ``u`` (the fixed-length code)."""
        return torch.round((torch.tanh(y) + u + 1.0) / self.step).clamp(0, self.levels - 1)

    def _dequantize(self, k: Tensor, u: Tensor) -> Tensor:
        return k * self.step - 1.0 - u

    def bits(self, y_shape: Sequence[int]) -> float:
        """Information bits ``n log2 L`` (:func:`~.symbol_packing.symbol_bits`) of the ``n``
        indices of a latent of shape ``(B, C, h, w)``, summed over the batch."""
        return symbol_bits(math.prod(y_shape), self.levels)

    def forward(self, y: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        if self.training and self.pullback > 0 and y.requires_grad:
            y = _Pullback.apply(y, self.pullback, self.pullback_bound)
        u = self.dither(y.shape, y)
        y_q = self._dequantize(self.indices(y, u), u)
        squashed = torch.tanh(y)
        y_hat = squashed + (y_q - squashed).detach()  # straight-through rounding
        # Constant likelihood 1/L per latent: -log2 sums to the exact fixed bit count, so
        # rate losses and CompressAI's entropy estimation read it like any likelihood.
        likelihoods = torch.full_like(y, 1.0 / self.levels).detach()
        return y_hat, {"y": likelihoods, "z": y.new_zeros((y.shape[0], 0))}

    def encode_indices(self, y: Tensor) -> tuple[Tensor, Tensor]:
        """Quantise ``y`` with the next dither: ``(y_hat, indices)``, indices int64 on the CPU."""
        u = self.dither(y.shape, y)
        k = self.indices(y, u)
        return self._dequantize(k, u), k.long().cpu()

    def decode_indices(self, k: Tensor) -> Tensor:
        """``y_hat`` of indices ``k`` ``(B, planes, h, w)`` with the next dither (the decoder
        draws the dithers in the encoder's order)."""
        k = k.float()
        return self._dequantize(k, self.dither(k.shape, k))
