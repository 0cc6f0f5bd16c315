"""The shared perceptual I-frame generator and its two starts."""

from __future__ import annotations

import pytest
import torch

from compressai_plf.io.weights_hash import weights_hash
from compressai_plf.models.iframe_generator import PerceptualIFrameDecoder

from .conftest import clip, tiny_fixed


def test_scratch_start_is_dark_and_bounded():
    torch.manual_seed(0)
    gen = PerceptualIFrameDecoder(4, 32, 1, 3)
    with torch.no_grad():
        gen.synthesis[-1].weight.zero_()
        out = gen(torch.randn(2, 4, 4, 4))
    assert out.shape == (2, 1, 32, 32)
    assert torch.allclose(out, torch.full_like(out, 1.0 / (1.0 + torch.e**3.0)))


def test_mmse_start_is_a_logit_residual_on_the_mmse_frame():
    torch.manual_seed(0)
    gen = PerceptualIFrameDecoder(4, 32, 1, 3, start="mmse")
    assert gen.synthesis[-1].bias.abs().max() == 0
    y = torch.randn(2, 4, 4, 4)
    x_mmse = torch.rand(2, 1, 32, 32)
    x_mmse[0, 0, 0, :4] = torch.tensor([-0.2, 1.3, 0.005, 0.999])  # clamped to [0.01, 0.99]
    with torch.no_grad():
        gen.synthesis[-1].weight.zero_()  # only the residual's zero bias acts
        out = gen(y, x_mmse)
    assert torch.allclose(out, x_mmse.clamp(0.01, 0.99), atol=1e-6)
    with pytest.raises(ValueError, match="needs the MMSE I-frame"):
        gen(y)
    with pytest.raises(ValueError, match="needs the MMSE I-frame"):
        gen(y, x_mmse[:, :, :16])


def test_bad_start_is_refused():
    with pytest.raises(ValueError, match="start must be one of"):
        PerceptualIFrameDecoder(4, 32, 1, 3, start="posterior")
    with pytest.raises(ValueError, match="iframe_start"):
        tiny_fixed(iframe_start="x_pred")
    with pytest.raises(ValueError, match="needs a shared perceptual I-frame decoder"):
        tiny_fixed(iframe_start="mmse", perceptual_iframe="per_head")


def test_model_iframe_start_mmse_starts_near_the_mmse_iframe_and_keeps_the_bitstream():
    torch.manual_seed(0)
    a = tiny_fixed().eval()
    torch.manual_seed(0)
    b = tiny_fixed(iframe_start="mmse").eval()
    assert a.config["iframe_start"] == "none" and b.config["iframe_start"] == "mmse"
    assert weights_hash(a) == weights_hash(b)  # decode-time only: same bitstream identity
    frames = clip(2, 1, 64, 64)
    with torch.no_grad():
        b.iframe_decoder.synthesis[-1].weight.zero_()
        out = b.forward_keyframe_heads(frames[0])["x_hat"]
    assert torch.allclose(out["iframe"], out["mse"].clamp(0.01, 0.99), atol=1e-6)
    strings, shapes = b.compress(frames)
    decoded = b.decompress_heads(strings, shapes)
    assert torch.allclose(decoded["jd"][0], decoded["mse"][0].clamp(0.01, 0.99), atol=1e-6)
