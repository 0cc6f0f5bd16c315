"""A perceptual P-frame decoder head that can continue its own past.

The PLF paper's P-frame decoders (Salehkalaibar et al., NeurIPS 2023,
https://arxiv.org/abs/2305.19301) re-synthesise each frame from a summary of the decoder's
*own* displayed past and the motion-compensated prediction. A head built as ``x_pred +
correction``, where ``x_pred`` warps the MMSE reference, is pulled to the transmitted content
and cannot keep a wrong but realistic first frame (error permanence), whatever its loss.

This head therefore has a pixel path from its own past: the decoded motion warps the head's
own previous displayed frame (``x_own``) as it warps the MMSE reference (``x_pred``). The
displayed frame is a per-pixel convex combination of ``x_own`` and a synthesised image (gate
``w = sigmoid(g)``): it lies in [0, 1], and the head can copy its past or draw anew, pixel by
pixel. ``x_pred`` informs the synthesis (it enters the context and the fusion) but has no
pixel path of its own: a first design that also mixed ``x_pred`` in collapsed onto it in
universal training (the softmax put 99.4 % of its weight there, after which the critic's
gradient could no longer reach the synthesis), whatever the perception weight.

Where the synthesis starts decides which way the gate saturates: trained from scratch
(``synthesis_start="none"``) the untrained synthesis is worse under MSE than the warped own
past, and in universal training both PLF-JD and PLF-FMD heads saturated on their own past in
the first ~150 steps, whatever the perception weight (docs/results.md, campaign pilots). With
``synthesis_start="mmse"`` the synthesis is a residual in logit space on the MMSE prediction,
``sigmoid(logit(x_pred) + s)``, so an untrained head starts near the MMSE frame: if the gate
then saturates, it saturates on the *learnable* branch, whose networks see ``x_own`` and keep
receiving the critic's gradient.

``synthesis_start="mmse_frame"`` starts the synthesis on the MMSE head's *decoded* frame
(prediction plus the transmitted residual) instead of the prediction, and the head sees that
frame wherever it would see ``x_pred``: at a high P-frame rate the residual carries most of
the frame (256 bits: MMSE frame-1 MSE 0.0055, well below the prediction's), so an untrained
head starts on the transmitted content and a PLF-FMD head only has to sharpen it, where with
``"mmse"`` its own untrained networks had to learn to decode the residual first.

``synthesis_start="own"`` starts the synthesis on the head's own warped past,
``sigmoid(logit(x_own) + s)``: an untrained head continues its own past as the warp does, and
since the synthesis branch is itself that continuation, the gate has no reason to saturate
and the synthesis keeps the critic's gradient to sharpen the warped frame. With
``"mmse"`` a PLF-JD head learned to continue its own first digit at 256 bits per P-frame, but
through a gate saturated on the bare warp, whose blur no gradient could then remove.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from .iframe_generator import SYNTHESIS_STARTS, PerceptualIFrameDecoder
from .transforms import analysis_transform, synthesis_transform

__all__ = ["HEAD_SYNTHESIS_STARTS", "OwnPastHead", "head_synthesis_starts"]

#: Where an own-past head's synthesis starts: the I-frame generator's starts (``"none"``;
#: ``"mmse"``, here the MMSE *prediction*), ``"mmse_frame"`` (the MMSE head's decoded frame) and
#: ``"own"`` (the head's own warped past).
HEAD_SYNTHESIS_STARTS = (*SYNTHESIS_STARTS, "mmse_frame", "own")


def head_synthesis_starts(
    synthesis_start: str | Mapping[str, str], heads: Sequence[str]
) -> dict[str, str]:
    """Each perceptual head's synthesis start from a model's ``synthesis_start``: one start
    for every head, or a mapping that names one for each head in ``heads`` (universal heads
    are trained independently on the same bitstream, so each may start where its PLF needs:
    e.g. PLF-JD on the MMSE prediction, from where it learns to continue its own past, and
    PLF-FMD on the MMSE frame, which it sharpens).

    Raises:
        ValueError: an unknown start, or a mapping that misses a head or names another.
    """
    if isinstance(synthesis_start, str):
        starts = {h: synthesis_start for h in heads}
    elif isinstance(synthesis_start, Mapping):
        starts = dict(synthesis_start)
        if "mse" in starts:
            raise ValueError("synthesis_start: the MMSE head ('mse') has no synthesis start")
        missing = [h for h in heads if h not in starts]
        extra = sorted(repr(h) for h in starts if h not in heads)
        problems = ([f"missing {missing}"] if missing else []) + (
            [f"not heads [{', '.join(extra)}]"] if extra else []
        )
        if problems:
            raise ValueError(
                f"synthesis_start per head must name exactly the perceptual heads {list(heads)}: "
                + "; ".join(problems)
            )
    else:
        raise ValueError(
            f"synthesis_start must be a string or a mapping head -> start, got {synthesis_start!r}"
        )
    for head, start in starts.items():
        if start not in HEAD_SYNTHESIS_STARTS:
            raise ValueError(
                f"synthesis_start must be one of {HEAD_SYNTHESIS_STARTS}, got {start!r}"
                + ("" if isinstance(synthesis_start, str) else f" for head {head!r}")
            )
    return starts


# Feature maps at full resolution: the last transposed convolution and the fusion run at the
# frame's size, where every channel costs (4 keeps a head near the MMSE head's cost).
FUSION_PLANES = 4
FUSION_HIDDEN = 8
# ``synthesis_start="mmse"``: the MMSE prediction is clamped to [eps, 1 - eps] before its logit,
# so that its saturated pixels (|logit| <= 4.6) still pass a usable sigmoid gradient, and the
# gate starts at sigmoid(-2) = 0.12 on the own past (mostly the synthesis, i.e. x_pred).
_PRIOR_EPS = 0.01
_MMSE_START_GATE_BIAS = -2.0


class OwnPastHead(nn.Module):
    """Decoder head with a pixel path from its own warped past; outputs in [0, 1].

    Args:
        channels: image channels.
        mid_planes: width of the synthesis transforms.
        keyframe_planes, motion_planes, residual_planes: latent channels.
        context_planes: width of the context network and of the full-resolution fusion.
        stages: stride-2 stages between frames and latents.
        iframe_planes: width of this head's own I-frame generator; ``None`` when the model
            shares one perceptual I-frame decoder between its heads.
        synthesis_start: ``"none"`` (the synthesis is the fusion's output alone),
            ``"mmse"`` (a residual in logit space on the MMSE prediction), ``"mmse_frame"``
            (the same on the MMSE head's decoded frame) or ``"own"`` (on the head's own warped
            past); see the module docstring.
    """

    uses_own_past = True

    def __init__(
        self,
        channels: int,
        mid_planes: int,
        keyframe_planes: int,
        motion_planes: int,
        residual_planes: int,
        context_planes: int,
        stages: int,
        iframe_planes: int | None = None,
        synthesis_start: str = "none",
    ) -> None:
        super().__init__()
        if synthesis_start not in HEAD_SYNTHESIS_STARTS:
            raise ValueError(
                f"synthesis_start must be one of {HEAD_SYNTHESIS_STARTS}, got {synthesis_start!r}"
            )
        self.channels = channels
        self.synthesis_start = synthesis_start
        if iframe_planes is not None:
            self.img_decoder = PerceptualIFrameDecoder(
                keyframe_planes, iframe_planes, channels, stages
            )
        # Summary of (prediction, own warped past) at the latent resolution.
        self.context_net = analysis_transform(2 * channels, context_planes, context_planes, stages)
        # Latents + context -> full-resolution features.
        self.res_decoder = synthesis_transform(
            residual_planes + motion_planes + context_planes, mid_planes, FUSION_PLANES, stages
        )
        # Features + both warped frames -> synthesis logits (channels) and one gate logit
        # (default start: bias 0, own past and synthesis weighed equally).
        self.fusion = nn.Sequential(
            nn.Conv2d(FUSION_PLANES + 2 * channels, FUSION_HIDDEN, 3, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(FUSION_HIDDEN, channels + 1, 3, padding=1),
        )
        if synthesis_start != "none":
            with torch.no_grad():  # start at the base frame, gate mostly on the synthesis
                self.fusion[-1].weight.mul_(0.1)
                self.fusion[-1].bias.zero_()
                self.fusion[-1].bias[channels:] = _MMSE_START_GATE_BIAS

    def decode_keyframe(self, y_hat: Tensor) -> Tensor:
        if not hasattr(self, "img_decoder"):
            raise RuntimeError(
                "this head has no I-frame decoder of its own: the model's shared perceptual "
                "I-frame decoder draws frame 0"
            )
        return self.img_decoder(y_hat)

    def decode_inter(
        self,
        y_res_hat: Tensor,
        y_motion_hat: Tensor,
        x_pred: Tensor,
        x_prev: Tensor,
        x_own: Tensor,
        x_mmse: Tensor | None = None,
    ) -> Tensor:
        """Displayed frame from the latents, the MMSE prediction ``x_pred`` and the head's own
        previous frame warped by the decoded motion, ``x_own`` (``x_prev`` unwarped is not
        used: the warp already aligns it). ``x_mmse``, the MMSE head's decoded frame, is
        needed with ``synthesis_start="mmse_frame"`` and takes ``x_pred``'s place."""
        del x_prev
        if self.synthesis_start == "mmse_frame":
            if x_mmse is None:
                raise ValueError(
                    "synthesis_start='mmse_frame' needs the MMSE head's decoded frame (x_mmse)"
                )
            x_pred = x_mmse
        x_pred = x_pred.clamp(0.0, 1.0)  # the MMSE head's frames may overshoot [0, 1]
        x_own = x_own.clamp(0.0, 1.0)
        context = self.context_net(torch.cat((x_pred, x_own), dim=1))
        features = self.res_decoder(torch.cat((y_res_hat, y_motion_hat, context), dim=1))
        out = self.fusion(torch.cat((features, x_pred, x_own), dim=1))
        logits, gate = out[:, : self.channels], out[:, self.channels :]
        if self.synthesis_start != "none":
            base = x_own if self.synthesis_start == "own" else x_pred
            logits = logits + torch.logit(base.clamp(_PRIOR_EPS, 1.0 - _PRIOR_EPS))
        w = torch.sigmoid(gate)
        return w * x_own + (1.0 - w) * torch.sigmoid(logits)
