"""A universal perceptual decoder on a frozen MMSE representation, with shared randomness.

In the PLF paper's universality result (https://arxiv.org/abs/2305.19301) one MMSE encoder
serves every perception loss: only the decoder changes. Frame ``j``'s output here is
``x_hat_j + linear(inputs) + MLP(inputs)`` of the latents and MMSE estimates of frames
``1..j``, shared Gaussian noise ``xi_1..xi_j`` (the randomness a perceptual decoder needs, e.g.
to draw a plausible frame from a zero-rate code) and its own earlier outputs. The theory's
optimal decoders are linear maps of the MMSE estimates plus noise
(:class:`~compressai_plf.theory.LinearDecoder`); the linear path lets that be learned quickly,
the MLP lets the decoder go beyond it. Both start at zero, so training starts from the MMSE
decoder.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .mlp import mlp

__all__ = ["PLFDecoder"]


class PLFDecoder(nn.Module):
    """Per-frame perceptual heads.

    Args:
        dim: components per frame.
        latents: latent count of each frame (``CausalMLPCodec.latents``).
        hidden: MLP width.
    """

    def __init__(self, dim: int, latents: Sequence[int], hidden: int = 128) -> None:
        super().__init__()
        self.dim = dim
        self.latents = list(latents)
        self.linear, self.residual = nn.ModuleList(), nn.ModuleList()
        for j in range(len(self.latents)):
            # latents and MMSE estimates and noise of frames 0..j, earlier outputs 0..j-1
            inputs = sum(self.latents[: j + 1]) + 2 * dim * (j + 1) + dim * j
            linear = nn.Linear(inputs, dim)
            nn.init.zeros_(linear.weight)
            nn.init.zeros_(linear.bias)
            self.linear.append(linear)
            self.residual.append(mlp(inputs, dim, hidden, zero_last=True))

    def forward(
        self, latents: Sequence[Tensor], x_hat: Sequence[Tensor], noise: Sequence[Tensor]
    ) -> list[Tensor]:
        """Outputs ``[(B, dim)]`` per frame from per-frame latents, MMSE estimates and noise."""
        if not len(latents) == len(x_hat) == len(noise) == len(self.latents):
            raise ValueError(
                f"need {len(self.latents)} frames of latents, estimates and noise, got "
                f"{len(latents)}, {len(x_hat)} and {len(noise)}"
            )
        outputs: list[Tensor] = []
        for j in range(len(self.latents)):
            # Earlier outputs detached: they are fixed conditions for frame j's head.
            inputs = torch.cat(
                [
                    *latents[: j + 1],
                    *x_hat[: j + 1],
                    *noise[: j + 1],
                    *(y.detach() for y in outputs),
                ],
                1,
            )
            outputs.append(x_hat[j] + self.linear[j](inputs) + self.residual[j](inputs))
        return outputs
