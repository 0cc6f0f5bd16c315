"""The perceptual I-frame decoder: a generator from the keyframe latent to a realistic frame.

In the PLF paper's recipe (Salehkalaibar et al., NeurIPS 2023,
https://arxiv.org/abs/2305.19301) one perceptual I-frame decoder is trained first, on the
frozen keyframe encoder, with ``MSE + lambda_I * (-E D(x_hat))`` (a DCGAN generator with a
sigmoid output, ``lambda_I`` about 1), then frozen and shared: every P-frame PLF head, at every
P-frame rate, continues the same decoded first frame. At a low keyframe rate the code carries
little more than the digit's position, so a realistic decoder must draw *some* digit, often
the wrong one: the precondition of error permanence.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .transforms import synthesis_transform

__all__ = ["PerceptualIFrameDecoder"]


class PerceptualIFrameDecoder(nn.Module):
    """``stages`` stride-2 transposed convolutions (as the SSF decoder), two 3x3 convolutions
    at full resolution, then a sigmoid: the output always lies in [0, 1].

    Args:
        latent_planes: channels of the keyframe latent.
        planes: width of the generator (no normalisation layers: a frozen decoder must not
            change with the batch it decodes).
        channels: image channels.
        stages: stride-2 stages from the latent to the frame.
    """

    def __init__(self, latent_planes: int, planes: int, channels: int, stages: int) -> None:
        super().__init__()
        if planes < 1:
            raise ValueError(f"planes must be >= 1, got {planes}")
        self.synthesis = synthesis_transform(latent_planes, planes, planes, stages)
        self.refine = nn.Sequential(
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(planes, planes, 3, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(planes, channels, 3, padding=1),
        )

    def forward(self, y_hat: Tensor) -> Tensor:
        return torch.sigmoid(self.refine(self.synthesis(y_hat)))
