"""Golden bitstreams: every shipped weight file codes fixed test clips to pinned bytes.

The clips are synthetic (a disk and a square outline bouncing on a 64x64 canvas, the shipped
Moving MNIST models' frame size, drawn from seeded generators; replicated to RGB for the
natural-video files), so no data set is needed.

As CompressAI pins its models' outputs, the md5 of each shipped model's containers (the
bytes ``write_clip`` writes) and of its decoded frames (every head, rounded to 8 bits) are
stored in ``golden_bitstreams.json``. A change in coding, in the container layout or in
decoding fails here. After an intended change, regenerate with
``COMPRESSAI_PLF_REGEN_GOLDEN=1 python -m pytest tests/io/test_golden_bitstreams.py`` and
say why in the commit. Float32 kernels round differently on different CPUs (Intel, AMD EPYC),
which can move an encoder output across a quantiser boundary or a decoded pixel across an
8-bit step, so an entry may hold one digest pair per CPU the files were pinned on (a list);
``COMPRESSAI_PLF_REGEN_GOLDEN=add`` appends this CPU's pair where it differs. A change in
coding still fails on every CPU.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest
import torch

from compressai_plf.datasets import bouncing_walk, render_clip
from compressai_plf.io import decode_clip_heads, encode_clip
from compressai_plf.zoo import ssf_plf
from compressai_plf.zoo.pretrained import WEIGHTS_DIR

GOLDEN = Path(__file__).with_name("golden_bitstreams.json")
REGEN = os.environ.get("COMPRESSAI_PLF_REGEN_GOLDEN") in ("1", "add")
ADD = os.environ.get("COMPRESSAI_PLF_REGEN_GOLDEN") == "add"
SHIPPED = sorted(WEIGHTS_DIR.glob("ssf_plf-*.pth.tar"))
NAME = re.compile(r"ssf_plf-(?:(natural)-)?(hyperprior|fixed)-mse-q(\d)\.pth\.tar")
#: Test clips coded per weight file: (1, 64, 64) frames, as the shipped models code.
CLIPS, FRAMES, SIZE, SHAPE = 2, 3, 64, 32


def _shapes() -> list[torch.Tensor]:
    """A soft-edged disk and a square outline, ``(SHAPE, SHAPE)`` in [0, 1]."""
    r = torch.arange(SHAPE, dtype=torch.float32) - (SHAPE - 1) / 2
    dist = (r[:, None] ** 2 + r[None, :] ** 2).sqrt()
    disk = (SHAPE / 2 - 2 - dist).clamp(0, 1)
    square = torch.zeros(SHAPE, SHAPE)
    square[4:-4, 4:-4], square[8:-8, 8:-8] = 0.8, 0.0
    return [disk, square]


def synthetic_clip(index: int) -> torch.Tensor:
    """Test clip ``index``: both shapes on seeded bouncing walks, ``(FRAMES, 1, SIZE, SIZE)``."""
    generator = torch.Generator().manual_seed(index)
    shapes = _shapes()
    paths = [bouncing_walk(FRAMES, SIZE - SHAPE, generator=generator) for _ in shapes]
    return render_clip(shapes, paths, SIZE)[:, None]


def _digests(path: Path) -> dict[str, str]:
    family, mode, quality = NAME.fullmatch(path.name).groups()
    family = family or "mmnist"  # the Moving MNIST files' names carry no family
    net = ssf_plf(int(quality), family=family, rate_mode=mode, pretrained=True).eval()
    net.update(force=True)
    containers, decoded = hashlib.md5(), hashlib.md5()
    for i in range(CLIPS):
        data = encode_clip(net, synthetic_clip(i).expand(-1, net.channels, -1, -1))
        containers.update(data)
        heads = decode_clip_heads(data, net)
        for name in sorted(heads):
            for frame in heads[name]:
                decoded.update(name.encode())
                decoded.update((frame * 255).round().to(torch.uint8).numpy().tobytes())
    return {"containers": containers.hexdigest(), "decoded": decoded.hexdigest()}


def test_synthetic_clips_are_fixed():
    # The digests pin these clips too: the same clip twice, distinct clips, moving shapes.
    clips = [synthetic_clip(i) for i in range(CLIPS)]
    assert torch.equal(clips[0], synthetic_clip(0)) and not torch.equal(*clips)
    for clip in clips:
        assert clip.shape == (FRAMES, 1, SIZE, SIZE) and 0 <= clip.min() < clip.max() <= 1
        assert not torch.equal(clip[0], clip[-1])


def test_every_shipped_weight_file_is_pinned():
    if REGEN:
        pytest.skip("regenerating")
    pinned = json.loads(GOLDEN.read_text())
    assert sorted(pinned) == [p.name for p in SHIPPED]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
@torch.no_grad()
def test_golden_bitstream(path):
    torch.set_num_threads(1)  # one summation order, as the pinned digests were made
    got = _digests(path)
    pinned = json.loads(GOLDEN.read_text()) if GOLDEN.is_file() else {}
    known = pinned.get(path.name, [])
    known = known if isinstance(known, list) else [known]  # one pair per CPU it was pinned on
    if REGEN:
        pinned[path.name] = known + [got] if ADD and got not in known else [got]
        if len(pinned[path.name]) == 1:
            pinned[path.name] = pinned[path.name][0]
        GOLDEN.write_text(json.dumps(dict(sorted(pinned.items())), indent=2) + "\n")
        return
    assert known, f"{path.name} has no golden digests: regenerate (see module doc)"
    assert got in known
