"""Every weight file shipped in the package loads as its zoo entry and codes real clips well."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from compressai_plf.datasets import MovingMNIST
from compressai_plf.datasets.raw_yuv import read_yuv420
from compressai_plf.zoo import ssf_plf
from compressai_plf.zoo.presets import architecture
from compressai_plf.zoo.pretrained import WEIGHTS_DIR

SHIPPED = sorted(WEIGHTS_DIR.glob("ssf_plf-*.pth.tar"))
NAME = re.compile(r"ssf_plf-(?:(natural)-)?(hyperprior|fixed)-mse-q(\d)\.pth\.tar")


# A natural test clip (held out of the natural family's training; docs/data.md).
FOREMAN = "video/yuv/foreman_352x288_25Hz_8bit_P420.yuv"


def _test_clips(family: str, data_root: Path) -> list[list[torch.Tensor]]:
    """Four 3-frame clips: Moving MNIST test clips, or 256x256 crops of Foreman."""
    if family == "mmnist":
        if not (data_root / "mnist" / "MNIST" / "raw").is_dir():
            pytest.skip(f"MNIST not found under {data_root / 'mnist'}")
        ds = MovingMNIST(data_root / "mnist", split="test")
        return [[f.unsqueeze(0) for f in ds[i]] for i in range(4)]
    path = data_root / FOREMAN
    if not path.is_file():
        pytest.skip(f"natural test clip not found: {path}")
    video = read_yuv420(path, count=12)  # (12, 3, 288, 352)
    return [[f[None, :, 16:272, 48:304] for f in video[3 * i : 3 * i + 3]] for i in range(4)]


def test_weight_budget():
    sizes = sum(p.stat().st_size for p in WEIGHTS_DIR.parent.parent.rglob("*.pth.tar"))
    assert SHIPPED and sizes < 25e6  # issue #7: all shipped weights under 25 MB


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
@torch.no_grad()
def test_shipped_entry_codes_test_clips_better_than_a_flat_frame(path, data_root):
    family, mode, quality = NAME.fullmatch(path.name).groups()
    family = family or "mmnist"  # the Moving MNIST files' names carry no family
    torch.set_num_threads(1)
    net = ssf_plf(int(quality), family=family, rate_mode=mode, pretrained=True).eval()
    for key, value in architecture(int(quality), mode, family).items():
        assert net.config[key] == value, key
    clips = _test_clips(family, data_root)
    errors, spread = [], []
    for frames in clips:
        strings, shapes = net.compress(frames)
        decoded = net.decompress(strings, shapes)
        errors += [float(((a - b) ** 2).mean()) for a, b in zip(frames, decoded, strict=True)]
        # Baseline: one flat frame per clip (its mean colour; black on Moving MNIST, whose
        # background is 0 and mean pixel ~0.03). An untrained model (sigmoid outputs near 0.5)
        # is far above it.
        flat = frames[0].mean(dim=(2, 3), keepdim=True) if family == "natural" else 0.0
        spread += [float(((a - flat) ** 2).mean()) for a in frames]
    # A 12-bit I-frame carries little more than the digit's place (a blurry blob, about 0.65
    # of the black error), entropy-coded latents far more.
    # Natural files: 0.022-0.024 of the flat frame's error on these Foreman crops (q3, q5).
    bound = 0.8 if mode == "fixed" else 0.05 if family == "natural" else 0.25
    assert sum(errors) < bound * sum(spread)
