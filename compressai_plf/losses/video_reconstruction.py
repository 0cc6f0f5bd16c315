"""Video reconstruction objective: MSE + rate + LPIPS + adaptively weighted 3D hinge GAN.

The VQGAN recipe (Esser et al., https://arxiv.org/abs/2012.09841: LPIPS, hinge GAN, adaptive
weight on the decoder's last layer, a start step for the discriminator) as used for video by
MAGVIT (https://arxiv.org/abs/2212.05199) and MAGVIT-v2 (https://arxiv.org/abs/2310.05737:
3D discriminator with anti-aliased downsampling, gradient penalty on real data, i.e. R1 of
Mescheder et al., https://arxiv.org/abs/1801.04406, here in the ``(||grad|| - 1)^2`` form).
LPIPS: Zhang et al., https://arxiv.org/abs/1801.03924.

Unlike the public reference code of this loss, the adaptive weight is applied, the adversarial
term switches *on* at ``disc_start``, and the discriminator loss is gated the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from compressai.registry import register_criterion
from torch import Tensor, nn

from .adaptive_weight import adaptive_weight
from .frozen_parameters import frozen_parameters
from .gradient_penalty import gradient_penalty
from .hinge import hinge_discriminator_loss, hinge_generator_loss
from .rate import bits_per_pixel
from .video_inputs import check_video, likelihoods_of, reconstructions

__all__ = ["VideoReconstructionLoss"]

REFERENCES = ("perceptual", "reconstruction")


@register_criterion("VideoReconstructionLoss")
class VideoReconstructionLoss(nn.Module):
    r"""Generator loss
    ``MSE + lambda_q * bpp + lambda_p * LPIPS(x_t, x̂_t) + lambda_adv * w * (-E D(x̂))`` and
    discriminator loss ``hinge(D(x), D(x̂)) + lambda_gp * GP(D, x)``.

    ``t`` is one random frame per clip, the same for source and reconstruction; ``D`` sees the
    whole clip ``(B, C, T, H, W)`` (e.g. :class:`~compressai_plf.modules.Discriminator3D`).
    ``w`` is the adaptive weight ``||dL_ref/dW|| / max(||dL_adv/dW||, eps)`` on the decoder's
    last-layer weight ``W``, clamped to ``[0, max_weight]``; with ``adaptive_reference=
    "perceptual"`` ``L_ref = lambda_p * LPIPS``, with ``"reconstruction"`` (VQGAN)
    ``L_ref = MSE + lambda_p * LPIPS``. Both adversarial terms are active only when
    ``step >= disc_start`` (and ``lambda_adv > 0``); the discriminator is frozen during the
    generator loss, and reconstructions are detached in the discriminator loss.

    Args:
        lambda_q: rate weight (bits per pixel).
        lambda_p: LPIPS weight (0 disables LPIPS).
        lambda_adv: adversarial weight (0 disables the GAN).
        lambda_gp: gradient-penalty weight on real clips.
        disc_start: first step at which the adversarial terms count.
        adaptive_reference: ``"perceptual"`` or ``"reconstruction"``, see above.
        eps: floor of the adversarial gradient norm in ``w``.
        max_weight: upper clamp of ``w``.
        nonfinite_weight: ``w`` used when the ratio is not finite (0: skip the GAN that step).
        lpips_net: LPIPS trunk (``"alex"``, ``"vgg"``, ``"squeeze"``).
        lpips_weights: path to the trunk's torchvision weights (else torch's hub cache).
        perceptual: an LPIPS-like module ``(x_hat, x) -> (B,)`` in [0, 1] to use instead of
            building :class:`~compressai_plf.modules.FrozenLPIPS` (tests inject one).

    Calls: ``forward(output, frames, discriminator=None, last_layer_weight=None, step=0,
    frame_index=None)`` returns ``loss``, ``mse_loss``, ``bpp_loss``, ``lpips_loss``,
    ``adv_loss`` (``-E D(x̂)``), ``adaptive_weight``, ``disc_active``;
    ``discriminator_loss(output, frames, discriminator, step=0)`` returns ``loss``,
    ``hinge_loss``, ``gp_loss``, ``real_logits``, ``fake_logits`` (means), ``disc_active``.
    Before ``disc_start`` the discriminator loss is a zero leaf tensor (``backward()`` is a
    no-op) and the discriminator is not run. Without autograd (validation) ``w`` cannot be
    computed and is reported as ``nonfinite_weight``.
    """

    def __init__(
        self,
        lambda_q: float = 1e-2,
        lambda_p: float = 1.0,
        lambda_adv: float = 0.1,
        lambda_gp: float = 10.0,
        disc_start: int = 0,
        adaptive_reference: str = "perceptual",
        eps: float = 1e-4,
        max_weight: float = 1e4,
        nonfinite_weight: float = 0.0,
        lpips_net: str = "alex",
        lpips_weights: str | None = None,
        perceptual: nn.Module | None = None,
    ) -> None:
        super().__init__()
        for name, value in [
            ("lambda_q", lambda_q),
            ("lambda_p", lambda_p),
            ("lambda_adv", lambda_adv),
            ("lambda_gp", lambda_gp),
            ("disc_start", disc_start),
        ]:
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if adaptive_reference not in REFERENCES:
            raise ValueError(
                f"adaptive_reference must be one of {REFERENCES}, got {adaptive_reference!r}"
            )
        if adaptive_reference == "perceptual" and lambda_adv > 0 and lambda_p == 0:
            raise ValueError(
                "adaptive_reference='perceptual' needs lambda_p > 0 (the weight would be 0); "
                "use adaptive_reference='reconstruction'"
            )
        self.lambda_q, self.lambda_p = float(lambda_q), float(lambda_p)
        self.lambda_adv, self.lambda_gp = float(lambda_adv), float(lambda_gp)
        self.disc_start = int(disc_start)
        self.adaptive_reference = adaptive_reference
        self.eps, self.max_weight, self.nonfinite_weight = eps, max_weight, nonfinite_weight
        if perceptual is None and lambda_p > 0:
            from ..modules.frozen_lpips import FrozenLPIPS  # local: modules import losses

            perceptual = FrozenLPIPS(net=lpips_net, weights=lpips_weights)
        self.perceptual = perceptual

    def adversarial_active(self, step: int) -> bool:
        """Whether the GAN terms count at ``step``."""
        return self.lambda_adv > 0 and step >= self.disc_start

    def forward(
        self,
        output: Mapping[str, Any],
        frames: Sequence[Tensor],
        discriminator: nn.Module | None = None,
        last_layer_weight: Tensor | None = None,
        step: int = 0,
        frame_index: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """Generator (codec) loss.

        Args:
            output: the codec's video output dict.
            frames: source frames, list of ``(B, C, H, W)`` in [0, 1].
            discriminator: clip discriminator (needed once active).
            last_layer_weight: weight of the decoder's last layer (needed once active).
            step: training step, compared with ``disc_start``.
            frame_index: optional ``(B,)`` long tensor of LPIPS frame indices (else random).
        """
        if not isinstance(output, Mapping):
            raise TypeError(f"output must be a video output dict, got {type(output).__name__}")
        recon = reconstructions(output)
        t, b, _, h, w = check_video(frames, recon)
        x, x_hat = torch.stack(list(frames), 2), torch.stack(recon, 2)  # (B, C, T, H, W)
        device = x_hat.device
        out: dict[str, Tensor] = {"mse_loss": F.mse_loss(x_hat, x)}
        out["bpp_loss"] = bits_per_pixel(likelihoods_of(output), t * b * h * w)
        loss = out["mse_loss"] + self.lambda_q * out["bpp_loss"]

        perceptual = torch.zeros((), device=device)
        if self.lambda_p > 0:
            if frame_index is None:
                frame_index = torch.randint(0, t, (b,), device=device)
            frame_index = torch.as_tensor(frame_index, device=device).long()
            if frame_index.shape != (b,) or frame_index.min() < 0 or frame_index.max() >= t:
                raise ValueError(f"frame_index must be (B,) = ({b},) indices in [0, {t})")
            rows = torch.arange(b, device=device)
            x_t, x_hat_t = x[rows, :, frame_index], x_hat[rows, :, frame_index]
            out["lpips_loss"] = self.perceptual(x_hat_t, x_t).mean()
            perceptual = self.lambda_p * out["lpips_loss"]
            loss = loss + perceptual
        else:
            out["lpips_loss"] = torch.zeros((), device=device)

        active = self.adversarial_active(step)
        out["disc_active"] = torch.tensor(float(active), device=device)
        out["adv_loss"] = torch.zeros((), device=device)
        out["adaptive_weight"] = torch.zeros((), device=device)
        if active:
            if discriminator is None:
                raise ValueError(f"step {step} >= disc_start {self.disc_start}: pass discriminator")
            with frozen_parameters(discriminator):
                out["adv_loss"] = hinge_generator_loss(discriminator(x_hat))
            if torch.is_grad_enabled() and out["adv_loss"].requires_grad:
                if last_layer_weight is None:
                    raise ValueError(
                        "the adaptive weight needs last_layer_weight (decoder's last layer)"
                    )
                ref = perceptual
                if self.adaptive_reference == "reconstruction":
                    ref = ref + out["mse_loss"]
                weight = adaptive_weight(
                    ref,
                    out["adv_loss"],
                    last_layer_weight,
                    self.eps,
                    self.max_weight,
                    self.nonfinite_weight,
                )
            else:
                weight = torch.tensor(self.nonfinite_weight, device=device)
            out["adaptive_weight"] = weight
            loss = loss + self.lambda_adv * weight * out["adv_loss"]
        out["loss"] = loss
        return out

    def discriminator_loss(
        self,
        output: Mapping[str, Any] | Sequence[Tensor],
        frames: Sequence[Tensor],
        discriminator: nn.Module,
        step: int = 0,
    ) -> dict[str, Tensor]:
        """Discriminator loss (reconstructions detached here).

        Args:
            output: the codec's output dict or its list of reconstructed frames.
            frames: source frames.
            discriminator: clip discriminator taking ``(B, C, T, H, W)``.
            step: training step, compared with ``disc_start``.
        """
        recon = [r.detach() for r in reconstructions(output)]
        check_video(frames, recon)
        device = recon[0].device
        if not self.adversarial_active(step):
            zero = torch.zeros((), device=device, requires_grad=True)
            return {"loss": zero, "disc_active": torch.zeros((), device=device)}
        real = torch.stack(list(frames), 2).detach()
        fake = torch.stack(recon, 2)
        if self.lambda_gp > 0:
            gp, real_logits = gradient_penalty(discriminator, real, return_scores=True)
        else:
            gp, real_logits = torch.zeros((), device=device), discriminator(real)
        fake_logits = discriminator(fake)
        hinge = hinge_discriminator_loss(real_logits, fake_logits)
        return {
            "loss": hinge + self.lambda_gp * gp,
            "hinge_loss": hinge,
            "gp_loss": gp.detach(),
            "real_logits": real_logits.detach().mean(),
            "fake_logits": fake_logits.detach().mean(),
            "disc_active": torch.ones((), device=device),
        }
