"""Encoder-side weights hash: the documented recipe, and what does and does not change it."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import torch

from compressai_plf.io import weights_hash
from compressai_plf.io.weights_hash import encoder_side_state

from .conftest import tiny_fixed, tiny_hyperprior

ENCODER_SIDE = (
    "img_encoder.",
    "img_hyperprior.",
    "motion_encoder.",
    "motion_hyperprior.",
    "motion_decoder.",
    "res_encoder.",
    "res_hyperprior.",
    "img_decoder.",
    "context_net.",
    "res_decoder.",
)


def test_hash_follows_the_documented_recipe(fixed_net):
    # the options left out, as docs/bitstream.md (the recipe a reimplementation follows) lists them
    doc = (Path(__file__).resolve().parents[2] / "docs" / "bitstream.md").read_text()
    listed = re.search(r"`model\.config` without (.*?) \(decode-time options\)", doc, re.S)
    decode_time = re.findall(r"`(\w+)`", listed.group(1))
    assert {"decoders", "dither_seed", "iframe_start"} <= set(decode_time)
    config = {k: v for k, v in fixed_net.config.items() if k not in decode_time}
    h = hashlib.sha256(b"compressai_plf encoder-side weights v1\0")
    h.update(json.dumps(config, sort_keys=True).encode())
    for key, t in fixed_net.state_dict().items():
        if isinstance(t, torch.Tensor) and key.startswith(ENCODER_SIDE):
            h.update(f"{key}\0{t.dtype}\0{list(t.shape)}\0".encode())
            h.update(t.contiguous().numpy().tobytes())
    assert weights_hash(fixed_net) == h.digest()


def test_selection_covers_entropy_tables_and_skips_heads(hyper_net):
    keys = list(encoder_side_state(hyper_net))
    assert "img_hyperprior.entropy_bottleneck._quantized_cdf" in keys
    assert "res_hyperprior.gaussian_conditional.scale_table" in keys
    assert not any(k.startswith("heads.") for k in keys)


def test_hash_changes_with_encoder_side_weights_and_config_only():
    torch.manual_seed(3)
    net = tiny_fixed()
    base = weights_hash(net)
    with torch.no_grad():
        for p in net.perceptual_heads.parameters():
            p.add_(1.0)  # retrained perceptual heads read the same streams
    assert weights_hash(net) == base
    assert weights_hash(tiny_fixed(decoders=("mse",), dither_seed=7)) != base  # new init
    torch.manual_seed(3)
    assert weights_hash(tiny_fixed(decoders=("mse",), dither_seed=7)) == base  # same init
    torch.manual_seed(3)
    assert weights_hash(tiny_fixed(levels=8)) != base  # bitstream option
    with torch.no_grad():
        net.res_decoder[0].weight.view(-1)[0] += 1e-6  # the MMSE head defines the motion ref
    assert weights_hash(net) != base


def test_entropy_tables_are_hashed():
    torch.manual_seed(4)
    net = tiny_hyperprior()
    before = weights_hash(net)
    net.img_hyperprior.entropy_bottleneck._quantized_cdf[0, 0] += 1
    assert weights_hash(net) != before
