"""Own-past perceptual heads and the shared perceptual I-frame decoder."""

from __future__ import annotations

import math

import pytest
import torch

from compressai_plf.models import ScaleSpaceFlowPLF
from compressai_plf.models.decoder_head import DecoderHead
from compressai_plf.models.own_past_head import OwnPastHead

from .conftest import clip, tiny_fixed, tiny_hyperprior

PERCEPTUAL = ("jd", "fmd", "sa")


def test_shared_iframe_is_frame_zero_of_every_perceptual_head(coded_model):
    net, frames = coded_model
    out = net.forward_heads(frames)["x_hat"]
    first = out["jd"][0]
    assert all(torch.equal(out[h][0], first) for h in PERCEPTUAL)
    assert not torch.equal(first, out["mse"][0])  # its own decoder, not the MMSE one
    strings, shapes = net.compress(frames)
    decoded = net.decompress_heads(strings, shapes)
    assert all(torch.equal(decoded[h][0], decoded["jd"][0]) for h in PERCEPTUAL)
    assert torch.equal(net.decompress(strings, shapes, "fmd")[0], decoded["jd"][0])


def test_per_head_iframes_differ_between_heads():
    torch.manual_seed(0)
    net = tiny_fixed(perceptual_iframe="per_head").eval()
    assert net.iframe_decoder is None
    out = net.forward_heads(clip(2, 1, 64, 64))["x_hat"]
    assert not torch.equal(out["jd"][0], out["fmd"][0])


def test_own_past_changes_the_next_frame_and_leaves_mmse_bit_identical():
    torch.manual_seed(0)
    net = tiny_fixed().eval()
    net.update(force=True)
    frames = clip(2, 1, 64, 64)
    plain = net.forward_heads(frames)["x_hat"]
    # A different frame 0 (e.g. a posterior sample): every perceptual head shows and
    # continues it; the MMSE head, the motion reference, does not change by a single bit.
    other = torch.rand(2, 1, 64, 64)
    forced = net.forward_heads(frames, iframe=other)["x_hat"]
    assert all(torch.equal(forced[h][0], other) for h in PERCEPTUAL)
    assert all(torch.equal(forced["mse"][t], plain["mse"][t]) for t in range(3))
    for h in PERCEPTUAL:
        assert not torch.allclose(forced[h][1], plain[h][1])
    strings, shapes = net.compress(frames)
    decoded = net.decompress_heads(strings, shapes, iframe=other)
    unforced = net.decompress_heads(strings, shapes)
    assert all(torch.equal(decoded["mse"][t], unforced["mse"][t]) for t in range(3))
    assert torch.allclose(decoded["jd"][2], forced["jd"][2], atol=1e-6)


def test_mmse_iframe_mode_continues_the_mmse_iframe_or_a_given_frame():
    torch.manual_seed(0)
    net = tiny_fixed(perceptual_iframe="mmse").eval()
    assert net.iframe_decoder is None
    assert not any(k.startswith("iframe_decoder.") for k in net.state_dict())
    net.update(force=True)
    frames = clip(2, 1, 64, 64)
    out = net.forward_heads(frames)["x_hat"]
    assert all(torch.equal(out[h][0], out["mse"][0]) for h in PERCEPTUAL)
    strings, shapes = net.compress(frames)
    decoded = net.decompress_heads(strings, shapes)
    assert all(torch.equal(decoded[h][0], decoded["mse"][0]) for h in PERCEPTUAL)
    assert torch.equal(net.decompress(strings, shapes, "sa")[0], decoded["mse"][0])
    other = torch.rand(2, 1, 64, 64)
    given = net.decompress_heads(strings, shapes, iframe=other)
    assert torch.equal(given["jd"][0], other)
    with pytest.raises(ValueError, match="needs head_arch='own_past'"):
        tiny_fixed(head_arch="residual", perceptual_iframe="mmse")


def test_with_decoders_keeps_the_bitstream_and_the_kept_heads():
    from compressai_plf.io import weights_hash

    torch.manual_seed(0)
    net = tiny_fixed(synthesis_start={"jd": "own", "fmd": "mmse_frame", "sa": "mmse"}).eval()
    net.update(force=True)
    frames = clip(2, 1, 64, 64)
    strings, shapes = net.compress(frames, seed=3)
    other = torch.rand(2, 1, 64, 64)
    full = net.decompress_heads(strings, shapes, iframe=other)

    small = net.with_decoders(("jd", "fmd"), perceptual_iframe="mmse")
    assert small.decoders == ("mse", "jd", "fmd") and small.iframe_decoder is None
    assert small.config["synthesis_start"] == {"jd": "own", "fmd": "mmse_frame"}
    assert weights_hash(small) == weights_hash(net)  # reads the same clips
    assert sum(v.numel() for v in small.state_dict().values() if torch.is_tensor(v)) < sum(
        v.numel() for v in net.state_dict().values() if torch.is_tensor(v)
    )
    assert small.compress(frames, seed=3)[0] == strings
    part = small.decompress_heads(strings, shapes, iframe=other)
    for h in ("mse", "jd", "fmd"):  # given the same frame 0, the kept heads decode the same
        assert all(torch.equal(a, b) for a, b in zip(part[h], full[h], strict=True))
    # and it survives a save/load round trip like any model
    again = ScaleSpaceFlowPLF.from_state_dict(small.state_dict())
    assert again.decoders == small.decoders
    with pytest.raises(ValueError, match="not \\['sa'\\]"):
        small.with_decoders(("jd", "sa"))
    with pytest.raises(ValueError, match="has no weights that fit"):
        small.with_decoders(perceptual_iframe="shared")  # its generator was left out
    started = tiny_fixed(iframe_start="mmse")  # a generator start means nothing without one
    assert started.with_decoders(("mse",)).decoders == ("mse",)


def test_with_head_assembles_heads_trained_on_one_encoder_side():
    torch.manual_seed(0)
    a = tiny_fixed(decoders=("mse", "fmd"), synthesis_start="mmse_frame").eval()
    a.update(force=True)
    torch.manual_seed(1)  # another run: its own JD head, started from its own past
    b = tiny_fixed(decoders=("mse", "jd"), synthesis_start="own").eval()
    shared = {k: v for k, v in a.state_dict().items() if not k.startswith(("heads.", "_"))}
    b.load_state_dict(shared, strict=False)  # the same frozen encoder side and MMSE head
    b.update(force=True)
    c = a.with_head("jd", b)
    assert c.decoders == ("mse", "jd", "fmd")
    assert c.config["synthesis_start"] == {"jd": "own", "fmd": "mmse_frame"}
    frames, other = clip(2, 1, 64, 64), torch.rand(2, 1, 64, 64)
    strings, shapes = a.compress(frames, seed=2)
    got = c.decompress_heads(strings, shapes, iframe=other)
    want_a = a.decompress_heads(strings, shapes, iframe=other)
    want_b = b.decompress_heads(strings, shapes, iframe=other)
    assert all(torch.equal(x, y) for x, y in zip(got["jd"], want_b["jd"], strict=True))
    assert all(torch.equal(x, y) for x, y in zip(got["fmd"], want_a["fmd"], strict=True))
    # a head replaced by one from a run of several heads, each with its own start
    torch.manual_seed(3)
    d = tiny_fixed(decoders=("mse", "jd", "fmd"), synthesis_start={"jd": "own", "fmd": "mmse"})
    d.load_state_dict(shared, strict=False)
    e = c.with_head("fmd", d)
    assert e.config["synthesis_start"] == {"jd": "own", "fmd": "mmse"}
    assert torch.equal(e.heads.fmd.res_decoder[0].weight, d.heads.fmd.res_decoder[0].weight)
    with pytest.raises(ValueError, match="not a perceptual head"):
        a.with_head("sa", b)
    torch.manual_seed(2)
    stranger = tiny_fixed(decoders=("mse", "jd"))
    with pytest.raises(ValueError, match="codes other bitstreams"):
        a.with_head("jd", stranger)


def test_own_past_head_can_copy_its_warped_past():
    head = OwnPastHead(1, 8, 4, 2, 2, 8, 3)
    with torch.no_grad():
        head.fusion[-1].weight.zero_()
        head.fusion[-1].bias.copy_(torch.tensor([0.0, 50.0]))  # (synthesis, gate) logits
    x_own, x_pred = torch.rand(2, 1, 32, 32), torch.rand(2, 1, 32, 32)
    y_res, y_motion = torch.randn(2, 2, 4, 4), torch.randn(2, 2, 4, 4)
    out = head.decode_inter(y_res, y_motion, x_pred, x_pred, x_own)
    assert torch.allclose(out, x_own, atol=1e-6)


def test_closed_gate_shows_the_synthesis_and_no_pixel_of_the_prediction():
    # The MMSE prediction informs the synthesis but has no pixel path into the output: with
    # the gate closed and the synthesis fixed at logit(0.3), neither warped frame shows.
    head = OwnPastHead(1, 8, 4, 2, 2, 8, 3)
    with torch.no_grad():
        head.fusion[-1].weight.zero_()
        head.fusion[-1].bias.copy_(torch.tensor([math.log(0.3 / 0.7), -50.0]))
    x_own, x_pred = torch.rand(2, 1, 32, 32), torch.rand(2, 1, 32, 32)
    y_res, y_motion = torch.randn(2, 2, 4, 4), torch.randn(2, 2, 4, 4)
    out = head.decode_inter(y_res, y_motion, x_pred, x_pred, x_own)
    assert torch.allclose(out, torch.full_like(out, 0.3), atol=1e-6)


@pytest.mark.parametrize("make", [tiny_fixed, tiny_hyperprior])
def test_every_head_output_lies_in_unit_range(make):
    torch.manual_seed(0)
    net = make().eval()
    with torch.no_grad():  # exaggerated weights drive every pre-activation far out of range
        for name, p in net.named_parameters():
            if name.startswith(("heads.", "iframe_decoder.")):
                p.mul_(25.0)
    channels = net.config["channels"]
    out = net.forward_heads(clip(2, channels, 64, 64))["x_hat"]
    for h in PERCEPTUAL:
        stacked = torch.stack(out[h])
        assert stacked.min() >= 0.0 and stacked.max() <= 1.0 and torch.isfinite(stacked).all()


def test_iframe_override_is_checked():
    net = tiny_fixed().eval()
    frames = clip(2, 1, 64, 64)
    with pytest.raises(ValueError, match="iframe must be a tensor shaped like frame 0"):
        net.forward_heads(frames, iframe=torch.rand(1, 1, 64, 64))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        net.forward_heads(frames, iframe=torch.full((2, 1, 64, 64), 3.0))


def test_older_weight_files_load_as_residual_per_head_models():
    net = tiny_fixed(head_arch="residual", perceptual_iframe="per_head")
    sd = net.state_dict()
    config = dict(sd["_extra_state"]["config"])
    for key in ("head_arch", "perceptual_iframe", "iframe_planes"):
        config.pop(key)  # a file saved before these options existed
    sd["_extra_state"] = {"config": config}
    loaded = ScaleSpaceFlowPLF.from_state_dict(sd)
    assert loaded.config["head_arch"] == "residual" and loaded.iframe_decoder is None
    assert isinstance(loaded.perceptual_heads["jd"], DecoderHead)
    frames = clip(1, 1, 64, 64)
    a, b = net.eval().forward_heads(frames), loaded.eval().forward_heads(frames)
    assert all(torch.equal(a["x_hat"][h][-1], b["x_hat"][h][-1]) for h in a["x_hat"])


def test_bad_head_options_are_named():
    with pytest.raises(ValueError, match="head_arch"):
        tiny_fixed(head_arch="gan")
    with pytest.raises(ValueError, match="perceptual_iframe"):
        tiny_fixed(perceptual_iframe="both")
    with pytest.raises(ValueError, match="needs head_arch='own_past'"):
        tiny_fixed(head_arch="residual", perceptual_iframe="shared")
    with pytest.raises(ValueError, match="synthesis_start"):
        tiny_fixed(synthesis_start="x_pred")


def test_mmse_start_synthesis_is_a_logit_residual_on_the_prediction():
    # With the fusion's weights at zero only its biases act: synthesis logit 0 (so the
    # synthesis is the clamped MMSE prediction itself) and gate logit -2 on the own past.
    head = OwnPastHead(1, 8, 4, 2, 2, 8, 3, synthesis_start="mmse")
    assert head.fusion[-1].bias.tolist() == [0.0, -2.0]
    with torch.no_grad():
        head.fusion[-1].weight.zero_()
    x_own, x_pred = torch.rand(2, 1, 32, 32), torch.rand(2, 1, 32, 32)
    x_pred[0, 0, 0, :4] = torch.tensor([0.0, 1.0, 0.005, 0.999])  # clamped to [0.01, 0.99]
    y_res, y_motion = torch.randn(2, 2, 4, 4), torch.randn(2, 2, 4, 4)
    out = head.decode_inter(y_res, y_motion, x_pred, x_pred, x_own)
    w = 1.0 / (1.0 + math.exp(2.0))
    expected = w * x_own + (1.0 - w) * x_pred.clamp(0.01, 0.99)
    assert torch.allclose(out, expected, atol=1e-5)


def test_mmse_frame_start_is_a_logit_residual_on_the_mmse_frame():
    # Same zero-weight check as above: the synthesis is the clamped MMSE *frame*, and the
    # prediction no longer enters; without the frame the head says what it needs.
    head = OwnPastHead(1, 8, 4, 2, 2, 8, 3, synthesis_start="mmse_frame")
    with torch.no_grad():
        head.fusion[-1].weight.zero_()
    x_own, x_pred, x_mmse = (torch.rand(2, 1, 32, 32) for _ in range(3))
    y_res, y_motion = torch.randn(2, 2, 4, 4), torch.randn(2, 2, 4, 4)
    out = head.decode_inter(y_res, y_motion, x_pred, x_pred, x_own, x_mmse=x_mmse)
    w = 1.0 / (1.0 + math.exp(2.0))
    expected = w * x_own + (1.0 - w) * x_mmse.clamp(0.01, 0.99)
    assert torch.allclose(out, expected, atol=1e-5)
    with pytest.raises(ValueError, match="x_mmse"):
        head.decode_inter(y_res, y_motion, x_pred, x_pred, x_own)


def test_own_start_synthesis_is_a_logit_residual_on_the_own_past():
    # Zero fusion weights: synthesis = the clamped own warped past, so the head outputs its own
    # past whatever the gate (here 12 % on the raw warp, 88 % on the clamped one).
    head = OwnPastHead(1, 8, 4, 2, 2, 8, 3, synthesis_start="own")
    with torch.no_grad():
        head.fusion[-1].weight.zero_()
    x_own, x_pred = torch.rand(2, 1, 32, 32), torch.rand(2, 1, 32, 32)
    x_own[0, 0, 0, :2] = torch.tensor([0.0, 1.0])  # clamped to [0.01, 0.99] in the synthesis
    y_res, y_motion = torch.randn(2, 2, 4, 4), torch.randn(2, 2, 4, 4)
    out = head.decode_inter(y_res, y_motion, x_pred, x_pred, x_own)
    w = 1.0 / (1.0 + math.exp(2.0))
    expected = w * x_own + (1.0 - w) * x_own.clamp(0.01, 0.99)
    assert torch.allclose(out, expected, atol=1e-5)
    assert (out - x_own).abs().max() < 0.01  # the continuation of its own past


def test_mmse_frame_start_heads_begin_at_the_mmse_heads_frames():
    # An untrained mmse_frame head is the MMSE head's P-frame up to the small initial fusion
    # weights and the gate's 12 % on its own past; the mmse (prediction) start is not.
    torch.manual_seed(0)
    frames = clip(2, 1, 64, 64, frames=3)
    errs = {}
    for start in ("mmse", "mmse_frame"):
        torch.manual_seed(1)
        net = tiny_fixed(synthesis_start=start).eval()
        with torch.no_grad():
            out = net.forward_heads(frames)["x_hat"]
        errs[start] = max(
            (out["fmd"][t] - out["mse"][t].clamp(0, 1)).abs().mean().item() for t in (1, 2)
        )
        assert all(0.0 <= out["fmd"][t].min() and out["fmd"][t].max() <= 1.0 for t in (1, 2))
    assert errs["mmse_frame"] < 0.5 * errs["mmse"]


def test_synthesis_start_is_decode_time_only():
    from compressai_plf.io.weights_hash import weights_hash

    torch.manual_seed(0)
    a = tiny_fixed()
    torch.manual_seed(0)
    b = tiny_fixed(synthesis_start="mmse")
    assert a.config["synthesis_start"] == "none" and b.config["synthesis_start"] == "mmse"
    assert weights_hash(a) == weights_hash(b)  # same encoder side: same bitstream identity


def test_synthesis_start_per_head():
    # One start per head: each head is built with its own start and decodes exactly as a
    # head of a one-start model with that start and the same weights does.
    torch.manual_seed(0)
    mixed = tiny_fixed(synthesis_start={"jd": "mmse", "fmd": "mmse_frame", "sa": "none"})
    assert [mixed.head(h).synthesis_start for h in PERCEPTUAL] == ["mmse", "mmse_frame", "none"]
    assert mixed.config["synthesis_start"] == {"jd": "mmse", "fmd": "mmse_frame", "sa": "none"}
    frames = clip(2, 1, 64, 64, frames=3)
    mixed.eval()
    with torch.no_grad():
        out = mixed.forward_heads(frames)["x_hat"]
    for start, head in (("mmse", "jd"), ("mmse_frame", "fmd")):
        single = tiny_fixed(synthesis_start=start).eval()
        weights = {k: v for k, v in mixed.state_dict().items() if k != "_extra_state"}
        got = single.load_state_dict(weights, strict=False)  # its config differs, not its tensors
        assert got.missing_keys == ["_extra_state"] and got.unexpected_keys == []
        with torch.no_grad():
            ref = single.forward_heads(frames)["x_hat"][head]
        assert all(torch.equal(a, b) for a, b in zip(out[head], ref, strict=True)), head
    # the mapping survives a state-dict round trip
    rebuilt = ScaleSpaceFlowPLF.from_state_dict(mixed.state_dict())
    assert rebuilt.config["synthesis_start"] == mixed.config["synthesis_start"]
    # the config is a copy: changing it changes neither the heads nor what is saved
    mixed.config["synthesis_start"]["fmd"] = "none"
    assert mixed.config["synthesis_start"]["fmd"] == "mmse_frame"
    # heads named in another order are stored in the decoders' order; one start for every
    # head is stored as that start, equal to the string form
    reordered = tiny_fixed(synthesis_start={"sa": "none", "fmd": "mmse", "jd": "mmse"})
    assert list(reordered.config["synthesis_start"]) == ["jd", "fmd", "sa"]
    uniform = tiny_fixed(synthesis_start={"sa": "mmse", "fmd": "mmse", "jd": "mmse"})
    assert uniform.config["synthesis_start"] == "mmse"
    tiny_fixed(synthesis_start="mmse").load_state_dict(uniform.state_dict())
    with pytest.raises(ValueError, match="MMSE head"):
        tiny_fixed(synthesis_start={"mse": "mmse", "jd": "mmse", "fmd": "mmse", "sa": "mmse"})
    with pytest.raises(ValueError, match="needs head_arch='own_past'"):
        tiny_fixed(head_arch="residual", perceptual_iframe="per_head", synthesis_start="mmse")
    with pytest.raises(ValueError, match=r"missing \['sa'\]"):
        tiny_fixed(synthesis_start={"jd": "mmse", "fmd": "mmse"})
    with pytest.raises(ValueError, match=r"not heads \['gan'\]"):
        tiny_fixed(synthesis_start={"jd": "none", "fmd": "none", "sa": "none", "gan": "none"})
    with pytest.raises(ValueError, match="for head 'fmd'"):
        tiny_fixed(synthesis_start={"jd": "none", "fmd": "x_pred", "sa": "none"})


def test_mmse_chain_slices_per_clip():
    torch.manual_seed(0)
    net = tiny_fixed().eval()
    frames = clip(4, 1, 64, 64)
    chain = net.mmse_chain(frames)
    part = chain.batch_slice(1, 3)
    whole = net.decode_heads(chain, ("jd",))["jd"]
    sliced = net.decode_heads(part, ("jd",))["jd"]
    assert all(torch.allclose(w[1:3], s, atol=1e-6) for w, s in zip(whole, sliced, strict=True))
    assert part.likelihoods[0]["keyframe"]["y"].shape[0] == 2
