"""Initialise an ``ssf_plf`` model from CompressAI's ``ssf2020`` weights."""

from __future__ import annotations

from typing import Any

import torch.nn as nn
from torch import Tensor

# Parts whose architecture ssf_plf shares with ssf2020. The residual path is conditional
# here (different input and output shapes), so it always starts afresh.
_TRANSFERABLE = ("img_encoder.", "img_decoder.", "img_hyperprior.", "motion_")


def load_ssf2020_weights(model: nn.Module, state_dict: dict[str, Any]) -> list[str]:
    """Copy the keyframe and motion coders of an ``ssf2020`` state dict into ``model``.

    Keys outside those coders, or whose shapes differ (other widths, depth or channel
    count), are skipped: CompressAI's ``load_state_dict`` raises on any ``res_*`` shape
    mismatch even with ``strict=False``, so the filtering happens here. Entropy-model CDF
    buffers are not copied: call ``model.update(force=True)`` before coding.

    Note: ssf2020 expresses flow in normalised grid units and ssf_plf in pixels, so the
    transferred motion decoder is a starting point for training, not a calibrated one.

    Returns:
        The names of the parameters that were copied.
    """
    own = model.state_dict()
    # Learned parameters only: buffers are constants or CDF tables rebuilt by update().
    params = dict(model.named_parameters())
    copied: dict[str, Tensor] = {}
    for key, value in state_dict.items():
        if key.startswith(_TRANSFERABLE) and key in params and own[key].shape == value.shape:
            copied[key] = value
    own.update(copied)
    nn.Module.load_state_dict(model, own)
    return sorted(copied)
