"""The typed coded clip: ``compress_clip`` codes the latents ``compress`` codes, and
``decompress_clip`` decodes them as ``decompress_heads`` does."""

from __future__ import annotations

import struct

import pytest
import torch

from compressai_plf.models.coded_clip import CodedClip, CodedFrame, CodedLatent
from compressai_plf.models.symbol_packing import pack_symbols


@torch.no_grad()
def test_compress_clip_holds_the_latents_of_compress(coded_model):
    net, frames = coded_model
    frames = [f[:1] for f in frames]
    strings, shapes = net.compress(frames)
    coded = net.compress_clip(frames)
    assert [f.kind for f in coded.frames] == ["key", "inter", "inter"]
    assert [f.shape for f in coded.frames] == [tuple(shapes[0])] + [
        tuple(s["motion"]) for s in shapes[1:]
    ]
    key = coded.frames[0].latents["keyframe"]
    if net.rate_mode == "fixed":
        assert coded.seed == net.dither_seed
        assert strings[0][1][0] == struct.pack(">I", coded.seed)  # CompressAI's form
        assert strings[0][0][0] == pack_symbols(key.symbols, key.levels)
        motion = coded.frames[1].latents["motion"]
        assert strings[1]["motion"][0][0] == pack_symbols(motion.symbols, motion.levels)
        assert key.symbols.dtype == torch.int64 and key.strings == ()
    else:
        assert coded.seed is None and key.symbols is None
        assert key.strings == (strings[0][0][0], strings[0][1][0])
        residual = coded.frames[2].latents["residual"]
        assert residual.strings == (strings[2]["residual"][0][0], strings[2]["residual"][1][0])


@torch.no_grad()
def test_decompress_clip_equals_decompress_heads(coded_model):
    net, frames = coded_model
    frames = [f[:1] for f in frames]
    strings, shapes = net.compress(frames)
    a = net.decompress_heads(strings, shapes)
    b = net.decompress_clip(net.compress_clip(frames))
    assert list(a) == list(b)
    for head in a:
        assert all(torch.equal(x, y) for x, y in zip(a[head], b[head], strict=True)), head


def test_compress_clip_codes_one_clip(coded_model):
    net, frames = coded_model
    with pytest.raises(ValueError, match="batch size 1"):
        net.compress_clip(frames)  # a batch of two


def test_record_shape_is_checked():
    latent = CodedLatent(strings=(b"y", b"z"))
    with pytest.raises(ValueError, match="frame kind"):
        CodedFrame("p", {"motion": latent}, (1, 1))
    with pytest.raises(ValueError, match="latents"):
        CodedFrame("inter", {"motion": latent}, (1, 1))
    key = CodedFrame("key", {"keyframe": latent}, (1, 1))
    inter = CodedFrame("inter", {"motion": latent, "residual": latent}, (1, 1))
    with pytest.raises(ValueError, match="one key frame"):
        CodedClip("hyperprior", (inter, key))
    with pytest.raises(ValueError, match="dither seed"):
        CodedClip("fixed", (key,))
    with pytest.raises(ValueError, match="dither seed"):
        CodedClip("hyperprior", (key,), seed=3)


@torch.no_grad()
def test_decompress_clip_refuses_a_record_of_another_model(coded_model):
    net, frames = coded_model
    coded = net.compress_clip([f[:1] for f in frames])
    other = "fixed" if net.rate_mode == "hyperprior" else "hyperprior"
    with pytest.raises(ValueError, match="rate mode"):
        net.decompress_clip(CodedClip(other, coded.frames, None if other == "hyperprior" else 1))
    if net.rate_mode == "fixed":
        key = coded.frames[0]
        bad = CodedLatent(symbols=key.latents["keyframe"].symbols[:1], levels=2)
        frames_ = (CodedFrame("key", {"keyframe": bad}, key.shape), *coded.frames[1:])
        with pytest.raises(ValueError, match="expected symbols"):
            net.decompress_clip(CodedClip("fixed", frames_, coded.seed))
