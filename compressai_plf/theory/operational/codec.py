"""A small learned causal codec for vector Gauss-Markov frames, at a fixed rate per frame.

Frame ``j`` is coded by an MLP encoder that sees the frame and everything the decoder already
has (earlier latents, the previous reconstruction); its output is quantised by the PLF paper's
fixed-rate dithered quantiser with shared randomness
(:class:`~compressai_plf.models.fixed_rate_coder.FixedRateLatentCoder`,
https://arxiv.org/abs/2305.19301), and an MLP decoder maps all latents so far (and the
previous reconstruction) to the MMSE estimate of the frame. ``R`` bits per component and
frame make ``R * dim`` bits, spread over at most ``dim`` latents of ``L = 2^k`` levels each
(:func:`latent_layout`); ``R = 0`` sends nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ...models.fixed_rate_coder import FixedRateLatentCoder
from .mlp import mlp

__all__ = ["CausalMLPCodec", "frame_bits", "latent_layout"]


def frame_bits(rate: float, dim: int) -> int:
    """Bits of one frame at ``rate`` bits per component.

    Raises:
        ValueError: if ``rate`` is negative, not finite, or ``rate * dim`` is not an integer.
    """
    bits = float(rate) * dim
    if not bits >= 0 or bits == float("inf") or abs(bits - round(bits)) > 1e-9:
        raise ValueError(
            f"rate {rate} bits per component times dim {dim} must be a whole number of bits >= 0"
        )
    return int(round(bits))


def latent_layout(bits: int, dim: int) -> tuple[int, int]:
    """``(latents, levels)`` carrying ``bits``: the most latents (at most ``dim``, dividing
    ``bits``) with ``2^(bits/latents)`` levels each; ``(0, 2)`` for zero bits.

    More latents with fewer levels each let the encoder spread a frame's bits over its
    components, as reverse water-filling does for i.i.d. components.
    """
    if bits == 0:
        return 0, 2
    n = max(k for k in range(1, min(dim, bits) + 1) if bits % k == 0)
    return n, 2 ** (bits // n)


class CausalMLPCodec(nn.Module):
    """Per-frame MLP encoders and MMSE decoders around fixed-rate dithered quantisers.

    Args:
        dim: components per frame.
        rates: bits per component, one per frame.
        hidden: width of the MLPs.

    ``forward(x)`` with ``x`` of shape ``(B, T, dim)`` returns ``{"latents": [(B, n_j)],
    "x_hat": [(B, dim)]}``. In training mode the dithers come from the global RNG; after
    :meth:`seed_dither` they come from seeded generators shared by encoder and decoder.
    """

    def __init__(self, dim: int, rates: Sequence[float], hidden: int = 128) -> None:
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ValueError(f"dim must be a positive int, got {dim!r}")
        if len(rates) < 1:
            raise ValueError("rates needs one value per frame")
        self.dim = dim
        self.rates = [float(r) for r in rates]
        self.bits = [frame_bits(r, dim) for r in self.rates]
        layouts = [latent_layout(b, dim) for b in self.bits]
        self.latents = [n for n, _ in layouts]
        self.levels = [lv for _, lv in layouts]
        self.encoders, self.coders, self.decoders = (
            nn.ModuleDict(),
            nn.ModuleDict(),
            nn.ModuleDict(),
        )
        for j, (n, levels) in enumerate(layouts):
            previous = dim if j else 0  # the previous reconstruction
            if n:
                self.encoders[str(j)] = mlp(dim + sum(self.latents[:j]) + previous, n, hidden)
                self.coders[str(j)] = FixedRateLatentCoder(planes=n, levels=levels)
            self.decoders[str(j)] = mlp(sum(self.latents[: j + 1]) + previous, dim, hidden)

    @property
    def frames(self) -> int:
        return len(self.rates)

    def seed_dither(self, seed: int | None) -> None:
        """Draw dithers from generators seeded with ``seed + j`` (``None``: the global RNG)."""
        for j, coder in self.coders.items():
            coder.generator = None if seed is None else torch.Generator().manual_seed(seed + int(j))

    def forward(self, x: Tensor) -> dict[str, list[Tensor]]:
        if x.dim() != 3 or x.shape[1:] != (self.frames, self.dim):
            raise ValueError(
                f"expected sequences of shape (B, {self.frames}, {self.dim}), got {tuple(x.shape)}"
            )
        b = x.shape[0]
        latents: list[Tensor] = []
        x_hat: list[Tensor] = []
        for j in range(self.frames):
            # Detached: each frame minimises its own error given the past, as in the theory.
            previous = [x_hat[-1].detach()] if j else []
            key = str(j)
            if key in self.coders:
                y = self.encoders[key](torch.cat([x[:, j], *latents, *previous], 1))
                y_hat, _ = self.coders[key](y.view(b, -1, 1, 1))
                latents.append(y_hat.view(b, -1))
            else:
                latents.append(x.new_zeros(b, 0))
            x_hat.append(self.decoders[key](torch.cat([*latents, *previous], 1)))
        return {"latents": latents, "x_hat": x_hat}
