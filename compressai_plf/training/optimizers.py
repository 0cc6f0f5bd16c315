"""Optimiser construction, following CompressAI's net/aux split."""

from __future__ import annotations

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


def make_optimizer(
    name: str,
    params: Iterable[nn.Parameter],
    lr: float,
    betas: tuple[float, float] | None = None,
) -> torch.optim.Optimizer:
    """``"adam"`` (CompressAI's choice; ``betas`` default to torch's) or ``"rmsprop"`` (the PLF
    paper's, with WGAN-GP; ``betas`` ignored)."""
    params = list(params)
    if not params:
        raise ValueError("no trainable parameters for the optimiser")
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, **({"betas": betas} if betas else {}))
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose from {OPTIMIZERS}")
