"""Wasserstein critics for vector-valued frames: one MLP per frame a PLF constrains.

The PLF paper (Salehkalaibar et al., NeurIPS 2023, https://arxiv.org/abs/2305.19301) trains one
WGAN-GP critic (https://arxiv.org/abs/1704.00028) per constrained frame on the frames its PLF
compares, stacked along channels. For frames that are vectors rather than images (the
Gauss-Markov experiments of :mod:`compressai_plf.theory.operational`, a ``d``-vector frame
stored as ``(B, 1, 1, d)``) a convolutional critic has nothing to convolve: this is the same
per-frame design with a multilayer perceptron on the flattened stack.
"""

from __future__ import annotations

from compressai.registry import register_module
from torch import Tensor, nn

from ..plfs import get_plf

__all__ = ["MLPCritic"]


@register_module("MLPCritic")
class MLPCritic(nn.Module):
    """Critics of one PLF over vector frames, one MLP per constrained frame (0-based).

    Called as ``critic(stack, j)`` with ``stack`` of shape ``(B, k, 1, dim)`` or any
    ``(B, ...)`` holding ``k * dim`` numbers, ``k = get_plf(plf).stacked_frames(j)``;
    ``frame_indexed = True`` tells :class:`~compressai_plf.losses.PLFLoss` to pass ``j``.

    Args:
        plf: a registered PLF name (:func:`compressai_plf.plfs.plf_names`).
        num_frames: frames per sequence (>= 2).
        dim: numbers per frame.
        hidden: width of the two hidden layers.
        start_frame: first frame with a critic (frames before it are fixed conditions).

    Raises:
        ValueError: on an unknown PLF, ``num_frames < 2``, ``dim < 1`` or ``hidden < 1``.
    """

    frame_indexed = True

    def __init__(
        self,
        plf: str = "jd",
        num_frames: int = 2,
        dim: int = 16,
        hidden: int = 128,
        start_frame: int = 0,
    ) -> None:
        super().__init__()
        if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 2:
            raise ValueError(f"num_frames must be an int >= 2, got {num_frames!r}")
        if dim < 1 or hidden < 1:
            raise ValueError(f"dim and hidden must be >= 1, got {dim} and {hidden}")
        definition = get_plf(plf)
        self.plf, self.dim = definition.name, int(dim)
        self.frames = tuple(definition.constrained_frames(num_frames, start_frame))
        if not self.frames:
            raise ValueError(f"start_frame {start_frame} leaves no frame of {num_frames}")
        # LeakyReLU, no normalisation layers: WGAN-GP's penalty is per sample, which batch
        # statistics would break.
        self.critics = nn.ModuleDict(
            {
                str(j): nn.Sequential(
                    nn.Linear(definition.stacked_frames(j) * dim, hidden),
                    nn.LeakyReLU(0.2),
                    nn.Linear(hidden, hidden),
                    nn.LeakyReLU(0.2),
                    nn.Linear(hidden, 1),
                )
                for j in self.frames
            }
        )

    def forward(self, x: Tensor, j: int) -> Tensor:
        if isinstance(j, bool) or not isinstance(j, int) or j not in self.frames:
            raise ValueError(
                f"{self.plf} critic: frame index j must be one of {list(self.frames)}, got {j!r}"
            )
        net = self.critics[str(j)]
        expected = net[0].in_features
        if x.dim() < 2 or x[0].numel() != expected:
            raise ValueError(
                f"{self.plf} critic at frame {j} expects {expected} numbers per sample, got "
                f"shape {tuple(x.shape)}"
            )
        return net(x.flatten(1)).squeeze(1)
