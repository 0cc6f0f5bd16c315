"""Zoo files leave out the Gaussian conditionals' CDF tables; the loader rebuilds them."""

from __future__ import annotations

import torch

from compressai_plf.models import ScaleSpaceFlowPLF
from compressai_plf.zoo.gaussian_tables import (
    DERIVED,
    restore_gaussian_tables,
    strip_gaussian_tables,
)
from compressai_plf.zoo.presets import tiny_architecture


def test_strip_then_restore_gives_the_encoder_tables_back():
    torch.manual_seed(0)
    net = ScaleSpaceFlowPLF(**tiny_architecture("hyperprior"))
    net.update(force=True)
    full = net.state_dict()
    stripped = strip_gaussian_tables(full)
    removed = set(full) - set(stripped)
    assert removed and all(
        "gaussian_conditional" in k and k.split(".")[-1] in DERIVED for k in removed
    )
    assert any(k.endswith("entropy_bottleneck._quantized_cdf") for k in stripped)  # trained: kept
    restored = restore_gaussian_tables(stripped)
    assert set(restored) == set(full)
    for k in removed:
        assert torch.equal(restored[k], full[k]), k
    # a bitstream written with the full model decodes identically with the restored one
    back = ScaleSpaceFlowPLF.from_state_dict(restored).eval()
    frames = [torch.rand(1, 3, 64, 64) for _ in range(2)]
    strings, shapes = net.eval().compress(frames)
    for a, b in zip(net.decompress(strings, shapes), back.decompress(strings, shapes), strict=True):
        assert torch.equal(a, b)


def test_restore_leaves_complete_state_dicts_alone():
    net = ScaleSpaceFlowPLF(**tiny_architecture("hyperprior"))
    net.update(force=True)
    full = net.state_dict()
    restored = restore_gaussian_tables(full)
    assert all(restored[k] is full[k] for k in full)


def test_shipped_hyperprior_file_loads_through_from_state_dict():
    from compressai_plf.zoo import ssf_plf
    from compressai_plf.zoo.pretrained import weights_path

    path = weights_path(5, "mse", "hyperprior", "mmnist")
    if not path.is_file():
        import pytest

        pytest.skip(f"{path} is not shipped")
    state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    assert not any(k.endswith("gaussian_conditional._quantized_cdf") for k in state)  # stripped
    net = ScaleSpaceFlowPLF.from_state_dict(state).eval()
    zoo = ssf_plf(5, family="mmnist", pretrained=True).eval()
    torch.manual_seed(0)
    frames = [torch.rand(1, 1, 64, 64) for _ in range(2)]
    with torch.no_grad():
        strings, shapes = net.compress(frames)
        assert strings == zoo.compress(frames)[0]
        for a, b in zip(
            net.decompress(strings, shapes), zoo.decompress(strings, shapes), strict=True
        ):
            assert torch.equal(a, b)
