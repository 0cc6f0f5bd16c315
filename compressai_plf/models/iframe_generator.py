"""The perceptual I-frame decoder: a generator from the keyframe latent to a realistic frame.

In the PLF paper's recipe (Salehkalaibar et al., NeurIPS 2023,
https://arxiv.org/abs/2305.19301) one perceptual I-frame decoder is trained first, on the
frozen keyframe encoder, with ``MSE + lambda_I * (-E D(x_hat))`` (a DCGAN generator with a
sigmoid output, ``lambda_I`` about 1), then frozen and shared: every P-frame PLF head, at every
P-frame rate, continues the same decoded first frame. At a low keyframe rate the code carries
little more than the digit's position, so a realistic decoder must draw *some* digit, often
the wrong one: the precondition of error permanence.

Like the own-past heads (:mod:`compressai_plf.models.own_past_head`), the generator can start
from scratch (``start="none"``) or at the MMSE I-frame (``start="mmse"``): its output is then
``sigmoid(logit(x_mmse) + g(y_hat))`` with ``g`` starting near zero, so training begins at the
MMSE decoder's frame (the blurred mixture of the digits the code allows) and the critic's
gradient only has to sharpen it into one digit, instead of learning to draw from a dark frame.
"""

from __future__ import annotations

import torch
from compressai.models.utils import deconv
from torch import Tensor, nn

__all__ = ["MIN_PLANES", "SYNTHESIS_STARTS", "PerceptualIFrameDecoder"]

#: Where a perceptual decoder's synthesis starts, the I-frame generator's and the own-past
#: heads': ``"none"`` (its own networks alone) or ``"mmse"`` (a logit-space residual on the
#: MMSE decoder's frame).
SYNTHESIS_STARTS = ("none", "mmse")

#: Narrowest layer of the generator (at full resolution the width is what costs).
MIN_PLANES = 16
# Initial output logit: sigmoid(-3) = 0.05, near the black background of most frames.
_INITIAL_LOGIT = -3.0
# start="mmse": the MMSE frame is clamped to [eps, 1 - eps] before its logit (as the heads do).
_PRIOR_EPS = 0.01


class PerceptualIFrameDecoder(nn.Module):
    """A DCGAN-like pyramid (Radford et al., https://arxiv.org/abs/1511.06434): ``stages``
    stride-2 5x5 transposed convolutions whose width halves at each stage from ``planes`` at
    the latent resolution (never below :data:`MIN_PLANES`), a 3x3 convolution at full
    resolution, then a sigmoid: the output always lies in [0, 1].

    Args:
        latent_planes: channels of the keyframe latent.
        planes: width at the latent resolution. No normalisation layers: a frozen decoder
            must not change with the batch it decodes.
        channels: image channels.
        stages: stride-2 stages from the latent to the frame.
        start: ``"none"`` (draw from scratch, starting dark) or ``"mmse"`` (a residual in
            logit space on the MMSE I-frame, which :meth:`forward` then needs).
    """

    def __init__(
        self, latent_planes: int, planes: int, channels: int, stages: int, start: str = "none"
    ) -> None:
        super().__init__()
        if planes < 1 or stages < 1:
            raise ValueError(f"planes and stages must be >= 1, got {planes}, {stages}")
        if start not in SYNTHESIS_STARTS:
            raise ValueError(f"start must be one of {SYNTHESIS_STARTS}, got {start!r}")
        self.start = start
        widths = [max(planes >> i, MIN_PLANES) for i in range(stages)]
        layers: list[nn.Module] = []
        cin = latent_planes
        for w in widths:
            layers += [deconv(cin, w, kernel_size=5, stride=2), nn.LeakyReLU(0.2, inplace=True)]
            cin = w
        layers.append(nn.Conv2d(cin, channels, 3, padding=1))
        with torch.no_grad():
            if start == "mmse":  # start (almost) at the MMSE frame
                layers[-1].weight.mul_(0.1)
                layers[-1].bias.zero_()
            else:  # start dark, as most of a frame is background
                layers[-1].bias.fill_(_INITIAL_LOGIT)
        self.synthesis = nn.Sequential(*layers)

    def forward(self, y_hat: Tensor, x_mmse: Tensor | None = None) -> Tensor:
        """The perceptual I-frame of keyframe latent ``y_hat``; ``x_mmse`` (the MMSE decoder's
        frame of the same latent) is required with ``start="mmse"`` and ignored otherwise."""
        logits = self.synthesis(y_hat)
        if self.start == "mmse":
            if x_mmse is None or x_mmse.shape != logits.shape:
                got = None if x_mmse is None else tuple(x_mmse.shape)
                raise ValueError(
                    f"start='mmse' needs the MMSE I-frame of shape {tuple(logits.shape)}, got {got}"
                )
            logits = logits + torch.logit(x_mmse.clamp(_PRIOR_EPS, 1.0 - _PRIOR_EPS))
        return torch.sigmoid(logits)
