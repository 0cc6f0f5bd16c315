"""Raw YUV 4:2:0 reader/writer: names, conversion, round trips, errors."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch
from compressai.datasets.rawvideo import get_raw_video_file_info

from compressai_plf.datasets import (
    YUVFormatError,
    YUVInfo,
    parse_yuv_name,
    read_yuv420,
    rgb_to_yuv420,
    write_yuv420,
    yuv420_name,
)


def _constant_planes(t, h, w, y, u, v):
    return (
        np.full((t, h, w), y, np.uint8),
        np.full((t, h // 2, w // 2), u, np.uint8),
        np.full((t, h // 2, w // 2), v, np.uint8),
    )


def test_name_parsing():
    assert parse_yuv_name("foreman_352x288_25Hz_8bit_P420.yuv") == YUVInfo(352, 288, Fraction(25))
    assert parse_yuv_name("clip_448x256_30fps.yuv") == YUVInfo(448, 256, Fraction(30))
    info = parse_yuv_name("/x/a_1920x1080_29.97Hz_8bit_yuv420p.yuv")
    assert info.fps == Fraction(30000, 1001) and info.frame_bytes == 1920 * 1080 * 3 // 2
    assert parse_yuv_name("plain_64x32.yuv").fps is None
    assert yuv420_name("clip", 448, 256, 30) == "clip_448x256_30Hz_8bit_P420.yuv"


@pytest.mark.parametrize(
    "name", ["foreman_352x288_25Hz_8bit_P420.yuv", "a_1920x1080_59.94Hz_8bit_P420.yuv"]
)
def test_name_parsing_agrees_with_compressai(name):
    ref = get_raw_video_file_info(name)
    ours = parse_yuv_name(name)
    assert (ours.width, ours.height, ours.fps) == (ref["width"], ref["height"], ref["framerate"])


@pytest.mark.parametrize(
    "name, match",
    [
        ("clip.yuv", "WxH"),
        ("a_64x64_30Hz_10bit_P420.yuv", "10-bit"),
        ("a_64x64_yuv420p10le.yuv", "10-bit"),
        ("a_64x64_30Hz_8bit_P444.yuv", "4:2:0"),
        ("a_63x64_30Hz.yuv", "even"),
    ],
)
def test_bad_names(name, match):
    with pytest.raises(ValueError, match=match):
        parse_yuv_name(name)


@pytest.mark.parametrize(
    "name, chroma",
    [
        ("a_64x64_30Hz_8bit_y444.yuv", "yuv444"),  # CompressAI's fourcc names
        ("a_64x64_30Hz_8bit_y42B.yuv", "yuv422"),
        ("a_64x64_422_30Hz.yuv", "yuv422"),  # bare numbers
        ("a_64x64_444.yuv", "yuv444"),
        ("a_64x64_30Hz_8bit_I444.yuv", "yuv444"),
        ("a_64x64_yuv422p.yuv", "yuv422"),
        ("a_64x64_8bit_P400.yuv", "yuv400"),
        ("a_64x64_30Hz_YUYV.yuv", "packed yuv422"),
        ("a_64x64_30Hz_NV12.yuv", "semi-planar yuv420"),
    ],
)
def test_non_420_names_refused(name, chroma):
    with pytest.raises(YUVFormatError, match=rf"is {chroma} \(token .*only planar YUV 4:2:0"):
        parse_yuv_name(name)


@pytest.mark.parametrize(
    "name, info",
    [
        ("a_64x64_i420.yuv", YUVInfo(64, 64)),
        ("a_64x64_yuv420p.yuv", YUVInfo(64, 64)),
        ("a_64x64_420_30Hz.yuv", YUVInfo(64, 64, Fraction(30))),
        ("a_444x422_30Hz.yuv", YUVInfo(444, 422, Fraction(30))),  # sizes, not formats
    ],
)
def test_420_spellings_accepted(name, info):
    assert parse_yuv_name(name) == info


def test_444_file_sized_like_420_frames_is_refused(tmp_path):
    # Two 8x8 4:4:4 frames (384 bytes) are also four whole 4:2:0 frames: only the name tells.
    path = tmp_path / "c_8x8_30Hz_8bit_y444.yuv"
    path.write_bytes(bytes(2 * 8 * 8 * 3))
    with pytest.raises(YUVFormatError, match="y444"):
        read_yuv420(path)


def test_bt709_conversion_by_hand(tmp_path):
    path = tmp_path / yuv420_name("c", 8, 6)
    write_yuv420(path, _constant_planes(2, 6, 8, 200, 90, 240))
    rgb = read_yuv420(path, clamp=False)
    y, cb, cr = 200 / 255, 90 / 255, 240 / 255
    kr, kb = 0.2126, 0.0722
    r = y + 2 * (1 - kr) * (cr - 0.5)
    b = y + 2 * (1 - kb) * (cb - 0.5)
    g = (y - kr * r - kb * b) / (1 - kr - kb)
    expected = torch.tensor([r, g, b]).view(1, 3, 1, 1).expand(2, 3, 6, 8)
    assert torch.allclose(rgb, expected, atol=1e-5)
    assert r > 1  # out of gamut: clamp=True must clip it
    assert read_yuv420(path).max() == 1.0


def test_planes_written_in_order(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 256, (2, 4, 6), dtype=np.uint8)
    u = rng.integers(0, 256, (2, 2, 3), dtype=np.uint8)
    v = rng.integers(0, 256, (2, 2, 3), dtype=np.uint8)
    path = tmp_path / "p_6x4.yuv"
    write_yuv420(path, (y, u, v))
    data = path.read_bytes()
    assert data == b"".join(p[i].tobytes() for i in range(2) for p in (y, u, v))


def test_rgb_round_trip(tmp_path):
    torch.manual_seed(0)
    colors = torch.rand(4, 3, 1, 1)
    rgb = colors.expand(4, 3, 16, 24).contiguous()
    path = tmp_path / yuv420_name("rt", 24, 16)
    write_yuv420(path, rgb)
    back = read_yuv420(path)
    assert back.shape == (4, 3, 16, 24)
    assert (back - rgb).abs().max() < 2.5 / 255  # 8-bit quantisation of Y, Cb, Cr
    y, u, v = rgb_to_yuv420(rgb)
    assert y.shape == (4, 16, 24) and u.shape == v.shape == (4, 8, 12) and y.dtype == np.uint8


def test_matches_compressai_eval_tool(data_root):
    from compressai.datasets.rawvideo import RawVideoSequence
    from compressai.utils.video.eval_model.__main__ import convert_yuv420_to_rgb

    path = data_root / "video" / "yuv" / "foreman_352x288_25Hz_8bit_P420.yuv"
    seq = RawVideoSequence.from_file(str(path))
    ours = read_yuv420(path, start=3, count=2, clamp=False)
    assert len(seq) == 16
    for i in range(2):
        ref = convert_yuv420_to_rgb(seq[3 + i], torch.device("cpu"), 255)
        assert torch.allclose(ours[i : i + 1], ref, atol=1e-6)


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_yuv420(tmp_path / "none_8x8.yuv")
    bad = tmp_path / "bad_8x8_30Hz.yuv"
    bad.write_bytes(bytes(96 + 10))  # one 8x8 4:2:0 frame is 96 bytes
    with pytest.raises(ValueError, match="not a multiple"):
        read_yuv420(bad)
    good = tmp_path / "good_8x8_30Hz.yuv"
    good.write_bytes(bytes(96 * 3))
    assert read_yuv420(good).shape == (3, 3, 8, 8)
    assert read_yuv420(good, width=4, height=4).shape == (12, 3, 4, 4)
    with pytest.raises(ValueError, match="outside"):
        read_yuv420(good, start=2, count=2)
    with pytest.raises(ValueError, match="uint8"):
        write_yuv420(tmp_path / "x_8x8.yuv", (np.zeros((1, 8, 8)),) * 3)
    with pytest.raises(ValueError, match="chroma"):
        write_yuv420(tmp_path / "x_8x8.yuv", _constant_planes(1, 8, 8, 0, 0, 0)[:1] * 3)
    with pytest.raises(ValueError, match="RGB"):
        write_yuv420(tmp_path / "x_8x8.yuv", torch.zeros(1, 1, 8, 8))
