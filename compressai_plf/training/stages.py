"""Training stages of the PLF recipe: what is trained, with which losses, in one step.

* ``mse``: rate-distortion training of the codec and its MMSE head (PLF paper stage 1);
  critics named in ``plf`` are trained alongside only to *measure* W1 (weight 0). With
  ``freeze_keyframe`` the I-frame codec stays fixed (one keyframe codec for every P-rate).
* ``iframe``: the shared perceptual I-frame decoder on the frozen keyframe codec, against a
  single-frame critic (the paper trains it first, then freezes it for every P-frame head).
* ``plf``: end-to-end perceptual fine-tuning: every parameter trains; the MMSE head keeps
  its rate-distortion loss (it is the motion reference) and each perceptual head its PLF
  loss ``lmbda_mse * MSE + lambda_p * (-E critic(fake))``.
* ``universal``: the encoder side is frozen (the bitstream does not change); only the
  perceptual heads and their critics train (the paper's universality experiment).
* ``recon3d``: the video reconstruction objective (MSE + rate + LPIPS + 3D hinge GAN with
  gradient penalty and adaptive weight) with :class:`Discriminator3D`.

Critic (discriminator) steps run first, ``critic_steps`` of them per codec step, each on
its own batch (``critic_batch="fresh"``) or all on the step's batch, decoded once
(``"shared"``); the codec runs without a graph for them. In the universal stage the frozen
MMSE chain of a batch is computed once and reused (``cache_chain``). Critics can be warmed up
before the first codec update (``critic_warmup``) and the gradient penalty applied lazily
(``gp_every``). Stages whose codec loss contains critic scores have no plateau scheduler.

Salehkalaibar et al., NeurIPS 2023, https://arxiv.org/abs/2305.19301.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from compressai.registry import CRITERIONS
from torch import Tensor

from ..losses import PLFLoss, VideoReconstructionLoss
from ..losses.frozen_parameters import frozen_parameters
from ..losses.gradient_penalty import interpolated_gradient_penalty
from ..modules import DCGANCritic, Discriminator3D, PLFCritic
from .distributed import average_gradients
from .nonfinite import NonFiniteGuard, frames_finite
from .optimizers import learning_rate_groups, make_optimizer, split_parameters

STAGES = ("mse", "iframe", "plf", "universal", "recon3d")
CRITIC_BATCHES = ("fresh", "shared")
IFRAME_SOURCES = ("decoder", "posterior")
# Adam moments for critics, as in WGAN-GP (Gulrajani et al., https://arxiv.org/abs/1704.00028):
# a small beta1 keeps the critic responsive to a generator that moves.
CRITIC_BETAS = (0.5, 0.9)

Batches = Callable[[int, int], list[Tensor]]


def heads_forward(model: nn.Module) -> Callable[..., dict]:
    """``forward(frames, heads[, iframe])`` of a codec: ``model.forward_heads`` for multi-head
    models (``iframe``: the perceptual heads' frame 0, see ``iframe_source``); for a CompressAI
    video model with one decoder (e.g. ``ssf2020``) its ``forward``, its reconstructions
    presented as the ``mse`` head (so the ``mse`` stage trains it)."""
    if hasattr(model, "forward_heads"):
        return model.forward_heads

    def single(frames: list[Tensor], heads: tuple[str, ...]) -> dict:
        if tuple(heads) != ("mse",):
            raise ValueError(
                f"{type(model).__name__} has a single decoder; this stage needs heads {heads}"
            )
        out = model(frames)
        return {"x_hat": {"mse": out["x_hat"]}, "likelihoods": out["likelihoods"]}

    return single


class Stage:
    """Common machinery: codec and aux optimisers, critics and their optimiser, one step.

    A step is ``args.critic_steps`` critic updates then one codec update. With
    ``args.critic_batch == "fresh"`` each critic update draws its own batch (and decodes it);
    with ``"shared"`` all of them and the codec update use the step's batch, decoded once for
    the critic updates (the codec does not change between them). ``args.gp_every = k`` applies
    the gradient penalty on every ``k``-th critic update only, with weight ``k * gp_weight``.
    """

    name = "base"
    heads: tuple[str, ...] = ("mse",)
    # Critic steps need only the reconstructions: run the codec without its graph. (False
    # re-creates the paper code's cost, a full graph per critic step; benchmarks compare.)
    critic_codec_no_grad = True
    # A codec loss that contains critic scores is not stationary: a plateau scheduler would
    # cut the learning rate spuriously, so such stages keep a constant rate.
    perceptual_codec_loss = False

    def __init__(self, model: nn.Module, args: Any, forward: Callable | None = None) -> None:
        self.model = model
        self.args = args
        # ``forward(frames, heads[, iframe])``: the (possibly DistributedDataParallel) codec
        # forward.
        self.forward = forward or heads_forward(model)
        self.guard = NonFiniteGuard(getattr(args, "max_nonfinite", 10))
        self.critics = nn.ModuleDict(self.build_critics())
        self.prepare_model()
        net_params, aux_params = split_parameters(model)
        self.net_params, self.aux_params = net_params, aux_params
        groups = learning_rate_groups(
            model, net_params, getattr(args, "encoder_learning_rate", None)
        )
        self.optimizer = make_optimizer(args.optimizer, groups, args.learning_rate)
        self.aux_optimizer = (
            torch.optim.Adam(aux_params, lr=args.aux_learning_rate) if aux_params else None
        )
        self.critic_optimizer = (
            make_optimizer(
                args.optimizer,
                list(self.critics.parameters()),
                args.critic_learning_rate,
                betas=CRITIC_BETAS,
            )
            if len(self.critics)
            else None
        )
        self.lr_scheduler = (
            None
            if self.perceptual_codec_loss
            else torch.optim.lr_scheduler.ReduceLROnPlateau(self.optimizer, "min")
        )
        # Critic updates so far (the lazy gradient penalty's clock; saved for exact resume).
        self.critic_updates = 0

    # -- hooks -----------------------------------------------------------------------------
    def build_critics(self) -> dict[str, nn.Module]:
        return {}

    def prepare_model(self) -> None:
        pass

    def codec_loss(self, out: dict[str, Any], frames: list[Tensor], step: int) -> dict[str, Tensor]:
        raise NotImplementedError

    def critic_loss(
        self,
        recon: dict[str, list[Tensor]],
        frames: list[Tensor],
        step: int,
        backward: bool = False,
        gp_scale: float = 1.0,
    ) -> dict:
        """Critic losses; with ``backward`` a stage may back-propagate them itself, piece by
        piece (lower peak memory), and return them detached. ``gp_scale`` multiplies the
        gradient-penalty weight (0: no penalty this update)."""
        raise NotImplementedError

    def prepare_batch(self, frames: list[Tensor], key: tuple[int, int] | None = None) -> Any:
        """What :meth:`decode` needs for a batch (the frames; a stage may add work it can
        reuse, keyed by ``(step, draw)``)."""
        return frames

    def decode(self, batch: Any) -> dict[str, Any]:
        """Codec output ``{"x_hat": {head: frames}, "likelihoods": ...}`` of a prepared batch."""
        return self.forward(batch, self.heads)

    def slice_batch(self, batch: Any, lo: int, hi: int) -> Any:
        return [x[lo:hi] for x in batch]

    # -- one training step -----------------------------------------------------------------
    def critic_update(
        self, recon: dict[str, list[Tensor]], frames: list[Tensor], step: int
    ) -> tuple[dict, bool]:
        """One critic optimiser step on fixed reconstructions; returns (losses, stepped)."""
        every = max(1, int(getattr(self.args, "gp_every", 1)))
        gp_scale = float(every) if self.critic_updates % every == 0 else 0.0
        self.critic_optimizer.zero_grad(set_to_none=True)
        c = self.critic_loss(recon, frames, step, backward=True, gp_scale=gp_scale)
        if c["loss"].requires_grad:  # a stage that left the backward to us
            c["loss"].backward()
        stepped = False
        if any(p.grad is not None for p in self.critics.parameters()):
            average_gradients(self.critics.parameters())
            if self.guard.check(c["loss"], self.critics.parameters(), "critic"):
                self.critic_optimizer.step()
                stepped = True
        self.critic_updates += 1
        return c, stepped

    def critic_steps(self, step: int, batches: Batches, count: int) -> dict[str, float]:
        """``count`` critic updates for codec step ``step`` (see the class docstring)."""
        logs: dict[str, float] = {}
        shared = getattr(self.args, "critic_batch", "fresh") == "shared"
        recon = frames = None
        c: dict = {}
        for k in range(count):
            if recon is None or not shared:
                frames = batches(step, 0 if shared else k + 1)
                if not frames_finite(frames):
                    # a damaged clip: skip this update and count it, as a non-finite loss
                    self.guard.record(False, "critic", "NaN/Inf in a clip")
                    logs["skipped_critic_steps"] = logs.get("skipped_critic_steps", 0) + 1
                    continue
                with torch.set_grad_enabled(not self.critic_codec_no_grad):
                    batch = self.prepare_batch(frames, (step, 0 if shared else k + 1))
                    recon = self.decode(batch)["x_hat"]
            c, stepped = self.critic_update(recon, frames, step)
            if not stepped:
                logs["skipped_critic_steps"] = logs.get("skipped_critic_steps", 0) + 1
        logs.update({f"critic.{k}": float(v.detach()) for k, v in c.items() if v.dim() == 0})
        return logs

    def warm_up_critics(self, batches: Batches, count: int) -> dict[str, float]:
        """Critic-only updates on the initial codec's outputs, before the first codec update:
        a generator trained against a random critic gets random gradients."""
        if self.critic_optimizer is None or count <= 0:
            return {}
        self.model.train()
        logs: dict[str, float] = {}
        for i in range(count):
            logs = self.critic_steps(i, batches, 1)
        return logs

    def train_step(self, step: int, batches: Batches) -> dict[str, float]:
        self.model.train()
        logs: dict[str, float] = {}
        if self.critic_optimizer is not None and self.args.critic_steps > 0:
            logs.update(self.critic_steps(step, batches, self.args.critic_steps))

        frames = batches(step, 0)
        if not frames_finite(frames):
            # A damaged clip skips the batch and counts, as a non-finite loss does.
            self.guard.record(False, "codec", "NaN/Inf in a clip")
            return {**logs, "loss": math.nan, "skipped_codec_steps": 1, "nonfinite_batch": 1}
        self.optimizer.zero_grad(set_to_none=True)
        if self.aux_optimizer is not None:
            self.aux_optimizer.zero_grad(set_to_none=True)
        losses = self.codec_backward(frames, step)
        if self.args.clip_max_norm > 0:
            torch.nn.utils.clip_grad_norm_(self.net_params, self.args.clip_max_norm)
        applied = self.guard.check(losses["loss"], self.net_params, "codec")
        if applied:
            self.optimizer.step()
        else:
            logs["skipped_codec_steps"] = 1
        if self.aux_optimizer is not None and applied:  # a skipped step applies nothing
            aux = sum(self.model.aux_loss())
            aux.backward()
            average_gradients(self.aux_params)
            self.aux_optimizer.step()
            logs["aux_loss"] = float(aux.detach())
        logs.update({k: float(v.detach()) for k, v in losses.items() if v.dim() == 0})
        return logs

    def codec_backward(self, frames: list[Tensor], step: int) -> dict[str, Tensor]:
        """Codec loss and its gradients, in ``args.micro_batches`` chunks of the batch.

        Every term of the codec losses is a mean over the batch, so the chunk losses weighted
        by their share of the batch add up to the whole-batch loss and their gradients to its
        gradient: chunking changes peak memory (one chunk's graph), not the update."""
        n = frames[0].shape[0]
        chunks = min(self.args.micro_batches, n)
        bounds = [round(i * n / chunks) for i in range(chunks + 1)]
        batch = self.prepare_batch(frames, (step, 0))
        total: dict[str, Tensor] = {}
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            part = [x[lo:hi] for x in frames]
            sliced = batch if chunks == 1 else self.slice_batch(batch, lo, hi)
            losses = self.codec_loss(self.decode(sliced), part, step)
            share = (hi - lo) / n
            (losses["loss"] * share).backward()
            for k, v in losses.items():
                if v.dim() == 0:
                    total[k] = total.get(k, 0.0) + v.detach() * share
        return total

    @torch.no_grad()
    def evaluate(self, frames: list[Tensor]) -> dict[str, float]:
        """Held-out metrics of one batch: per-head per-frame MSE, bpp, critics' W1."""
        self.model.eval()
        out = self.eval_output(frames)
        logs = {k: float(v) for k, v in self.codec_loss(out, frames, 10**9).items() if v.dim() == 0}
        for head, recon in out["x_hat"].items():
            for i, (r, x) in enumerate(zip(recon, frames, strict=True)):
                logs[f"{head}.frame{i}.mse"] = float(torch.mean((r.clamp(0, 1) - x) ** 2))
        if len(self.critics):
            with torch.enable_grad():  # the gradient penalty needs autograd
                c = self.critic_loss(out["x_hat"], frames, 10**9)
            logs.update({f"critic.{k}": float(v.detach()) for k, v in c.items() if v.dim() == 0})
        return logs

    def eval_output(self, frames: list[Tensor]) -> dict[str, Any]:
        """The codec output :meth:`evaluate` measures (the model itself, not a wrapper)."""
        return heads_forward(self.model)(frames, self.heads)

    # -- checkpoint state ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer.state_dict(),
            "aux_optimizer": self.aux_optimizer.state_dict() if self.aux_optimizer else None,
            "lr_scheduler": self.lr_scheduler.state_dict() if self.lr_scheduler else None,
            "critics": self.critics.state_dict(),
            "critic_optimizer": (
                self.critic_optimizer.state_dict() if self.critic_optimizer else None
            ),
            "critic_updates": self.critic_updates,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = len(state["optimizer"]["param_groups"])
        if saved != len(self.optimizer.param_groups):
            raise ValueError(
                f"the checkpoint's optimiser has {saved} parameter group(s), this run "
                f"{len(self.optimizer.param_groups)}: resume with the --encoder-learning-rate "
                "setting the run started with"
            )
        self.optimizer.load_state_dict(state["optimizer"])
        if self.aux_optimizer is not None and state.get("aux_optimizer"):
            self.aux_optimizer.load_state_dict(state["aux_optimizer"])
        if self.lr_scheduler is not None and state.get("lr_scheduler"):
            self.lr_scheduler.load_state_dict(state["lr_scheduler"])
        self.critics.load_state_dict(state["critics"])
        if self.critic_optimizer is not None and state.get("critic_optimizer"):
            self.critic_optimizer.load_state_dict(state["critic_optimizer"])
        self.critic_updates = int(state.get("critic_updates", 0))


def _perception_weight(args: Any, plf: str) -> float:
    """The perception weight of head ``plf``: its ``--plf-weights`` entry, else
    ``--lambda-p``."""
    return float((getattr(args, "plf_weights", None) or {}).get(plf, args.lambda_p))


def _start_frame(model: nn.Module) -> int:
    """First frame the P-frame heads' critics constrain: 1 when the model gives every head
    one frozen frame 0 (a shared perceptual I-frame decoder, or the MMSE I-frame of
    ``perceptual_iframe="mmse"``), else 0 (per-head I-frame decoders)."""
    shared = getattr(model, "iframe_decoder", None) is not None
    config = getattr(model, "config", None) or {}
    return 1 if shared or config.get("perceptual_iframe") == "mmse" else 0


def _plf_critics(args: Any, names: tuple[str, ...], start_frame: int = 0) -> dict[str, nn.Module]:
    return {
        name: PLFCritic(
            plf=name,
            num_frames=args.frames,
            channels=args.channels,
            image_size=args.patch_size,
            arch=args.critic_arch,
            start_frame=start_frame,
            **(args.critic_args or {}),
        )
        for name in names
    }


def _freeze_keyframe(model: nn.Module, args: Any) -> None:
    if getattr(args, "freeze_keyframe", False):
        if not hasattr(model, "freeze_keyframe_codec"):
            raise ValueError(f"{type(model).__name__} cannot freeze its keyframe codec")
        model.freeze_keyframe_codec()


class MSEStage(Stage):
    """Rate-distortion training; critics named in ``args.plf`` only measure W1. With
    ``args.freeze_keyframe`` the I-frame codec stays as initialised (one keyframe codec shared
    by every P-frame rate of a family)."""

    name = "mse"

    def __init__(self, model: nn.Module, args: Any, forward: Callable | None = None) -> None:
        self.rd = CRITERIONS[args.criterion](lmbda=args.lmbda)
        self.measure = PLFLoss(plf=dict.fromkeys(args.plf, 0.0)) if args.plf else None
        super().__init__(model, args, forward)

    def build_critics(self) -> dict[str, nn.Module]:
        return _plf_critics(self.args, tuple(self.args.plf))

    def prepare_model(self) -> None:
        _freeze_keyframe(self.model, self.args)

    def codec_loss(self, out, frames, step):
        return self.rd({"x_hat": out["x_hat"]["mse"], "likelihoods": out["likelihoods"]}, frames)

    def critic_loss(self, recon, frames, step, backward=False, gp_scale=1.0):
        return self.measure.critic_loss(
            recon["mse"], frames, dict(self.critics), backward, gp_scale=gp_scale
        )


class IFrameStage(Stage):
    """The shared perceptual I-frame decoder on the frozen keyframe codec (the PLF paper's
    first perceptual stage): ``lambda_mse * MSE(x_hat_0, x_0) + lambda_p * (-E D(x_hat_0))``
    with one single-frame WGAN-GP critic; everything else stays frozen. Uses frame 0 of each
    clip."""

    name = "iframe"
    heads = ("iframe",)
    perceptual_codec_loss = True

    def __init__(self, model: nn.Module, args: Any, forward: Callable | None = None) -> None:
        if getattr(model, "iframe_decoder", None) is None:
            raise ValueError(
                "stage 'iframe' trains the shared perceptual I-frame decoder: build the model "
                "with perceptual_iframe='shared' and at least one perceptual head"
            )
        self.gp_weight = 10.0
        super().__init__(model, args, forward)

    def build_critics(self) -> dict[str, nn.Module]:
        return {
            "iframe": DCGANCritic(
                self.args.channels, 1, self.args.patch_size, **(self.args.critic_args or {})
            )
        }

    def prepare_model(self) -> None:
        self.model.requires_grad_(False)
        self.model.iframe_decoder.requires_grad_(True)

    def decode(self, batch):
        return self.model.forward_keyframe_heads(batch[0])

    def codec_loss(self, out, frames, step):
        x_hat, x = out["x_hat"]["iframe"], frames[0]
        mse = F.mse_loss(x_hat, x)
        with frozen_parameters(self.critics["iframe"]):
            gen = -self.critics["iframe"](x_hat).mean()
        return {
            "loss": self.args.lambda_mse * mse + self.args.lambda_p * gen,
            "mse_loss": mse,
            "mmse_mse_loss": F.mse_loss(out["x_hat"]["mse"].clamp(0, 1), x).detach(),
            "iframe_loss": gen,
        }

    def critic_loss(self, recon, frames, step, backward=False, gp_scale=1.0):
        critic, real, fake = self.critics["iframe"], frames[0], recon["iframe"].detach()
        scores = critic(torch.cat([real, fake]))
        d_real, d_fake = scores[: real.shape[0]].mean(), scores[real.shape[0] :].mean()
        loss = d_fake - d_real
        out = {"iframe_w1": (d_real - d_fake).detach()}
        if gp_scale > 0:
            gp = interpolated_gradient_penalty(critic, real, fake)
            loss = loss + self.gp_weight * gp_scale * gp
            out["iframe_gp"] = gp.detach()
        if backward:
            loss.backward()
            loss = loss.detach()
        out["loss"] = loss
        return out

    @torch.no_grad()
    def evaluate(self, frames: list[Tensor]) -> dict[str, float]:
        self.model.eval()
        out = self.decode(frames)
        logs = {k: float(v) for k, v in self.codec_loss(out, frames, 10**9).items()}
        with torch.enable_grad():
            c = self.critic_loss(out["x_hat"], frames, 10**9)
        logs.update({f"critic.{k}": float(v.detach()) for k, v in c.items()})
        return logs


@dataclass
class FramesWithIFrame:
    """A batch of clips and the frame 0 its perceptual heads continue (``iframe_source``
    other than ``"decoder"``), for a stage that does not cache the MMSE chain."""

    frames: list[Tensor]
    iframe: Tensor

    def batch_slice(self, lo: int, hi: int) -> FramesWithIFrame:
        """Clips ``lo:hi`` with their own frames 0 (a micro-batch)."""
        return FramesWithIFrame([x[lo:hi] for x in self.frames], self.iframe[lo:hi])


class UniversalStage(Stage):
    """Perceptual heads on the frozen encoder side; one critic per head.

    The encoder side and the MMSE chain do not change here, so with ``args.cache_chain`` a
    batch's :class:`~compressai_plf.models.ssf_plf.MMSEChain` is computed once, without a
    graph, and every critic update and the codec update decode the heads from it.

    With ``args.iframe_source == "posterior"`` the heads' frame 0 is an exact posterior sample
    of each clip's keyframe code (:class:`~compressai_plf.eval.posterior_iframe.
    PosteriorIFrameSampler`: a real training frame with the same 12-bit code): a perfectly
    realistic I-frame, often of the wrong digit, so that the P-frame heads' behaviour (error
    permanence) can be trained and studied apart from I-frame GAN training. In training the
    sample is drawn under its own seeded dither, while the MMSE chain codes the keyframe under
    the training dither, so the two are codes of the same frame under different dithers (the
    same digit position); at evaluation the sample is of the transmitted code."""

    name = "universal"
    perceptual_codec_loss = True

    def __init__(self, model: nn.Module, args: Any, forward: Callable | None = None) -> None:
        if not args.plf:
            raise ValueError(f"stage {self.name!r} needs --plf naming the heads to train")
        missing = [p for p in args.plf if p not in getattr(model, "decoders", ("mse",))]
        if missing:
            raise ValueError(f"model has no decoder head(s) {missing}; add them to its decoders")
        self.heads = ("mse", *args.plf)
        self.start_frame = _start_frame(model)
        self.plf_losses = {
            p: PLFLoss(
                lmbda=args.lambda_mse,
                plf={p: _perception_weight(args, p)},
                rate_weight=0.0,
                start_frame=self.start_frame,
            )
            for p in args.plf
        }
        self._chain: tuple[Any, Any] = (None, None)
        self.iframe_source = getattr(args, "iframe_source", "decoder")
        if self.iframe_source not in IFRAME_SOURCES:
            raise ValueError(
                f"iframe_source must be one of {IFRAME_SOURCES}, got {self.iframe_source!r}"
            )
        self._sampler = None
        super().__init__(model, args, forward)

    @property
    def caches_chain(self) -> bool:
        return bool(getattr(self.args, "cache_chain", False)) and hasattr(self.model, "mmse_chain")

    def build_critics(self) -> dict[str, nn.Module]:
        return _plf_critics(self.args, tuple(self.args.plf), self.start_frame)

    def prepare_model(self) -> None:
        self.model.freeze_encoder_side()

    def first_frames(self, frames: list[Tensor], key: tuple[int, int] | None) -> Tensor | None:
        """Frame 0 the perceptual heads continue: ``None`` (the model's own I-frame decoder) or
        posterior samples of the keyframe codes, drawn reproducibly from ``key``."""
        if self.iframe_source == "decoder":
            return None
        if self._sampler is None:  # built on first use: after --resume has loaded the weights
            from ..eval.posterior_iframe import PosteriorIFrameSampler

            self._sampler = PosteriorIFrameSampler(self.model, self.args.data_root)
        step, draw = key if key is not None else (-1, 0)
        seed = (step * 1009 + draw) % 2**32
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            sample = self._sampler.sample_keyframe(frames[0], seed, generator).frames
        return sample.to(frames[0])  # the sampler draws on the CPU

    def prepare_batch(self, frames, key=None):
        if not self.caches_chain:
            if self.iframe_source == "decoder":
                return frames
            return FramesWithIFrame(frames, self.first_frames(frames, key))
        if key is None or self._chain[0] != key:
            with torch.no_grad():
                chain = self.model.mmse_chain(frames, self.first_frames(frames, key))
            self._chain = (key, chain)
        return self._chain[1]

    def eval_output(self, frames):
        if not self.caches_chain:
            batch = self.prepare_batch(frames, None)
            if isinstance(batch, FramesWithIFrame):  # the model itself, not a DDP wrapper
                return self.model.forward_heads(batch.frames, self.heads, batch.iframe)
            return super().eval_output(frames)
        return self.decode(self.prepare_batch(frames, None))

    def decode(self, batch):
        if isinstance(batch, FramesWithIFrame):
            return self.forward(batch.frames, self.heads, batch.iframe)
        if not self.caches_chain:
            return super().decode(batch)
        # Only the heads under training (MMSE frames come from the chain, at no cost).
        return {
            "x_hat": self.model.decode_heads(batch, self.heads),
            "likelihoods": batch.likelihoods,
        }

    def slice_batch(self, batch, lo, hi):
        if hasattr(batch, "batch_slice"):  # an MMSE chain or FramesWithIFrame
            return batch.batch_slice(lo, hi)
        return super().slice_batch(batch, lo, hi)

    def codec_backward(self, frames, step):
        total = super().codec_backward(frames, step)
        if self.caches_chain:  # the heads ran outside DistributedDataParallel
            average_gradients(self.net_params)
        return total

    def codec_loss(self, out, frames, step):
        total, logs = 0.0, {}
        for p, crit in self.plf_losses.items():
            res = crit(
                {"x_hat": out["x_hat"][p], "likelihoods": out["likelihoods"]},
                frames,
                dict(self.critics),
            )
            total = total + res["loss"]
            logs.update({f"{p}.{k}": v for k, v in res.items() if k != "loss"})
        logs["loss"] = total
        return logs

    def critic_loss(self, recon, frames, step, backward=False, gp_scale=1.0):
        total, logs = 0.0, {}
        for p, crit in self.plf_losses.items():
            res = crit.critic_loss(
                recon[p], frames, {p: self.critics[p]}, backward, gp_scale=gp_scale
            )
            total = total + res["loss"]
            logs.update({k: v for k, v in res.items() if k != "loss"})
        logs["loss"] = total
        return logs


class PLFStage(UniversalStage):
    """End-to-end perceptual fine-tuning: everything trains (but a shared perceptual I-frame
    decoder, which only the ``iframe`` stage trains); the MMSE head keeps its rate-distortion
    loss (it is the encoder's motion reference)."""

    name = "plf"

    def __init__(self, model: nn.Module, args: Any, forward: Callable | None = None) -> None:
        self.rd = CRITERIONS[args.criterion](lmbda=args.lmbda)
        source = getattr(args, "iframe_source", "decoder")
        if source != "decoder" and not getattr(args, "freeze_keyframe", False):
            # the posterior sampler indexes the keyframe codec's codes: they must not move
            raise ValueError(
                f"iframe_source={source!r} in stage 'plf' needs freeze_keyframe "
                "(--freeze-keyframe): the sampler's index is built on the keyframe codec"
            )
        super().__init__(model, args, forward)
        if getattr(args, "detach_head_references", False):
            if not hasattr(model, "forward_heads"):
                raise ValueError(f"{type(model).__name__} has no perceptual heads to detach")
            # the perceptual heads' gradient reaches the encoder side through the latents
            # only; the MMSE head learns from its own distortion alone
            self.forward = functools.partial(self.forward, detach_references=True)

    @property
    def caches_chain(self) -> bool:
        return False  # the encoder side trains: nothing to reuse across updates

    def prepare_model(self) -> None:
        if getattr(self.model, "iframe_decoder", None) is not None:
            self.model.iframe_decoder.requires_grad_(False)
        _freeze_keyframe(self.model, self.args)

    def codec_loss(self, out, frames, step):
        logs = super().codec_loss(out, frames, step)
        rd = self.rd({"x_hat": out["x_hat"]["mse"], "likelihoods": out["likelihoods"]}, frames)
        logs.update({f"mse.{k}": v for k, v in rd.items()})
        logs["loss"] = logs["loss"] + rd["loss"]
        return logs


class Recon3DStage(Stage):
    """The video reconstruction objective with a 3D-then-2D discriminator."""

    name = "recon3d"
    perceptual_codec_loss = True

    def __init__(self, model: nn.Module, args: Any, forward: Callable | None = None) -> None:
        self.objective = VideoReconstructionLoss(
            lambda_q=args.lambda_q,
            lambda_p=args.lambda_p,
            lambda_adv=args.lambda_adv,
            lambda_gp=args.lambda_gp,
            disc_start=args.disc_start,
            adaptive_reference="perceptual" if args.lambda_p > 0 else "reconstruction",
            lpips_weights=args.lpips_weights,
        )
        super().__init__(model, args, forward)

    def build_critics(self) -> dict[str, nn.Module]:
        return {
            "d3d": Discriminator3D(
                frames=self.args.frames,
                image_size=self.args.patch_size,
                channels=self.args.channels,
            )
        }

    def codec_loss(self, out, frames, step):
        res = self.objective(
            {"x_hat": out["x_hat"]["mse"], "likelihoods": out["likelihoods"]},
            frames,
            discriminator=self.critics["d3d"],
            last_layer_weight=self.model.res_decoder[-1].weight,
            step=step,
        )
        return res

    def critic_loss(self, recon, frames, step, backward=False, gp_scale=1.0):
        # The hinge discriminator's penalty weight is the objective's own (lambda_gp).
        return self.objective.discriminator_loss(recon["mse"], frames, self.critics["d3d"], step)


def make_stage(name: str, model: nn.Module, args: Any, forward: Callable | None = None) -> Stage:
    classes = {
        "mse": MSEStage,
        "iframe": IFrameStage,
        "plf": PLFStage,
        "universal": UniversalStage,
        "recon3d": Recon3DStage,
    }
    if name not in classes:
        raise ValueError(f"unknown stage {name!r}; choose from {STAGES}")
    return classes[name](model, args, forward)
