"""Identity of the weights that define a bitstream.

A clip written by one model decodes to garbage (or fails) with any other set of weights, so the
container stores a hash of the weights the encoder used and the reader refuses a mismatch.

Only the *encoder side* is hashed (``ScaleSpaceFlowPLF.encoder_side_modules()``: encoders, latent
coders with their entropy-model tables, motion decoder and the MMSE head, whose output is the
encoder's motion reference) together with the architecture options that shape the bitstream.
Perceptual decoder heads are left out on purpose: they are chosen at decode time and can be
retrained with the encoder side frozen (the PLF paper's universality setting) without changing
a single bit of the stream, so such a model must still read clips of the original one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

# Config entries that do not affect the bitstream: the heads a model carries and their
# architecture, and the default dither seed (the seed actually used is stored in the stream).
_DECODE_TIME_OPTIONS = (
    "decoders",
    "dither_seed",
    "head_arch",
    "perceptual_iframe",
    "iframe_planes",
    "synthesis_start",
    "iframe_start",
)
_DOMAIN = b"compressai_plf encoder-side weights v1\0"


def encoder_side_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """State-dict tensors of ``model.encoder_side_modules()``, in state-dict key order."""
    names = {id(m): name for name, m in model.named_children()}
    prefixes = []
    for module in model.encoder_side_modules():
        if id(module) not in names:
            raise TypeError(f"encoder-side module {type(module).__name__} is not a child module")
        prefixes.append(names[id(module)] + ".")
    return {
        k: v
        for k, v in model.state_dict().items()
        if isinstance(v, torch.Tensor) and k.startswith(tuple(prefixes))
    }


def weights_hash(model: nn.Module) -> bytes:
    """SHA-256 (32 bytes) of the bitstream-defining configuration and encoder-side weights.

    Hashed, in order: a domain string; the model's ``config`` without ``decoders`` and
    ``dither_seed`` as sorted-key JSON; then for every encoder-side state-dict entry in key
    order its key, dtype and shape (as ``key\\0dtype\\0[shape]\\0``) followed by the tensor's raw
    bytes (C-contiguous, native little-endian).
    """
    config = {k: v for k, v in model.config.items() if k not in _DECODE_TIME_OPTIONS}
    h = hashlib.sha256(_DOMAIN)
    h.update(json.dumps(config, sort_keys=True, default=list).encode())
    hash_tensors(h, encoder_side_state(model))
    return h.digest()


def hash_tensors(h: Any, state: Mapping[str, torch.Tensor]) -> None:
    """Feed ``state`` into the hash object ``h``, entry by entry in the mapping's order: its
    key, dtype and shape (``key\0dtype\0[shape]\0``), then the tensor's raw bytes
    (C-contiguous, native little-endian)."""
    for key, tensor in state.items():
        t = tensor.detach().cpu().contiguous()
        h.update(f"{key}\0{t.dtype}\0{list(t.shape)}\0".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
