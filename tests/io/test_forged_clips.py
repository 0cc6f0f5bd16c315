"""Forged clips (valid length and CRC-32) must be refused by name, quickly, without crashing
the process or allocating what the header asks for (issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zlib

import pytest
import torch

from compressai_plf.io import (
    BitstreamError,
    CorruptClipError,
    NotAClipError,
    decode_clip,
    encode_clip,
    read_clip,
    weights_hash,
)
from compressai_plf.io.clip import latent_size
from compressai_plf.io.container import ClipInfo, pack_clip, parse_clip

from .conftest import tiny_fixed, tiny_hyperprior

# Both 71-byte forgeries of the fault campaign, built in a child process so that a crash of
# the rANS decoder (SIGSEGV) fails the test instead of killing pytest.
_CHILD = textwrap.dedent(
    """
    import time, torch
    from compressai_plf.io import BitstreamError, decode_clip, weights_hash
    from compressai_plf.io.clip import latent_size
    from compressai_plf.io.container import ClipInfo, pack_clip
    from compressai_plf.models import ScaleSpaceFlowPLF
    from compressai_plf.zoo.presets import tiny_architecture

    torch.manual_seed(1)
    hyper = ScaleSpaceFlowPLF(**tiny_architecture("hyperprior")).eval()
    hyper.update(force=True)
    fixed = ScaleSpaceFlowPLF(**tiny_architecture("fixed")).eval()
    cases = []
    for n in (1, 8, 12):  # 1-byte strings (71 bytes in all), and rANS-sized short strings
        lat = latent_size(hyper, 256, 256)
        info = ClipInfo("ssf_plf", "", "hyperprior", 3, 1, 256, 256, lat, None, 16 * n, (n, n))
        cases.append((hyper, pack_clip(info, weights_hash(hyper), bytes(range(1, 2 * n + 1)))))
    info = ClipInfo("ssf_plf", "", "fixed", 1, 2**20, 64, 64, latent_size(fixed, 64, 64), 0, 0)
    cases.append((fixed, pack_clip(info, weights_hash(fixed), b"")))
    assert len(cases[0][1]) == len(cases[-1][1]) == 71
    for model, data in cases:
        start = time.perf_counter()
        try:
            decode_clip(data, model)
            print("DECODED")
        except BitstreamError as err:
            print(f"{type(err).__name__} {time.perf_counter() - start:.3f} {err}")
    """
)


def test_the_two_71_byte_forgeries_are_refused_quickly_without_crashing():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, f"child died ({proc.returncode}): {proc.stderr[-2000:]}"
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 4 and not any(line == "DECODED" for line in lines), proc.stdout
    for line in lines:
        name, seconds, message = line.split(" ", 2)
        assert name == "CorruptClipError", line
        assert float(seconds) < 1.0, line
    assert "not a rANS string" in lines[0]
    assert all("shorter than its" in line for line in lines[1:3])
    assert "1048576 frames" in lines[3]


def _forged_geometry(net, height: int, width: int) -> bytes:
    data = encode_clip(net, torch.rand(1, 1, 64, 64))
    info, payload = parse_clip(data)
    blob = bytearray(data[:-4])
    off = 10 + blob[9] + 22
    blob[off : off + 8] = height.to_bytes(4, "big") + width.to_bytes(4, "big")
    lat = latent_size(net, min(height, 4096), min(width, 4096))
    blob[off + 8 : off + 16] = lat[0].to_bytes(4, "big") + lat[1].to_bytes(4, "big")
    return bytes(blob) + zlib.crc32(bytes(blob)).to_bytes(4, "big")


def test_a_declared_65536x65536_frame_is_refused_before_allocating(fixed_net):
    data = _forged_geometry(fixed_net, 65536, 65536)
    tracemalloc.start()
    try:
        with pytest.raises(CorruptClipError, match="pixels per frame"):
            decode_clip(data, fixed_net)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # the frame would need 16 GiB


def test_decompress_with_a_larger_shape_than_coded_is_refused(hyper_net):
    frames = [torch.rand(1, 3, 64, 64) for _ in range(2)]
    with torch.no_grad():
        strings, shapes = hyper_net.compress(frames)
        big = [(4 * shapes[0][0], 4 * shapes[0][1])] + shapes[1:]
        with pytest.raises(ValueError, match="shorter than its"):
            hyper_net.decompress(strings, big)
        with pytest.raises(ValueError, match="more than 16777216 pixels"):
            hyper_net.decompress(strings, [(4096, 4096)] + shapes[1:])
        with pytest.raises(ValueError, match="two ints >= 1"):
            hyper_net.decompress(strings, [(0, 2)] + shapes[1:])
        # The guard changes nothing for the strings the encoder wrote.
        out = hyper_net.decompress(strings, shapes)
    assert len(out) == 2 and out[0].shape == (1, 3, 64, 64)


def test_a_fifo_is_refused_without_blocking(tmp_path, fixed_net):
    fifo = tmp_path / "clip.plf"
    os.mkfifo(fifo)
    start = time.perf_counter()
    with pytest.raises(NotAClipError, match="not a regular file"):
        read_clip(fifo, fixed_net)
    assert time.perf_counter() - start < 5


def test_a_sparse_file_longer_than_declared_is_not_read_whole(tmp_path, fixed_net):
    path = tmp_path / "clip.plf"
    path.write_bytes(encode_clip(fixed_net, torch.rand(1, 1, 64, 64)))
    os.truncate(path, 2 << 30)  # 2 GiB, sparse: the header still declares ~80 bytes
    tracemalloc.start()
    try:
        with pytest.raises(CorruptClipError, match="unexpected bytes after its declared end"):
            read_clip(path, fixed_net)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_a_file_shorter_than_declared_is_truncated_before_reading(tmp_path, fixed_net):
    data = encode_clip(fixed_net, torch.rand(1, 1, 64, 64))
    path = tmp_path / "clip.plf"
    path.write_bytes(data[:-3])
    with pytest.raises(BitstreamError, match="truncated"):
        read_clip(path, fixed_net)


def test_forged_payloads_decode_to_displayable_frames():
    torch.manual_seed(5)
    net = tiny_fixed()
    data = encode_clip(net, torch.rand(2, 1, 64, 64))
    info, payload = parse_clip(data)
    forged = pack_clip(info, weights_hash(net), bytes(b ^ 0xA5 for b in payload))
    try:
        frames = decode_clip(forged, net, "jd")
    except BitstreamError:
        pytest.skip("this forgery encodes a value outside the symbol range")
    assert all(0 <= x.min() and x.max() <= 1 for x in frames)


def test_hyperprior_strings_that_are_not_rans_output_are_refused():
    torch.manual_seed(1)
    net = tiny_hyperprior()
    data = encode_clip(net, torch.rand(1, 3, 64, 64))
    info, payload = parse_clip(data)
    y, z = info.string_lengths
    forged = ClipInfo(**{**info.__dict__, "string_lengths": (y - 1, z + 1)})
    with pytest.raises(CorruptClipError, match="not a rANS string"):
        decode_clip(pack_clip(forged, weights_hash(net), payload), net)
