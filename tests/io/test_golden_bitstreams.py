"""Golden bitstreams: every shipped weight file codes fixed test clips to pinned bytes.

As CompressAI pins its models' outputs, the md5 of each shipped model's containers (the
bytes ``write_clip`` writes) and of its decoded frames (every head, rounded to 8 bits) are
stored in ``golden_bitstreams.json``. A change in coding, in the container layout or in
decoding fails here. After an intended change, regenerate with
``COMPRESSAI_PLF_REGEN_GOLDEN=1 python -m pytest tests/io/test_golden_bitstreams.py`` and
say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest
import torch

from compressai_plf.datasets import MovingMNIST
from compressai_plf.io import decode_clip_heads, encode_clip
from compressai_plf.zoo import ssf_plf
from compressai_plf.zoo.pretrained import WEIGHTS_DIR

GOLDEN = Path(__file__).with_name("golden_bitstreams.json")
REGEN = os.environ.get("COMPRESSAI_PLF_REGEN_GOLDEN") == "1"
SHIPPED = sorted(WEIGHTS_DIR.glob("ssf_plf-*.pth.tar"))
NAME = re.compile(r"ssf_plf-(hyperprior|fixed)-mse-q(\d)\.pth\.tar")
#: Moving MNIST test clips coded per weight file (3 frames each).
CLIPS = 2


def _digests(path: Path, mnist_root: Path) -> dict[str, str]:
    mode, quality = NAME.fullmatch(path.name).groups()
    net = ssf_plf(int(quality), family="mmnist", rate_mode=mode, pretrained=True).eval()
    net.update(force=True)
    ds = MovingMNIST(mnist_root, split="test", test_size=CLIPS)
    containers, decoded = hashlib.md5(), hashlib.md5()
    for i in range(CLIPS):
        data = encode_clip(net, torch.stack(ds[i]))
        containers.update(data)
        heads = decode_clip_heads(data, net)
        for name in sorted(heads):
            for frame in heads[name]:
                decoded.update(name.encode())
                decoded.update((frame * 255).round().to(torch.uint8).numpy().tobytes())
    return {"containers": containers.hexdigest(), "decoded": decoded.hexdigest()}


def test_every_shipped_weight_file_is_pinned():
    if REGEN:
        pytest.skip("regenerating")
    pinned = json.loads(GOLDEN.read_text())
    assert sorted(pinned) == [p.name for p in SHIPPED]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
@torch.no_grad()
def test_golden_bitstream(path, mnist_root):
    torch.set_num_threads(1)  # one summation order, as the pinned digests were made
    got = _digests(path, mnist_root)
    pinned = json.loads(GOLDEN.read_text()) if GOLDEN.is_file() else {}
    if REGEN:
        pinned[path.name] = got
        GOLDEN.write_text(json.dumps(dict(sorted(pinned.items())), indent=2) + "\n")
        return
    assert path.name in pinned, f"{path.name} has no golden digests: regenerate (see module doc)"
    assert got == pinned[path.name]
