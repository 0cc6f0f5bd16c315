"""The ssf_plf zoo entry mirrors compressai.zoo.ssf2020."""

from __future__ import annotations

import pytest
import torch
from compressai.zoo import video_models

from compressai_plf.models import ScaleSpaceFlowPLF
from compressai_plf.zoo import FIXED_PFRAME_BITS, ssf_plf
from compressai_plf.zoo.presets import FIXED_KEYFRAME_BITS, architecture, fixed_frame_bits


def test_zoo_entry_is_added_to_compressai():
    assert video_models["ssf_plf"] is ssf_plf
    assert "ssf2020" in video_models


@pytest.mark.parametrize("quality", [0, 10, 2.5, "3"])
def test_bad_quality(quality):
    with pytest.raises(ValueError, match="quality"):
        ssf_plf(quality)


def test_bad_metric():
    with pytest.raises(ValueError, match="metric"):
        ssf_plf(3, metric="lpips")


@torch.no_grad()
def test_default_family_is_rgb_natural_video_like_ssf2020():
    net = ssf_plf(3).eval()
    assert net.channels == 3 and net.rate_mode == "hyperprior"
    net.update(force=True)
    frames = [torch.rand(1, 3, 64, 128) for _ in range(3)]
    strings, shapes = net.compress(frames)
    decoded = net.decompress(strings, shapes)
    assert [d.shape for d in decoded] == [(1, 3, 64, 128)] * 3


def test_moving_mnist_families_are_asked_for_by_name():
    assert ssf_plf(3, family="mmnist").channels == 1
    assert ssf_plf(3, rate_mode="fixed").channels == 1  # fixed rate: Moving MNIST only
    assert ssf_plf(3, family="mmnist", rate_mode="fixed").channels == 1
    with pytest.raises(ValueError, match="family='mmnist'"):
        ssf_plf(3, family="natural", rate_mode="fixed")
    with pytest.raises(ValueError, match="family must be one of"):
        ssf_plf(3, family="kth")


def test_architecture_options_pass_through():
    net = ssf_plf(3, decoders=("mse", "jd", "fmd", "sa"), mid_planes=32)
    assert isinstance(net, ScaleSpaceFlowPLF)
    assert net.decoders == ("mse", "jd", "fmd", "sa")
    assert net.config["mid_planes"] == 32


def test_fixed_bit_budgets_are_what_the_architectures_code():
    # the PLF paper's budgets: a 12-bit I-frame, 2 ... 48 bits per P-frame in binary latents,
    # and the reproduction's high rate at q9: 64 latents of 16 levels, 4 bits each
    assert FIXED_PFRAME_BITS == {1: 2, 2: 4, 3: 8, 4: 12, 5: 16, 6: 24, 7: 32, 8: 48, 9: 256}
    assert FIXED_KEYFRAME_BITS == 12
    for q in (2, 9):
        net = ScaleSpaceFlowPLF(**architecture(q, "fixed"))
        assert net.fixed_bits_per_frame((64, 64)) == fixed_frame_bits(net.config)
        assert fixed_frame_bits(net.config, (128, 64))["inter"] == 2 * FIXED_PFRAME_BITS[q]


@pytest.mark.parametrize("quality", [1, 5, 9])
def test_fixed_mode_quality_sets_pframe_bits(quality):
    net = ssf_plf(quality, rate_mode="fixed")
    bits = net.fixed_bits_per_frame((64, 64))
    assert bits == {"keyframe": 12.0, "inter": float(FIXED_PFRAME_BITS[quality])}
    out = net([torch.rand(1, 1, 64, 64) for _ in range(2)])
    assert out["x_hat"][1].shape == (1, 1, 64, 64)


def test_fixed_family_heads_continue_the_mmse_iframe_by_default():
    # as the shipped family was trained: own-past heads, no I-frame generator of their own
    net = ssf_plf(9, rate_mode="fixed", decoders=("mse", "jd"))
    assert net.config["head_arch"] == "own_past" and net.config["perceptual_iframe"] == "mmse"
    assert net.config["levels"] == 16 and ssf_plf(8, rate_mode="fixed").config["levels"] == 2
    assert getattr(net, "iframe_decoder", None) is None
    shared = ssf_plf(9, rate_mode="fixed", decoders=("mse", "jd"), perceptual_iframe="shared")
    assert shared.iframe_decoder is not None  # what a perceptual I-frame run trains


def test_missing_pretrained_weights_say_how_to_train(monkeypatch, tmp_path):
    import compressai_plf.zoo.pretrained as pretrained

    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(RuntimeError, match="train_video.py"):
        ssf_plf(4, pretrained=True)
    with pytest.raises(RuntimeError, match="family='natural'"):
        ssf_plf(3, pretrained=True)  # no natural-video weights in this folder


def test_pretrained_loads_shipped_file(monkeypatch, tmp_path):
    import compressai_plf.zoo.pretrained as pretrained

    net = ssf_plf(2, rate_mode="fixed", mid_planes=8, context_planes=8)
    net.update(force=True)
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path)
    torch.save(net.state_dict(), pretrained.weights_path(2, "mse", "fixed"))
    loaded = ssf_plf(2, rate_mode="fixed", pretrained=True)
    assert all(
        torch.equal(a, b)
        for a, b in zip(net.state_dict().values(), loaded.state_dict().values(), strict=True)
        if isinstance(a, torch.Tensor)
    )
