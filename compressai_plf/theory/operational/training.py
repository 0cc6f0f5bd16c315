"""Training of the learned Gauss-Markov codec: MMSE first, then universal PLF decoders.

The recipe of the PLF paper (https://arxiv.org/abs/2305.19301): train encoder and MMSE decoder
for the MSE, freeze the encoder, then train one perceptual decoder per PLF on its
representation. The perceptual objective is this package's :class:`~compressai_plf.losses.PLFLoss`
with WGAN-GP critics (:class:`~compressai_plf.modules.mlp_critic.MLPCritic`), or
``lmbda * MSE + weight * W2^2`` with the batch Gaussian W2 of
:func:`.gaussian_critic.batch_gaussian_w2_squared` on the same critic inputs
(:meth:`~compressai_plf.plfs.PerceptionLossFunction.critic_inputs`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from ...losses.plf import PLFLoss
from ...modules.mlp_critic import MLPCritic
from ...plfs import get_plf
from ..source import GaussMarkovSource
from .codec import CausalMLPCodec
from .gaussian_critic import batch_gaussian_w2_squared
from .plf_decoder import PLFDecoder
from .sampling import sample_sequences

__all__ = ["CRITICS", "TrainConfig", "as_frames", "train_mmse", "train_plf_decoder"]

#: Perceptual critics: WGAN-GP through PLFLoss, or the exact batch Gaussian W2.
CRITICS = ("wgan", "gaussian")


@dataclass
class TrainConfig:
    """Step counts and optimiser settings (defaults: about 10 s per model on one busy core)."""

    mmse_steps: int = 1500
    plf_steps: int = 600
    batch: int = 256
    lr: float = 5e-3
    plf_lr: float = 2e-3
    hidden: int = 128
    critic: str = "gaussian"
    #: PLF weight against ``lmbda = 1`` on the per-component MSE (WGAN-GP: about 1 works;
    #: the Gaussian W2^2 is quadratic near 0, so it needs a larger weight to reach P ~ 0).
    perception_weight: float = 20.0
    critic_steps: int = 2
    critic_lr: float = 1e-3
    gp_weight: float = 10.0

    def __post_init__(self) -> None:
        if self.critic not in CRITICS:
            raise ValueError(f"critic must be one of {CRITICS}, got {self.critic!r}")
        for name in ("mmse_steps", "plf_steps", "batch", "hidden", "critic_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.batch < 2:
            raise ValueError("batch must be >= 2 (covariances and critics need samples)")
        for name in ("lr", "plf_lr", "critic_lr", "perception_weight", "gp_weight"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def as_frames(x: Tensor) -> list[Tensor]:
    """``(B, T, d)`` -> ``T`` frames of shape ``(B, 1, 1, d)``, the package's video layout."""
    return [x[:, j].reshape(x.shape[0], 1, 1, -1) for j in range(x.shape[1])]


def _cosine(optimizer: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LRScheduler:
    # Decay to a tenth: the last steps average out the quantiser's and the critic's noise.
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.1 + 0.45 * (1 + math.cos(math.pi * min(s / steps, 1.0)))
    )


def train_mmse(
    codec: CausalMLPCodec,
    source: GaussMarkovSource,
    config: TrainConfig,
    generator: torch.Generator,
    tick: Callable[[], None] = lambda: None,
) -> None:
    """Train encoders and MMSE decoders for the mean per-component MSE over frames."""
    codec.train()
    codec.seed_dither(None)
    opt = torch.optim.Adam(codec.parameters(), lr=config.lr, foreach=True)
    sched = _cosine(opt, config.mmse_steps)
    for _ in range(config.mmse_steps):
        x = sample_sequences(source, codec.dim, config.batch, generator)
        x_hat = torch.stack(codec(x)["x_hat"], 1)
        loss = (x_hat - x).square().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        tick()


def _representation(
    codec: CausalMLPCodec, source: GaussMarkovSource, batch: int, generator: torch.Generator
) -> tuple[Tensor, dict[str, list[Tensor]], list[Tensor]]:
    x = sample_sequences(source, codec.dim, batch, generator)
    with torch.no_grad():
        rep = codec(x)
    noise = [torch.randn(batch, codec.dim, generator=generator) for _ in range(codec.frames)]
    return x, rep, noise


def train_plf_decoder(
    plf: str,
    codec: CausalMLPCodec,
    source: GaussMarkovSource,
    config: TrainConfig,
    generator: torch.Generator,
    tick: Callable[[], None] = lambda: None,
) -> PLFDecoder:
    """Train a :class:`PLFDecoder` for PLF ``plf`` on the frozen ``codec``."""
    name = get_plf(plf).name
    codec.eval()
    codec.seed_dither(None)  # fresh dithers every batch, as at training of the codec
    for p in codec.parameters():
        p.requires_grad_(False)
    decoder = PLFDecoder(codec.dim, codec.latents, config.hidden)
    opt = torch.optim.Adam(decoder.parameters(), lr=config.plf_lr, betas=(0.5, 0.9), foreach=True)
    sched = _cosine(opt, config.plf_steps)
    t = codec.frames
    if config.critic == "wgan":
        loss_fn = PLFLoss(
            lmbda=1.0,
            plf={name: config.perception_weight},
            gp_weight=config.gp_weight,
            rate_weight=0.0,
        )
        critics = {name: MLPCritic(name, t, codec.dim, config.hidden)}
        critic_opt = torch.optim.Adam(
            critics[name].parameters(), lr=config.critic_lr, betas=(0.5, 0.9)
        )
    for _ in range(config.plf_steps):
        if config.critic == "wgan":
            for _ in range(config.critic_steps):
                x, rep, noise = _representation(codec, source, config.batch, generator)
                with torch.no_grad():
                    recon = [
                        y.view(config.batch, 1, 1, -1)
                        for y in decoder(rep["latents"], rep["x_hat"], noise)
                    ]
                critic_opt.zero_grad(set_to_none=True)
                loss_fn.critic_loss(recon, as_frames(x), critics, backward=True)
                critic_opt.step()
        x, rep, noise = _representation(codec, source, config.batch, generator)
        frames = as_frames(x)
        recon = [
            y.view(config.batch, 1, 1, -1) for y in decoder(rep["latents"], rep["x_hat"], noise)
        ]
        if config.critic == "wgan":
            # PLFLoss's MSE is per number and averaged over frames, as the MMSE stage's.
            # The rate is fixed and the encoder frozen: likelihoods of 1 add zero bits.
            output = {"x_hat": recon, "likelihoods": {"y": torch.ones(config.batch, 1)}}
            loss = loss_fn(output, frames, critics)["loss"]
        else:
            definition = get_plf(name)
            terms = [
                batch_gaussian_w2_squared(*definition.critic_inputs(frames, recon, j)) / codec.dim
                for j in definition.constrained_frames(t)
            ]
            mse = torch.stack([(r - f).square().mean() for r, f in zip(recon, frames, strict=True)])
            loss = mse.mean() + config.perception_weight * torch.stack(terms).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        tick()
    decoder.eval()
    return decoder
