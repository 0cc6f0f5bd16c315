"""Hinge adversarial losses (Lim & Ye, "Geometric GAN", https://arxiv.org/abs/1705.02894;
used by SAGAN/BigGAN and by VQGAN-style video tokenizers)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = ["hinge_discriminator_loss", "hinge_generator_loss"]


def hinge_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """``mean(relu(1 - real)) + mean(relu(1 + fake))``.

    Args:
        real_logits: discriminator outputs on real data, any shape.
        fake_logits: discriminator outputs on generated data, any shape.
    """
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def hinge_generator_loss(fake_logits: Tensor) -> Tensor:
    """``-mean(fake)``: the generator raises the discriminator's score of its outputs.

    Args:
        fake_logits: discriminator outputs on generated data, any shape.
    """
    return -fake_logits.mean()
