"""Training stages of the PLF recipe: what is trained, with which losses, in one step.

* ``mse``: rate-distortion training of the codec and its MMSE head (PLF paper stage 1);
  critics named in ``plf`` are trained alongside only to *measure* W1 (weight 0).
* ``plf``: end-to-end perceptual fine-tuning: every parameter trains; the MMSE head keeps
  its rate-distortion loss (it is the motion reference) and each perceptual head its PLF
  loss ``lmbda_mse * MSE + lambda_p * (-E critic(fake))``.
* ``universal``: the encoder side is frozen (the bitstream does not change); only the
  perceptual heads and their critics train (the paper's universality experiment).
* ``recon3d``: the video reconstruction objective (MSE + rate + LPIPS + 3D hinge GAN with
  gradient penalty and adaptive weight) with :class:`Discriminator3D`.

Critic (discriminator) steps run first, ``critic_steps`` of them per codec step, each on
its own batch; the codec runs without a graph for them, so a critic step costs one
no-grad codec forward plus the critic's own forward/backward.

Salehkalaibar et al., NeurIPS 2023, https://arxiv.org/abs/2305.19301.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn
from compressai.registry import CRITERIONS
from torch import Tensor

from ..losses import PLFLoss, VideoReconstructionLoss
from ..modules import Discriminator3D, PLFCritic
from .distributed import average_gradients
from .nonfinite import NonFiniteGuard
from .optimizers import make_optimizer, split_parameters

STAGES = ("mse", "plf", "universal", "recon3d")

Batches = Callable[[int, int], list[Tensor]]


def heads_forward(model: nn.Module) -> Callable[[list[Tensor], tuple[str, ...]], dict]:
    """``forward(frames, heads)`` of a codec: ``model.forward_heads`` for multi-head models;
    for a CompressAI video model with one decoder (e.g. ``ssf2020``) its ``forward``, its
    reconstructions presented as the ``mse`` head (so the ``mse`` stage trains it)."""
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
    """Common machinery: codec and aux optimisers, critics and their optimiser, one step."""

    name = "base"
    heads: tuple[str, ...] = ("mse",)
    # Critic steps need only the reconstructions: run the codec without its graph. (False
    # re-creates the paper code's cost, a full graph per critic step; benchmarks compare.)
    critic_codec_no_grad = True

    def __init__(self, model: nn.Module, args: Any, forward: Callable | None = None) -> None:
        self.model = model
        self.args = args
        # ``forward(frames, heads)``: the (possibly DistributedDataParallel) codec forward.
        self.forward = forward or heads_forward(model)
        self.guard = NonFiniteGuard(getattr(args, "max_nonfinite", 10))
        self.critics = nn.ModuleDict(self.build_critics())
        self.prepare_model()
        net_params, aux_params = split_parameters(model)
        self.net_params, self.aux_params = net_params, aux_params
        self.optimizer = make_optimizer(args.optimizer, net_params, args.learning_rate)
        self.aux_optimizer = (
            torch.optim.Adam(aux_params, lr=args.aux_learning_rate) if aux_params else None
        )
        self.critic_optimizer = (
            make_optimizer(
                args.optimizer, list(self.critics.parameters()), args.critic_learning_rate
            )
            if len(self.critics)
            else None
        )
        self.lr_scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(self.optimizer, "min")

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
    ) -> dict:
        """Critic losses; with ``backward`` a stage may back-propagate them itself, piece by
        piece (lower peak memory), and return them detached."""
        raise NotImplementedError

    # -- one training step -----------------------------------------------------------------
    def train_step(self, step: int, batches: Batches) -> dict[str, float]:
        self.model.train()
        logs: dict[str, float] = {}
        if self.critic_optimizer is not None and self.args.critic_steps > 0:
            for k in range(self.args.critic_steps):
                frames = batches(step, k + 1)
                with torch.set_grad_enabled(not self.critic_codec_no_grad):
                    recon = self.forward(frames, self.heads)["x_hat"]
                self.critic_optimizer.zero_grad(set_to_none=True)
                c = self.critic_loss(recon, frames, step, backward=True)
                if c["loss"].requires_grad:  # a stage that left the backward to us
                    c["loss"].backward()
                if any(p.grad is not None for p in self.critics.parameters()):
                    average_gradients(self.critics.parameters())
                    if self.guard.check(c["loss"], self.critics.parameters(), "critic"):
                        self.critic_optimizer.step()
                    else:
                        logs["skipped_critic_steps"] = logs.get("skipped_critic_steps", 0) + 1
            logs.update({f"critic.{k}": float(v.detach()) for k, v in c.items() if v.dim() == 0})

        frames = batches(step, 0)
        self.optimizer.zero_grad(set_to_none=True)
        if self.aux_optimizer is not None:
            self.aux_optimizer.zero_grad(set_to_none=True)
        losses = self.codec_backward(frames, step)
        if self.args.clip_max_norm > 0:
            torch.nn.utils.clip_grad_norm_(self.net_params, self.args.clip_max_norm)
        if self.guard.check(losses["loss"], self.net_params, "codec"):
            self.optimizer.step()
        else:
            logs["skipped_codec_steps"] = 1
        if self.aux_optimizer is not None:
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
        total: dict[str, Tensor] = {}
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            part = [x[lo:hi] for x in frames]
            losses = self.codec_loss(self.forward(part, self.heads), part, step)
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
        out = heads_forward(self.model)(frames, self.heads)
        logs = {k: float(v) for k, v in self.codec_loss(out, frames, 10**9).items() if v.dim() == 0}
        for head, recon in out["x_hat"].items():
            for i, (r, x) in enumerate(zip(recon, frames, strict=True)):
                logs[f"{head}.frame{i}.mse"] = float(torch.mean((r.clamp(0, 1) - x) ** 2))
        if len(self.critics):
            with torch.enable_grad():  # the gradient penalty needs autograd
                c = self.critic_loss(out["x_hat"], frames, 10**9)
            logs.update({f"critic.{k}": float(v.detach()) for k, v in c.items() if v.dim() == 0})
        return logs

    # -- checkpoint state ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer.state_dict(),
            "aux_optimizer": self.aux_optimizer.state_dict() if self.aux_optimizer else None,
            "lr_scheduler": self.lr_scheduler.state_dict(),
            "critics": self.critics.state_dict(),
            "critic_optimizer": (
                self.critic_optimizer.state_dict() if self.critic_optimizer else None
            ),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        if self.aux_optimizer is not None and state.get("aux_optimizer"):
            self.aux_optimizer.load_state_dict(state["aux_optimizer"])
        self.lr_scheduler.load_state_dict(state["lr_scheduler"])
        self.critics.load_state_dict(state["critics"])
        if self.critic_optimizer is not None and state.get("critic_optimizer"):
            self.critic_optimizer.load_state_dict(state["critic_optimizer"])


def _plf_critics(args: Any, names: tuple[str, ...]) -> dict[str, nn.Module]:
    return {
        name: PLFCritic(
            plf=name,
            num_frames=args.frames,
            channels=args.channels,
            image_size=args.patch_size,
            arch=args.critic_arch,
            **(args.critic_args or {}),
        )
        for name in names
    }


class MSEStage(Stage):
    """Rate-distortion training; critics named in ``args.plf`` only measure W1."""

    name = "mse"

    def __init__(self, model: nn.Module, args: Any, forward: Callable | None = None) -> None:
        self.rd = CRITERIONS[args.criterion](lmbda=args.lmbda)
        self.measure = PLFLoss(plf=dict.fromkeys(args.plf, 0.0)) if args.plf else None
        super().__init__(model, args, forward)

    def build_critics(self) -> dict[str, nn.Module]:
        return _plf_critics(self.args, tuple(self.args.plf))

    def codec_loss(self, out, frames, step):
        return self.rd({"x_hat": out["x_hat"]["mse"], "likelihoods": out["likelihoods"]}, frames)

    def critic_loss(self, recon, frames, step, backward=False):
        return self.measure.critic_loss(recon["mse"], frames, dict(self.critics), backward)


class UniversalStage(Stage):
    """Perceptual heads on the frozen encoder side; one critic per head."""

    name = "universal"

    def __init__(self, model: nn.Module, args: Any, forward: Callable | None = None) -> None:
        if not args.plf:
            raise ValueError(f"stage {self.name!r} needs --plf naming the heads to train")
        missing = [p for p in args.plf if p not in getattr(model, "decoders", ("mse",))]
        if missing:
            raise ValueError(f"model has no decoder head(s) {missing}; add them to its decoders")
        self.heads = ("mse", *args.plf)
        self.plf_losses = {
            p: PLFLoss(lmbda=args.lambda_mse, plf={p: args.lambda_p}, rate_weight=0.0)
            for p in args.plf
        }
        super().__init__(model, args, forward)

    def build_critics(self) -> dict[str, nn.Module]:
        return _plf_critics(self.args, tuple(self.args.plf))

    def prepare_model(self) -> None:
        self.model.freeze_encoder_side()

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

    def critic_loss(self, recon, frames, step, backward=False):
        total, logs = 0.0, {}
        for p, crit in self.plf_losses.items():
            res = crit.critic_loss(recon[p], frames, {p: self.critics[p]}, backward)
            total = total + res["loss"]
            logs.update({k: v for k, v in res.items() if k != "loss"})
        logs["loss"] = total
        return logs


class PLFStage(UniversalStage):
    """End-to-end perceptual fine-tuning: everything trains; the MMSE head keeps its
    rate-distortion loss (it is the encoder's motion reference)."""

    name = "plf"

    def __init__(self, model: nn.Module, args: Any, forward: Callable | None = None) -> None:
        self.rd = CRITERIONS[args.criterion](lmbda=args.lmbda)
        super().__init__(model, args, forward)

    def prepare_model(self) -> None:
        pass  # nothing frozen

    def codec_loss(self, out, frames, step):
        logs = super().codec_loss(out, frames, step)
        rd = self.rd({"x_hat": out["x_hat"]["mse"], "likelihoods": out["likelihoods"]}, frames)
        logs.update({f"mse.{k}": v for k, v in rd.items()})
        logs["loss"] = logs["loss"] + rd["loss"]
        return logs


class Recon3DStage(Stage):
    """The video reconstruction objective with a 3D-then-2D discriminator."""

    name = "recon3d"

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

    def critic_loss(self, recon, frames, step, backward=False):
        return self.objective.discriminator_loss(recon["mse"], frames, self.critics["d3d"], step)


def make_stage(name: str, model: nn.Module, args: Any, forward: Callable | None = None) -> Stage:
    classes = {
        "mse": MSEStage,
        "plf": PLFStage,
        "universal": UniversalStage,
        "recon3d": Recon3DStage,
    }
    if name not in classes:
        raise ValueError(f"unknown stage {name!r}; choose from {STAGES}")
    return classes[name](model, args, forward)
