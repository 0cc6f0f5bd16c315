"""Every weight file shipped in the package loads as its zoo entry and codes real clips well."""

from __future__ import annotations

import re

import pytest
import torch

from compressai_plf.datasets import MovingMNIST
from compressai_plf.zoo import ssf_plf
from compressai_plf.zoo.presets import architecture
from compressai_plf.zoo.pretrained import WEIGHTS_DIR

SHIPPED = sorted(WEIGHTS_DIR.glob("ssf_plf-*.pth.tar"))
NAME = re.compile(r"ssf_plf-(?:(natural)-)?(hyperprior|fixed)-mse-q(\d)\.pth\.tar")


def test_weight_budget():
    sizes = sum(p.stat().st_size for p in WEIGHTS_DIR.parent.parent.rglob("*.pth.tar"))
    assert SHIPPED and sizes < 25e6  # issue #7: all shipped weights under 25 MB


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
@torch.no_grad()
def test_shipped_entry_codes_test_clips_better_than_a_black_frame(path, mnist_root):
    family, mode, quality = NAME.fullmatch(path.name).groups()
    family = family or "mmnist"  # the Moving MNIST files' names carry no family
    torch.set_num_threads(1)
    net = ssf_plf(int(quality), family=family, rate_mode=mode, pretrained=True).eval()
    for key, value in architecture(int(quality), mode, family).items():
        assert net.config[key] == value, key
    if family == "natural":
        pytest.skip("natural-family files are checked on natural clips (none shipped yet)")
    ds = MovingMNIST(mnist_root, split="test")
    errors, energy = [], []
    for i in range(4):
        frames = [f.unsqueeze(0) for f in ds[i]]
        strings, shapes = net.compress(frames)
        decoded = net.decompress(strings, shapes)
        errors += [float(((a - b) ** 2).mean()) for a, b in zip(frames, decoded, strict=True)]
        energy += [float((a**2).mean()) for a in frames]
    # Baseline: decoding all-black frames. An untrained model (sigmoid outputs near 0.5) is far
    # above it. A 12-bit I-frame carries little more than the digit's place (a blurry blob,
    # about 0.65 of the black error), entropy-coded latents far more.
    bound = 0.8 if mode == "fixed" else 0.25
    assert sum(errors) < bound * sum(energy)
