"""``ssf_plf`` through the container as a codec of the evaluation loop."""

from __future__ import annotations

import pytest
import torch

from compressai_plf.eval import ClipSet, ContainerCodec, rd_sweep
from compressai_plf.io import decode_clip_heads, encode_clip, frame_bits, inspect_clip

from .conftest import tiny_fixed


@torch.no_grad()
def test_codes_a_clip_as_the_io_functions_do(tmp_path):
    net = tiny_fixed()
    clips = ClipSet.from_frames(torch.rand(2, 3, 1, 64, 64), fps=30)
    codec = ContainerCodec(net, "q", bitstream_dir=tmp_path)
    coded = codec.code(clips[1], 1)
    data = encode_clip(net, clips[1].frames)
    assert (tmp_path / "clip-00001.plf").read_bytes() == data  # kept, byte for byte
    assert coded.bytes_written == len(data)
    info = inspect_clip(data)
    assert coded.payload_bits == info.payload_bits and coded.frame_bits == frame_bits(net, info)
    expected = decode_clip_heads(data, net)
    assert list(coded.decoded) == list(codec.heads) == list(net.decoders)
    for head, frames in expected.items():
        assert torch.equal(coded.decoded[head], torch.cat(frames)), head


def test_rate_is_the_files_bytes_at_the_clip_sets_rate():
    net = tiny_fixed(decoders=("mse",))
    clips = ClipSet.from_frames(torch.rand(2, 3, 1, 64, 64), fps=30)
    codec = ContainerCodec(net, "q1")
    try:
        res = rd_sweep([codec], clips, "ssf_plf")["results"]
    finally:
        codec.close()
    size = len(encode_clip(net, clips[0].frames))  # every clip of this model has one size
    assert res["file-bytes"] == [size] and res["q"] == ["q1"]
    assert res["bitrate"][0] == pytest.approx(8 * size * 30 / 3 / 1000)
    assert res["bpp"][0] == pytest.approx(8 * size / (3 * 64 * 64))


def test_refuses_heads_the_model_lacks():
    with pytest.raises(ValueError, match="has decoder heads"):
        ContainerCodec(tiny_fixed(decoders=("mse",)), "q", heads=("jd",))
