import math
import re

import numpy as np
import pytest
import torch
from scipy import ndimage

from compressai_plf.anchors import (
    X264LowDelayP,
    X265LowDelayP,
    encoder_available,
    ffmpeg_available,
    frames_to_planes,
    planes_to_frames,
)
from compressai_plf.anchors.ffmpeg import run_tool
from compressai_plf.datasets import YUVFormatError

CODECS = [
    pytest.param(
        X264LowDelayP,
        marks=pytest.mark.skipif(
            not encoder_available("libx264"), reason="ffmpeg/ffprobe with libx264 not found"
        ),
    ),
    pytest.param(
        X265LowDelayP,
        marks=pytest.mark.skipif(
            not encoder_available("libx265"), reason="ffmpeg/ffprobe with libx265 not found"
        ),
    ),
]


def _clip(t=6, channels=1, step=2):
    # Smooth texture translated `step` pixels per frame: cheap to predict, hard to code intra.
    rng = np.random.default_rng(0)
    base = ndimage.gaussian_filter(rng.random((channels, 100, 100)), (0, 3, 3))
    base = (base - base.min()) / (base.max() - base.min())
    frames = [base[:, 10 : 10 + 64, step * i : step * i + 64] for i in range(t)]
    return torch.tensor(np.stack(frames), dtype=torch.float32)


def _nal_types(stream: bytes, hevc: bool) -> list[int]:
    starts = [m.end() for m in re.finditer(b"\x00\x00\x01", stream)]
    return [(stream[i] >> 1) & 0x3F if hevc else stream[i] & 0x1F for i in starts]


def _psnr(a, b):
    return 10 * math.log10(1 / ((a - b) ** 2).mean().item())


@pytest.mark.parametrize("codec", CODECS)
def test_gray_clip_round_trip_and_bits(codec):
    x = _clip()
    hi = codec(quality=18).encode_frames(x)
    lo = codec(quality=40).encode_frames(x)
    assert hi.recon.shape == x.shape and len(hi.frame_bits) == 6
    assert sum(hi.frame_bits) == hi.bits == 8 * len(hi.bitstream)
    assert _psnr(hi.recon, x) > 35 and _psnr(hi.recon, x) > _psnr(lo.recon, x)
    assert lo.bits < hi.bits
    # No range conversion on the way back (limited-range expansion would shift the mean).
    assert abs(hi.recon.mean() - x.mean()) < 0.003
    # Low-delay P: the intra frame is the most expensive; P-frames are cheap.
    assert hi.frame_bits[0] > max(hi.frame_bits[1:])
    assert hi.bitrate_kbps == pytest.approx(hi.bits * 25 / 6 / 1000)
    assert hi.bpp == pytest.approx(hi.bits / (6 * 64 * 64))
    # Deterministic.
    assert codec(quality=18).encode_frames(x).bitstream == hi.bitstream


@pytest.mark.skipif(not encoder_available("libx264"), reason="ffmpeg with libx264 not found")
def test_x264_qp0_is_lossless_on_8bit_values():
    x = (_clip(t=3) * 255).round() / 255
    res = X264LowDelayP(quality=0, rate_control="qp").encode_frames(x)
    assert torch.equal(res.recon, x)


@pytest.mark.parametrize("codec", CODECS)
def test_headers_stripped_and_fixed_gop(codec):
    hevc = codec is X265LowDelayP
    res = codec(quality=30, keyint=3).encode_frames(_clip(t=7))
    types = _nal_types(res.bitstream, hevc)
    sei = {39, 40} if hevc else {6}
    assert not sei & set(types), f"SEI NAL units left: {types}"
    assert b"x264" not in res.bitstream and b"x265" not in res.bitstream
    intra = [t for t in types if (16 <= t <= 23 if hevc else t == 5)]
    assert len(intra) == 3  # frames 0, 3, 6
    only_first = codec(quality=30).encode_frames(_clip(t=7))
    intra = [
        t for t in _nal_types(only_first.bitstream, hevc) if (16 <= t <= 23 if hevc else t == 5)
    ]
    assert len(intra) == 1


@pytest.mark.parametrize("codec", CODECS)
def test_rgb_clip(codec):
    x = _clip(t=3, channels=3)
    res = codec(quality=15, psnr_tune=True).encode_frames(x)
    assert res.recon.shape == x.shape and len(res.recon_planes[0]) == 3
    assert _psnr(res.recon, x) > 30


def test_rgb_planes_round_trip_without_coding():
    x = _clip(t=2, channels=3)
    planes, pix_fmt = frames_to_planes(x)
    assert pix_fmt == "yuv420p" and [p.shape for p in planes[0]] == [(64, 64), (32, 32), (32, 32)]
    assert _psnr(planes_to_frames(planes), x) > 38  # only 8-bit rounding and 4:2:0 chroma loss
    gray, fmt = frames_to_planes(x[:, :1])
    assert fmt == "gray" and torch.equal(planes_to_frames(gray), (x[:, :1] * 255).round() / 255)


@pytest.mark.parametrize("codec", CODECS)
def test_yuv_file(codec, data_root):
    path = data_root / "video" / "yuv" / "src01_160x90_25Hz_8bit_P420.yuv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    res = codec(quality=23).encode_yuv_file(path, max_frames=4)
    assert res.recon.shape == (4, 3, 90, 160) and res.fps == 25
    src = np.fromfile(path, dtype=np.uint8, count=160 * 90)[: 160 * 90].reshape(90, 160)
    mse = ((res.recon_planes[0][0].astype(float) - src) ** 2).mean()
    assert 10 * math.log10(255**2 / mse) > 30


@pytest.mark.parametrize("fmt", ["y444", "y42B", "422", "P444"])
def test_yuv_file_other_than_420_refused(tmp_path, fmt):
    # 384 bytes: whole 8x8 frames in 4:2:0, 4:2:2 and 4:4:4 alike, so only the name can tell.
    path = tmp_path / f"c_8x8_30Hz_8bit_{fmt}.yuv"
    path.write_bytes(bytes(384))
    with pytest.raises(YUVFormatError, match="only planar YUV 4:2:0"):
        X264LowDelayP().encode_yuv_file(path)


def test_bad_input():
    with pytest.raises(ValueError, match="quality"):
        X264LowDelayP(quality=60)
    with pytest.raises(ValueError, match="rate_control"):
        X264LowDelayP(rate_control="abr")
    with pytest.raises(ValueError, match="keyint"):
        X265LowDelayP(keyint=0)
    with pytest.raises(ValueError, match="even"):
        frames_to_planes(torch.rand(2, 3, 63, 64))
    with pytest.raises(ValueError, match="T, C, H, W"):
        frames_to_planes(torch.rand(1, 2, 3, 64, 64))
    with pytest.raises(ValueError, match="channels"):
        frames_to_planes(torch.rand(2, 2, 64, 64))


def test_missing_tool_is_a_clear_error():
    with pytest.raises(RuntimeError, match="not found"):
        run_tool(["no-such-ffmpeg-binary-xyz", "-version"])
    assert isinstance(ffmpeg_available(), bool)
