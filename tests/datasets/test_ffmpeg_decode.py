"""ffmpeg decoding agrees with the pure-numpy y4m reader."""

from __future__ import annotations

import numpy as np
import pytest

from compressai_plf.datasets import decode_video, ffmpeg_available, read_y4m, write_y4m

needs_ffmpeg = pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg/ffprobe not installed")


@needs_ffmpeg
def test_gray_matches_y4m_reader(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 256, (4, 6, 10), dtype=np.uint8)
    write_y4m(tmp_path / "a.y4m", y)
    assert np.array_equal(decode_video(tmp_path / "a.y4m"), y)


@needs_ffmpeg
def test_shared_kth_clip(data_root):
    path = data_root / "video" / "kth" / "person01_running_d1_seg1.y4m"
    assert np.array_equal(decode_video(path), read_y4m(path).y)
    rgb = decode_video(path, pix_fmt="rgb24")
    assert rgb.shape == (35, 120, 160, 3)


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="pix_fmt"):
        decode_video(tmp_path / "a.avi", pix_fmt="yuv444p")
    with pytest.raises(FileNotFoundError):
        decode_video(tmp_path / "a.avi")


@needs_ffmpeg
def test_not_a_video(tmp_path):
    (tmp_path / "a.avi").write_bytes(b"not a video at all")
    with pytest.raises(ValueError, match="no video stream"):
        decode_video(tmp_path / "a.avi")


def test_missing_ffmpeg(tmp_path, monkeypatch):
    (tmp_path / "a.avi").write_bytes(b"x")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(RuntimeError, match="ffmpeg"):
        decode_video(tmp_path / "a.avi")
