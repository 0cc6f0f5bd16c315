"""A decoder head: the decoder-side networks that turn one bitstream into displayed frames.

Every head decodes the same latents. The ``"mse"`` head is the MMSE decoder: its output is the
motion reference the encoder uses, so it is what defines the bitstream. Perceptual heads
(``"jd"``, ``"fmd"``, ``"sa"``, after the PLF paper, https://arxiv.org/abs/2305.19301) have their
own keyframe decoder, context network and residual decoder.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torch import Tensor

from .transforms import analysis_transform, synthesis_transform


class DecoderHead(nn.Module):
    """Keyframe decoder, decoder-side context network and conditional residual decoder.

    The context network summarises ``cat(x_pred, x_prev_displayed)`` at the latent
    resolution; the residual decoder maps ``cat(y_res_hat, y_motion_hat, context)`` to the
    residual added to the prediction (conditional residual coding, Brand, Seiler, Kaup,
    https://arxiv.org/abs/2307.12864).

    This is the MMSE head's structure, and the perceptual heads' in models saved before
    ``head_arch="own_past"`` (:class:`~compressai_plf.models.own_past_head.OwnPastHead`)
    existed: there the displayed past reaches the output only through the context.

    Args:
        channels: image channels.
        mid_planes: width of the keyframe and residual decoders.
        keyframe_planes, motion_planes, residual_planes: latent channels.
        context_planes: output channels (and width) of the context network.
        stages: stride-2 stages between frames and latents.
    """

    uses_own_past = False

    def __init__(
        self,
        channels: int,
        mid_planes: int,
        keyframe_planes: int,
        motion_planes: int,
        residual_planes: int,
        context_planes: int,
        stages: int,
    ) -> None:
        super().__init__()
        self.img_decoder = synthesis_transform(keyframe_planes, mid_planes, channels, stages)
        self.context_net = analysis_transform(2 * channels, context_planes, context_planes, stages)
        self.res_decoder = synthesis_transform(
            residual_planes + motion_planes + context_planes, mid_planes, channels, stages
        )

    def decode_keyframe(self, y_hat: Tensor) -> Tensor:
        return self.img_decoder(y_hat)

    def decode_inter(
        self,
        y_res_hat: Tensor,
        y_motion_hat: Tensor,
        x_pred: Tensor,
        x_prev: Tensor,
        x_own: Tensor | None = None,
    ) -> Tensor:
        """Displayed frame ``x_pred + g_s(y_res_hat, y_motion_hat, context)``, where the
        context is computed from the prediction and the previously displayed frame (``x_own``,
        the warped past, is not used by this head)."""
        del x_own
        context = self.context_net(torch.cat((x_pred, x_prev), dim=1))
        return x_pred + self.res_decoder(torch.cat((y_res_hat, y_motion_hat, context), dim=1))
