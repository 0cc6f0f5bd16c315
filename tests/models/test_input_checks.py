"""Bad input at the Python API is refused by name, at construction or at the call (issue 17)."""

from __future__ import annotations

import pytest
import torch

from compressai_plf.models import FrameGeometryError
from compressai_plf.zoo import ssf_plf

from .conftest import tiny_fixed, tiny_hyperprior


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_frames_of_another_float_dtype_are_refused_by_name(dtype):
    net = tiny_fixed().eval()
    frames = [torch.rand(1, 1, 64, 64, dtype=dtype) for _ in range(2)]
    with pytest.raises(TypeError, match=f"frame 0 is {dtype}, the model's weights are"):
        net.compress(frames)
    with pytest.raises(TypeError, match=str(dtype)):
        net(frames)


@pytest.mark.parametrize("shape", [(0, 1, 64, 64), (1, 1, 0, 0), (1, 1, 0, 64)])
def test_empty_batches_and_frames_are_refused(shape):
    net = tiny_fixed().eval()
    with pytest.raises(ValueError, match="must not be empty"):
        net.compress([torch.rand(*shape)])


def test_a_bool_is_not_a_quality():
    with pytest.raises(ValueError, match="Invalid quality value \\(True\\)"):
        ssf_plf(True)


@pytest.mark.parametrize(
    ("option", "value", "match"),
    [
        ("mid_planes", 0, "mid_planes must be an int >= 1"),
        ("latent_planes", 0, "latent_planes must be an int >= 1"),
        ("mid_planes", 2.5, "mid_planes must be an int >= 1"),
        ("sigma0", -1.0, "sigma0 must be a finite number > 0"),
        ("sigma0", float("nan"), "sigma0 must be a finite number > 0"),
        ("dither_seed", -1, "dither_seed must be an int in \\[0, 2\\*\\*32\\)"),
        ("dither_seed", 2**40, "dither_seed must be an int in"),
        ("dither_seed", 1.5, "dither_seed must be an int in"),
    ],
)
def test_construction_refuses_bad_options(option, value, match):
    with pytest.raises(ValueError, match=match):
        tiny_fixed(**{option: value})


def test_compress_refuses_a_non_integer_seed_and_a_hyperprior_seed():
    frames = [torch.rand(1, 1, 64, 64) for _ in range(2)]
    fixed = tiny_fixed().eval()
    for seed in (1.5, -1, 2**32, True):
        with pytest.raises(ValueError, match="seed must be an int in"):
            fixed.compress(frames, seed=seed)
    strings, _ = fixed.compress(frames, seed=7)
    assert int.from_bytes(strings[0][1][0], "big") == 7
    hyper = tiny_hyperprior().eval()
    hyper.update(force=True)
    with pytest.raises(ValueError, match="hyperprior streams carry no dither"):
        hyper.compress([torch.rand(1, 3, 64, 64)], seed=5)


def _coded(net, frames):
    net.update(force=True)
    x_ref, key = net.encode_keyframe(frames[0])
    _, inter = net.encode_inter(frames[1], x_ref)
    return x_ref, key, inter


@pytest.mark.parametrize("make", [tiny_hyperprior, tiny_fixed], ids=["hyperprior", "fixed"])
@pytest.mark.parametrize("bad", ["channels", "size"])
@torch.no_grad()
def test_every_per_frame_coding_call_refuses_bad_geometry_by_name(make, bad):
    net = make().eval()
    good = [torch.rand(1, net.channels, 64, 64) for _ in range(2)]
    x_ref, key, inter = _coded(net, good)
    c, size = net.channels, 64
    if bad == "channels":
        c = 1 if net.channels == 3 else 3
    else:
        size = 64 + net.size_multiple // 2 if net.size_multiple > 1 else 65
    wrong = torch.rand(1, c, size, size)
    match = "channels, the model expects" if bad == "channels" else "is not a multiple of"
    calls = {
        "encode_keyframe": lambda: net.encode_keyframe(wrong),
        "encode_inter x_cur": lambda: net.encode_inter(wrong, x_ref),
        "encode_inter x_ref": lambda: net.encode_inter(good[1], wrong),
        "forward_keyframe": lambda: net.forward_keyframe(wrong),
        "forward_inter": lambda: net.forward_inter(wrong, x_ref),
        "decode_inter": lambda: net.decode_inter(wrong, inter["strings"], inter["shape"]),
        "compress": lambda: net.compress([wrong, wrong]),
        "forward": lambda: net([wrong, wrong]),
    }
    for name, call in calls.items():
        with pytest.raises(FrameGeometryError, match=match):
            call()
        assert issubclass(FrameGeometryError, ValueError), name
    # the good frames still decode (the checks change nothing else)
    assert net.decode_inter(x_ref, inter["strings"], inter["shape"]).shape == good[0].shape


def test_decode_keyframe_refuses_a_forged_shape():
    net = tiny_hyperprior().eval()
    net.update(force=True)
    _, key = net.encode_keyframe(torch.rand(1, 3, 64, 64))
    with pytest.raises(ValueError, match="shape must be two ints"):
        net.decode_keyframe(key["strings"], (0, 2))
    with pytest.raises(ValueError, match=r"key frame's shape is one pair \(h, w\)"):
        net.decode_keyframe(key["strings"], {"keyframe": (4, 4)})
    strings, shapes = net.compress([torch.rand(1, 3, 64, 64)] * 2)
    with pytest.raises(ValueError, match="key frame's shape is one pair"):
        net.decompress(strings, [{"keyframe": tuple(shapes[0])}, shapes[1]])


@pytest.mark.parametrize(
    "bad, match",
    [(float("nan"), "frame 1 contains NaN or Inf"), (-0.5, r"frame 1 must lie in \[0, 1\]")],
)
def test_clip_values_are_checked_frame_by_frame(bad, match):
    net = tiny_fixed().eval()
    frames = [torch.rand(1, 1, 64, 64) for _ in range(3)]
    frames[1][0, 0, 5, 7] = bad
    for call in (net.compress, net.compress_clip, net.forward):
        with pytest.raises(ValueError, match=match):
            call(frames)
    frames[1][0, 0, 5, 7] = 1.0005  # within the tolerance for 8-bit/YUV rounding
    net.compress(frames)
