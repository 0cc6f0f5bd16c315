"""Bad input at the Python API is refused by name, at construction or at the call (issue 17)."""

from __future__ import annotations

import pytest
import torch

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
