"""The README's Python block runs as written (given a clip named ``frames``)."""

from __future__ import annotations

import re
from pathlib import Path

import torch

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_python_block_runs():
    blocks = python_blocks(README.read_text())
    assert len(blocks) == 1, "the README has one Python block; test any new one here"
    torch.set_num_threads(1)
    # The block's input: a 3-frame clip, a list of (N, C, H, W) frames in [0, 1], RGB as
    # ssf_plf(3) (the natural-video family, like ssf2020(3)) takes.
    namespace = {"frames": [torch.rand(1, 3, 64, 64) for _ in range(3)]}
    with torch.no_grad():
        exec(compile(blocks[0], str(README), "exec"), namespace)
    heads = namespace["heads"]
    assert set(heads) == {"mse", "jd", "fmd", "sa"}
    for name, decoded in heads.items():
        assert len(decoded) == 3 and decoded[0].shape == (1, 3, 64, 64), name
    # one bitstream, any head at decode time: decompress and decompress_heads agree
    assert all(torch.equal(a, b) for a, b in zip(namespace["jd"], heads["jd"], strict=True))
    assert namespace["zoo"].rate_mode == "fixed" and namespace["hp"].rate_mode == "hyperprior"
    assert namespace["net"].channels == 3 and namespace["hp"].channels == 1
