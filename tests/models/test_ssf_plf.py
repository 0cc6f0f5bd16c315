"""ScaleSpaceFlowPLF: output contract, coding round trips, heads, freezing, state dicts."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch
from compressai.registry import MODELS

from compressai_plf.models import ScaleSpaceFlowPLF, load_ssf2020_weights
from compressai_plf.models.symbol_packing import packed_size

from .conftest import HEADS, clip, tiny_fixed, tiny_hyperprior


def _bits(likelihoods) -> float:
    return sum(
        float(-torch.log2(t).sum()) for d in likelihoods for lat in d.values() for t in lat.values()
    )


@pytest.mark.parametrize("size", [(64, 64), (128, 192)])
def test_forward_contract(size):
    h, w = size
    net = tiny_hyperprior()
    frames = clip(2, 3, h, w)
    out = net(frames)
    assert set(out) == {"x_hat", "likelihoods"}
    assert [x.shape for x in out["x_hat"]] == [(2, 3, h, w)] * 3
    lik = out["likelihoods"]
    assert list(lik[0]) == ["keyframe"] and set(lik[0]["keyframe"]) == {"y", "z"}
    for step in lik[1:]:
        assert set(step) == {"motion", "residual"}
        assert step["motion"]["y"].shape == (2, 16, h // 8, w // 8)
        assert step["residual"]["z"].shape == (2, 16, h // 32, w // 32)
        assert all(((t > 0) & (t <= 1)).all() for t in step["motion"].values())


def test_forward_fixed_mode_likelihoods_give_exact_bits():
    net = tiny_fixed()
    out = net(clip(2, 1, 64, 64))
    # 12 binary keyframe latents, then 3 + 3 four-level latents per P-frame, per clip.
    expected = 2 * (12 * 1 + 2 * (2 * 3 * math.log2(4)))
    assert _bits(out["likelihoods"]) == pytest.approx(expected)
    assert net.fixed_bits_per_frame((64, 64)) == {"keyframe": 12.0, "inter": 12.0}


def test_compress_decompress_round_trip_every_head(coded_model):
    net, frames = coded_model
    with torch.no_grad():
        ref = net.forward_heads(frames)
        strings, shapes = net.compress(frames)
        for head in HEADS:
            decoded = net.decompress(strings, shapes, decoder=head)
            assert len(decoded) == len(frames)
            for a, b in zip(decoded, ref["x_hat"][head], strict=True):
                assert torch.allclose(a, b, atol=1e-5), head
        # forward() with one head equals the matching entry of forward_heads()
        single = net(frames, decoder="jd")["x_hat"]
        assert all(
            torch.allclose(a, b, atol=1e-6) for a, b in zip(single, ref["x_hat"]["jd"], strict=True)
        )


def test_heads_differ_but_share_the_bitstream():
    net = tiny_fixed().eval()
    net.update(force=True)
    frames = clip(1, 1, 64, 64)
    with torch.no_grad():
        strings, shapes = net.compress(frames)
        mse = net.decompress(strings, shapes, decoder="mse")
        jd = net.decompress(strings, shapes, decoder="jd")
    assert not torch.allclose(mse[1], jd[1])  # independent random heads


def test_fixed_mode_string_lengths_equal_accounted_bits():
    net = tiny_fixed().eval()
    net.update(force=True)
    with torch.no_grad():
        strings, shapes = net.compress(clip(2, 1, 64, 64), seed=1234)
    key_y, key_seed = strings[0]
    assert [len(s) for s in key_y] == [packed_size(12, 2)] * 2 == [2, 2]  # 12 bits -> 2 bytes
    assert [len(s) for s in key_seed] == [4, 4]
    for frame in strings[1:]:
        for label in ("motion", "residual"):
            (y,) = frame[label]
            # 3 latents of 4 levels: 6 bits -> 1 byte
            assert [len(s) for s in y] == [math.ceil(3 * math.log2(4) / 8)] * 2


def test_fixed_mode_seed_is_carried_and_changes_dither():
    net = tiny_fixed().eval()
    net.update(force=True)
    frames = clip(1, 1, 64, 64)
    with torch.no_grad():
        s1, sh = net.compress(frames, seed=1)
        s2, _ = net.compress(frames, seed=2)
        d1, d2 = net.decompress(s1, sh), net.decompress(s2, sh)
    assert s1[0][1] != s2[0][1]
    assert not torch.allclose(d1[0], d2[0])  # different dither, different keyframe


def test_decoding_in_another_process_gives_identical_bytes(tmp_path):
    net = tiny_fixed().eval()
    net.update(force=True)
    frames = clip(1, 1, 64, 64)
    with torch.no_grad():
        strings, shapes = net.compress(frames)
        local = net.decompress(strings, shapes, decoder="sa")
    torch.save(
        {"state_dict": net.state_dict(), "strings": strings, "shapes": shapes}, tmp_path / "blob.pt"
    )
    code = (
        "import sys, torch\n"
        "from compressai_plf.models import ScaleSpaceFlowPLF\n"
        f"b = torch.load(r'{tmp_path / 'blob.pt'}', weights_only=True)\n"
        "net = ScaleSpaceFlowPLF.from_state_dict(b['state_dict']).eval()\n"
        "with torch.no_grad():\n"
        "    out = net.decompress(b['strings'], b['shapes'], decoder='sa')\n"
        "sys.stdout.buffer.write(b''.join(x.numpy().tobytes() for x in out))\n"
    )
    remote = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout
    assert remote == b"".join(x.numpy().tobytes() for x in local)


def test_freeze_encoder_side_keeps_bitstream_and_trains_heads():
    net = tiny_fixed()
    trainable = net.freeze_encoder_side()
    frozen = {
        k: v.clone()
        for k, v in net.state_dict().items()
        if not k.startswith("heads.") and isinstance(v, torch.Tensor)
    }
    heads_before = {k: v.clone() for k, v in net.perceptual_heads.state_dict().items()}
    opt = torch.optim.Adam(trainable, lr=1e-2)
    frames = clip(2, 1, 64, 64)
    out = net.forward_heads(frames, ("jd", "fmd", "sa"))
    loss = sum(
        ((x - f) ** 2).mean() for h in out["x_hat"].values() for x, f in zip(h, frames, strict=True)
    )
    loss.backward()
    opt.step()
    after = net.state_dict()
    assert all(torch.equal(after[k], v) for k, v in frozen.items())
    changed = [
        k
        for k, v in net.perceptual_heads.state_dict().items()
        if not torch.equal(v, heads_before[k])
    ]
    assert any(k.startswith("jd.") for k in changed) and any(k.startswith("sa.") for k in changed)
    assert all(p.grad is None for m in net.encoder_side_modules() for p in m.parameters())


def test_state_dict_round_trip_and_mismatch_error():
    net = tiny_hyperprior(decoders=("mse", "fmd"))
    net.update(force=True)
    rebuilt = ScaleSpaceFlowPLF.from_state_dict(net.state_dict())
    assert rebuilt.decoders == ("mse", "fmd")
    assert all(
        torch.equal(a, b)
        for a, b in zip(net.state_dict().values(), rebuilt.state_dict().values(), strict=True)
        if isinstance(a, torch.Tensor)
    )
    with pytest.raises(ValueError, match="different ssf_plf architecture"):
        tiny_hyperprior(decoders=("mse", "jd")).load_state_dict(net.state_dict())
    with pytest.raises(ValueError, match="no ssf_plf architecture record"):
        ScaleSpaceFlowPLF.from_state_dict({"img_encoder.0.weight": torch.zeros(1)})


def test_update_and_aux_loss_follow_compressai():
    net = tiny_hyperprior()
    aux = net.aux_loss()
    assert isinstance(aux, list) and len(aux) == 3 and all(a.dim() == 0 for a in aux)
    assert tiny_fixed().aux_loss() == []
    assert net.update(force=True) is True


def test_registered_in_compressai_registry():
    import compressai_plf  # noqa: F401

    assert MODELS["ssf_plf"] is ScaleSpaceFlowPLF
    assert MODELS["ssf2020"].__name__ == "ScaleSpaceFlow"  # not overwritten


def test_flow_is_in_pixels():
    """A constant flow of +4 px shifts the content by 4 pixels whatever the frame size."""
    net = tiny_hyperprior(num_levels=1)
    for w in (64, 128):
        x = torch.zeros(1, 3, 32, w)
        x[..., 10] = 1.0
        motion = torch.zeros(1, 3, 32, w)
        motion[:, 0] = 4.0
        motion[:, 2] = -1.0  # finest scale-space level (no blur)
        y = net.forward_prediction(x, motion)
        assert y[0, 0, 5].argmax().item() == 6  # sample at x + 4 px


@pytest.mark.parametrize(
    "frames, match",
    [
        (torch.rand(1, 3, 3, 64, 64), "list"),
        ([torch.rand(3, 64, 64)], r"\(B, C, H, W\)"),
        ([torch.rand(1, 1, 64, 64)], "channels"),
        ([torch.rand(1, 3, 60, 64)], "multiple"),
        ([torch.full((1, 3, 64, 64), float("nan"))], "NaN"),
        ([torch.rand(1, 3, 64, 64) * 255], r"\[0, 1\]"),
        ([torch.rand(1, 3, 64, 64), torch.rand(1, 3, 32, 32)], "shape"),
    ],
)
def test_bad_input_is_rejected_clearly(frames, match):
    with pytest.raises((ValueError, TypeError), match=match):
        tiny_hyperprior()(frames)


def test_unknown_head_and_bad_options():
    net = tiny_hyperprior(decoders=("mse",))
    with pytest.raises(ValueError, match="unknown decoder head"):
        net(clip(1, 3, 64, 64), decoder="jd")
    with pytest.raises(ValueError, match="unknown decoder head"):
        ScaleSpaceFlowPLF(decoders=("mse", "gan"))
    with pytest.raises(ValueError, match="rate_mode"):
        ScaleSpaceFlowPLF(rate_mode="vbr")


def test_corrupt_fixed_strings_raise():
    net = tiny_fixed().eval()
    net.update(force=True)
    with torch.no_grad():
        strings, shapes = net.compress(clip(1, 1, 64, 64))
    strings[1]["motion"][0] = [b"\x00\x00\x00"]
    with pytest.raises(ValueError, match="bytes"):
        net.decompress(strings, shapes)


def test_load_ssf2020_weights_skips_mismatched_shapes():
    from compressai.zoo import ssf2020

    ref = ssf2020(quality=1, pretrained=False)
    net = ScaleSpaceFlowPLF()  # default widths: keyframe and motion coders match
    copied = load_ssf2020_weights(net, ref.state_dict())
    assert "img_encoder.0.weight" in copied and "motion_decoder.6.weight" in copied
    assert not any(k.startswith("res_") for k in copied)
    assert torch.equal(net.img_encoder[0].weight, ref.img_encoder[0].weight)
    small = tiny_hyperprior()
    assert load_ssf2020_weights(small, ref.state_dict()) == []


def test_latent_coders_are_named_by_what_they_are():
    from compressai_plf.models.fixed_rate_coder import FixedRateLatentCoder
    from compressai_plf.models.hyperprior_coder import HyperpriorLatentCoder

    for net, kind in (
        (tiny_fixed(), FixedRateLatentCoder),
        (tiny_hyperprior(), HyperpriorLatentCoder),
    ):
        coders = (net.keyframe_coder, net.motion_coder, net.residual_coder)
        assert coders == (net.img_hyperprior, net.motion_hyperprior, net.res_hyperprior)
        assert all(isinstance(c, kind) for c in coders)
        assert net.decoders[0] == "mse" and "mse" not in net.perceptual_heads
