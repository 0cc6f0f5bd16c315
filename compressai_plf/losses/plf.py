"""Rate-distortion-perception objective with PLF-JD, PLF-FMD and PLF-SA Wasserstein critics.

Salehkalaibar, Phung, Chen, Khisti, Yu et al., "On the choice of perception loss function for
learned video compression", NeurIPS 2023, https://arxiv.org/abs/2305.19301, and the
self-adaptive PLF, https://arxiv.org/abs/2502.10628. Critics are trained with WGAN-GP
(Gulrajani et al., https://arxiv.org/abs/1704.00028).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from compressai.registry import register_criterion
from torch import Tensor, nn

from ..plfs import get_plf
from .frozen_parameters import frozen_parameters
from .gradient_penalty import interpolated_gradient_penalty
from .rate import bits_per_pixel
from .video_inputs import check_video, likelihoods_of, reconstructions

__all__ = ["PLFLoss", "critic_score"]


def critic_score(critic: nn.Module, stack: Tensor, j: int) -> Tensor:
    """``critic(stack, j)`` for frame-indexed critics (``critic.frame_indexed`` true, e.g.
    :class:`~compressai_plf.modules.PLFCritic`), else ``critic(stack)``; flattened to ``(B,)``."""
    if getattr(critic, "frame_indexed", False):
        return critic(stack, j).reshape(stack.shape[0])
    return critic(stack).reshape(stack.shape[0])


def _parse_plf(plf: Any) -> dict[str, float]:
    if isinstance(plf, str):
        plf = {plf: 1.0}
    if not isinstance(plf, Mapping):
        raise TypeError(
            f"plf must be a dict name -> weight (or one name), got {type(plf).__name__}"
        )
    weights = {}
    for name, w in plf.items():
        if not isinstance(name, str):
            raise ValueError(f"PLF names must be strings, got {name!r}")
        name = get_plf(name).name
        if isinstance(w, bool) or not isinstance(w, int | float) or w < 0:
            raise ValueError(f"weight of PLF {name!r} must be a number >= 0, got {w!r}")
        weights[name] = float(w)
    return weights


@register_criterion("PLFLoss")
class PLFLoss(nn.Module):
    r"""Codec loss ``bpp + lmbda * MSE + sum_plf w_plf * mean_j(-E critic_plf(fake_j))`` and
    the WGAN-GP critic losses, over the frames ``j`` each PLF constrains
    (:meth:`~compressai_plf.plfs.PerceptionLossFunction.constrained_frames`: JD ``1..T-1``,
    the joint up to ``j``; FMD and SA ``0..T-1``, the I-frame included; frames before
    ``start_frame`` are fixed conditions and get no critic term).

    Critic inputs follow the PLF's
    :meth:`~compressai_plf.plfs.PerceptionLossFunction.critic_inputs` (JD: frames ``0..j``;
    FMD: frame ``j``; SA: the detached reconstructed past then frame ``j``). MSE is
    per pixel in [0, 1], averaged over all frames; the generator terms are averaged over the
    constrained frames, so ``w`` means the same per-frame trade-off for any clip length. Several PLFs can
    be trained at once, each with its own critic; a weight of 0 trains that critic only to
    measure (the paper's MMSE stage). Critics are frozen during the codec loss: codec
    gradients come only from the generator terms and critic gradients only from
    :meth:`critic_loss`.

    Args:
        lmbda: weight ``lambda_mse`` of the MSE.
        plf: dict PLF name (``"jd"``, ``"fmd"``, ``"sa"``) -> weight ``w`` (``lambda_p`` of the
            paper, e.g. 0.001-0.08), or a single name (weight 1).
        gp_weight: WGAN-GP penalty weight (paper: 10).
        rate_weight: weight of ``bpp`` (0 for fixed-rate codecs whose rate is constant).
        start_frame: first frame with critic terms. 1 when frame 0 is a shared, frozen
            perceptual I-frame (the PLF paper's recipe): the P-frame heads cannot change it, so
            a critic of it would only cost time.

    ``forward(output, frames, critics)`` returns ``loss``, ``bpp_loss``, ``mse_loss``,
    ``frame{i}.mse_loss`` and, per PLF with ``w > 0``, ``{plf}_loss`` (its mean generator
    term). ``critic_loss(recon, frames, critics)`` returns per PLF ``{plf}_critic_loss`` (sum
    over its frames of ``-E D(real) + E D(fake) + gp_weight * GP``), ``{plf}_w1`` (mean over
    its frames of ``E D(real) - E D(fake)``, the critic's W1 estimate), ``{plf}_gp``, and
    ``loss``, the sum of the critic losses. ``critics`` maps each PLF name to its critic.
    """

    def __init__(
        self,
        lmbda: float = 1.0,
        plf: Mapping[str, float] | str | None = None,
        gp_weight: float = 10.0,
        rate_weight: float = 1.0,
        start_frame: int = 0,
    ) -> None:
        super().__init__()
        self.plf = _parse_plf({"jd": 1.0} if plf is None else plf)
        if not self.plf:
            raise ValueError("plf must name at least one perception loss function")
        if lmbda < 0 or gp_weight < 0 or rate_weight < 0:
            raise ValueError("lmbda, gp_weight and rate_weight must be >= 0")
        self.lmbda = float(lmbda)
        self.gp_weight = float(gp_weight)
        self.rate_weight = float(rate_weight)
        if isinstance(start_frame, bool) or not isinstance(start_frame, int) or start_frame < 0:
            raise ValueError(f"start_frame must be an int >= 0, got {start_frame!r}")
        self.start_frame = start_frame

    def frames_of(self, name: str, num_frames: int) -> range:
        """Frames at which PLF ``name`` has critic terms in clips of ``num_frames``."""
        return get_plf(name).constrained_frames(num_frames, self.start_frame)

    def _check(
        self, frames: Sequence[Tensor], recon: Sequence[Tensor], critics: Any
    ) -> tuple[int, ...]:
        shape = check_video(frames, recon)
        t = shape[0]
        if t < 2:
            raise ValueError("PLFLoss needs clips of at least 2 frames (an I- and a P-frame)")
        if self.start_frame >= t:
            raise ValueError(f"start_frame {self.start_frame} leaves no frame of a {t}-frame clip")
        if not isinstance(critics, Mapping):
            raise TypeError(
                f"critics must be a dict PLF name -> critic, got {type(critics).__name__}"
            )
        missing = [name for name in self.plf if name not in critics]
        if missing:
            raise ValueError(f"no critic given for PLF(s) {missing}")
        return shape

    def forward(
        self, output: Mapping[str, Any], frames: Sequence[Tensor], critics: Mapping[str, nn.Module]
    ) -> dict[str, Tensor]:
        if not isinstance(output, Mapping):
            raise TypeError(f"output must be a video output dict, got {type(output).__name__}")
        recon = reconstructions(output)
        t, b, _, h, w = self._check(frames, recon, critics)
        out: dict[str, Tensor] = {}
        mses = []
        for i, (x, r) in enumerate(zip(frames, recon, strict=True)):
            mses.append(F.mse_loss(r, x))
            out[f"frame{i}.mse_loss"] = mses[-1]
        out["mse_loss"] = torch.stack(mses).mean()
        out["bpp_loss"] = bits_per_pixel(likelihoods_of(output), t * b * h * w)
        loss = self.rate_weight * out["bpp_loss"] + self.lmbda * out["mse_loss"]
        for name, weight in self.plf.items():
            if weight == 0:
                continue
            critic = critics[name]
            with frozen_parameters(critic):
                terms = []
                for j in self.frames_of(name, t):
                    _, fake = get_plf(name).critic_inputs(frames, recon, j)
                    terms.append(-critic_score(critic, fake, j).mean())
            out[f"{name}_loss"] = torch.stack(terms).mean()
            loss = loss + weight * out[f"{name}_loss"]
        out["loss"] = loss
        return out

    def critic_loss(
        self,
        output: Mapping[str, Any] | Sequence[Tensor],
        frames: Sequence[Tensor],
        critics: Mapping[str, nn.Module],
        backward: bool = False,
        gp_scale: float = 1.0,
        margin_cap: float | None = None,
    ) -> dict[str, Tensor]:
        """WGAN-GP losses of the critics; the reconstructions are detached here.

        Args:
            output: the codec's output dict or its list of reconstructed frames.
            frames: source frames.
            critics: dict PLF name -> critic.
            backward: back-propagate each frame's critic loss as soon as it is computed
                (gradients accumulate in the critics' ``.grad``) and return detached losses:
                peak memory holds one critic graph instead of all of them.
            gp_scale: multiplies ``gp_weight``; 0 skips the gradient penalty. A lazy penalty
                (every ``k`` critic steps with ``gp_scale=k``, as in StyleGAN2's lazy
                regularisation, https://arxiv.org/abs/1912.04958) keeps its average weight and
                saves the double backward, the dearest part of a critic step, on the others.
            margin_cap: if set, each frame's score margin ``d_real - d_fake`` counts up to
                this value only (``-min(margin, cap)`` replaces ``d_fake - d_real``): a margin
                above it passes no gradient, so a critic trained against several kinds of fake,
                one loss per kind, cannot pay for an easy kind with a hard one (the
                evaluation critics, :mod:`compressai_plf.eval.build_eval_critics`). The
                reported ``w1`` stays the uncapped margin.
        """
        if margin_cap is not None and not margin_cap > 0:
            raise ValueError(f"margin_cap must be positive, got {margin_cap}")
        recon = [r.detach() for r in reconstructions(output)]
        t = self._check(frames, recon, critics)[0]
        out: dict[str, Tensor] = {}
        total = []
        for name in self.plf:
            critic = critics[name]
            losses, w1s, gps = [], [], []
            for j in self.frames_of(name, t):
                real, fake = get_plf(name).critic_inputs(frames, recon, j)
                # One forward over real and fake (the critics have no batch statistics, so
                # this equals two forwards, at the cost of one larger matmul per layer).
                scores = critic_score(critic, torch.cat([real, fake]), j)
                d_real, d_fake = scores[: real.shape[0]].mean(), scores[real.shape[0] :].mean()
                loss = d_fake - d_real
                if margin_cap is not None:
                    loss = -(d_real - d_fake).clamp(max=margin_cap)
                if self.gp_weight > 0 and gp_scale > 0:
                    score = partial(critic_score, critic, j=j)
                    gp = interpolated_gradient_penalty(score, real, fake)
                    gps.append(gp.detach())
                    loss = loss + self.gp_weight * gp_scale * gp
                if backward:
                    loss.backward()
                    loss = loss.detach()
                losses.append(loss)
                w1s.append((d_real - d_fake).detach())
            out[f"{name}_critic_loss"] = torch.stack(losses).sum()
            out[f"{name}_w1"] = torch.stack(w1s).mean()
            if gps:
                out[f"{name}_gp"] = torch.stack(gps).mean()
            total.append(out[f"{name}_critic_loss"])
        out["loss"] = torch.stack(total).sum()
        return out
