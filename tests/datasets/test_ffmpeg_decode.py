"""Video decoding (PyAV) agrees with the pure-numpy y4m reader and with the ffmpeg pipe."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from compressai_plf.datasets import decode_video, pyav_available, read_y4m, write_y4m

needs_av = pytest.mark.skipif(not pyav_available(), reason="PyAV not installed")


def _ffmpeg_pipe(path, pix_fmt: str, shape: tuple[int, ...]) -> np.ndarray:
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0"]
    out = subprocess.run(cmd + ["-f", "rawvideo", "-pix_fmt", pix_fmt, "-"], capture_output=True)
    assert out.returncode == 0, out.stderr
    return np.frombuffer(out.stdout, dtype=np.uint8).reshape(-1, *shape)


@needs_av
def test_gray_matches_y4m_reader(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 256, (4, 6, 10), dtype=np.uint8)
    write_y4m(tmp_path / "a.y4m", y)
    assert np.array_equal(decode_video(tmp_path / "a.y4m"), y)


@needs_av
def test_shared_kth_clip(data_root):
    path = data_root / "video" / "kth" / "person01_running_d1_seg1.y4m"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    assert np.array_equal(decode_video(path), read_y4m(path).y)
    rgb = decode_video(path, pix_fmt="rgb24")
    assert rgb.shape == (35, 120, 160, 3)
    if shutil.which("ffmpeg"):  # the same bytes as the ffmpeg pipe this replaced
        assert np.array_equal(rgb, _ffmpeg_pipe(path, "rgb24", (120, 160, 3)))


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="pix_fmt"):
        decode_video(tmp_path / "a.avi", pix_fmt="yuv444p")
    with pytest.raises(FileNotFoundError):
        decode_video(tmp_path / "a.avi")


@needs_av
def test_not_a_video(tmp_path):
    (tmp_path / "a.avi").write_bytes(b"not a video at all")
    with pytest.raises(ValueError, match="no video stream"):
        decode_video(tmp_path / "a.avi")


def test_missing_pyav(tmp_path, monkeypatch):
    (tmp_path / "a.avi").write_bytes(b"x")
    monkeypatch.setitem(sys.modules, "av", None)  # import av raises ImportError
    assert not pyav_available()
    with pytest.raises(RuntimeError, match="PyAV"):
        decode_video(tmp_path / "a.avi")
