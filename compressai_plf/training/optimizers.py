"""Optimiser construction, following CompressAI's net/aux split."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
import torch.nn as nn

OPTIMIZERS = ("adam", "rmsprop")


def split_parameters(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """Trainable parameters: ``(net, aux)``, aux being the entropy bottlenecks' quantiles
    (trained by the aux loss only, as in CompressAI's examples)."""
    net, aux = [], []
    for name, p in sorted(model.named_parameters()):
        if p.requires_grad:
            (aux if name.endswith(".quantiles") else net).append(p)
    return net, aux


def learning_rate_groups(
    model: nn.Module, params: Iterable[nn.Parameter], encoder_lr: float | None
) -> list[nn.Parameter] | list[dict]:
    """``params`` as they are, or, with ``encoder_lr``, two parameter groups: those of the
    model's ``encoder_side_modules()`` (the bitstream and the MMSE head) at ``encoder_lr``, the
    rest at the optimiser's rate. Adam moves every weight by about the learning rate per step
    whatever its gradient's size, so a pretrained code fine-tuned under critic gradients at
    the heads' rate can drift far in a few hundred steps.

    Raises:
        ValueError: ``encoder_lr`` is not positive, or the model has no encoder side.
    """
    params = list(params)
    if encoder_lr is None:
        return params
    if not (math.isfinite(encoder_lr) and encoder_lr > 0):
        raise ValueError(f"encoder learning rate must be positive, got {encoder_lr}")
    if not hasattr(model, "encoder_side_modules"):
        raise ValueError(f"{type(model).__name__} has no encoder side for its own learning rate")
    encoder = {id(p) for m in model.encoder_side_modules() for p in m.parameters()}
    groups = [
        {"params": [p for p in params if id(p) in encoder], "lr": encoder_lr},
        {"params": [p for p in params if id(p) not in encoder]},
    ]
    return [g for g in groups if g["params"]]


def make_optimizer(
    name: str,
    params: Iterable[nn.Parameter] | Iterable[dict],
    lr: float,
    betas: tuple[float, float] | None = None,
) -> torch.optim.Optimizer:
    """``"adam"`` (CompressAI's choice; ``betas`` default to torch's) or ``"rmsprop"`` (the PLF
    paper's, with WGAN-GP; ``betas`` ignored). ``params``: parameters or parameter groups
    (:func:`learning_rate_groups`); ``lr`` is the rate of groups that set none."""
    params = list(params)
    if not params:
        raise ValueError("no trainable parameters for the optimiser")
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, **({"betas": betas} if betas else {}))
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose from {OPTIMIZERS}")
