"""Decode any video file ffmpeg understands (AVI, MP4, ...) to raw frames through a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

__all__ = ["decode_video", "ffmpeg_available"]

_PIX_FMTS = {"gray": 1, "rgb24": 3}


def ffmpeg_available() -> bool:
    """Return whether both ``ffmpeg`` and ``ffprobe`` are on the ``PATH``."""
    return shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


def _probe_size(path: Path) -> tuple[int, int]:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height",
            "-of",
            "csv=p=0",
            str(path),
        ],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0 or "," not in out.stdout:
        raise ValueError(f"ffprobe found no video stream in {path}: {out.stderr.strip()}")
    w, h = out.stdout.strip().splitlines()[0].split(",")[:2]
    return int(w), int(h)


def decode_video(path: str | os.PathLike, pix_fmt: str = "gray") -> np.ndarray:
    """Decode all frames of a video file with ffmpeg.

    Args:
        path: video file.
        pix_fmt: ``"gray"`` (luma only) or ``"rgb24"``.

    Returns:
        uint8 array ``(T, H, W)`` for ``gray`` or ``(T, H, W, 3)`` for ``rgb24``.

    Raises:
        FileNotFoundError: if the file is missing.
        RuntimeError: if ffmpeg/ffprobe are not installed or decoding fails.
        ValueError: on an unknown ``pix_fmt`` or a file without video stream.
    """
    if pix_fmt not in _PIX_FMTS:
        raise ValueError(f"pix_fmt must be one of {sorted(_PIX_FMTS)}, got {pix_fmt!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"video file not found: {path}")
    if not ffmpeg_available():
        raise RuntimeError(
            f"cannot decode {path}: ffmpeg/ffprobe not found on PATH (install ffmpeg, "
            "or use pre-extracted frames / y4m files)"
        )
    w, h = _probe_size(path)
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path)]
    cmd += ["-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"]
    out = subprocess.run(cmd, capture_output=True)
    if out.returncode != 0:
        raise RuntimeError(f"ffmpeg failed on {path}: {out.stderr.decode(errors='replace')}")
    c = _PIX_FMTS[pix_fmt]
    frame = w * h * c
    n = len(out.stdout) // frame
    arr = np.frombuffer(out.stdout, dtype=np.uint8, count=n * frame)
    return arr.reshape((n, h, w) if c == 1 else (n, h, w, c))
