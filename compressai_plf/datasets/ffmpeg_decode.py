"""Decode any video file FFmpeg understands (AVI, MP4, Y4M, ...) to raw frames with PyAV.

PyAV (https://pyav.basswood-io.com) wraps FFmpeg's libraries and its wheels bundle the
decoders, so reading video needs no ``ffmpeg`` binary (the x264/x265 anchors still run the
binary). Frames are converted by FFmpeg's swscale as ``ffmpeg -f rawvideo -pix_fmt FMT``
does: identical output to that pipe for raw inputs such as Y4M (tested); for compressed
streams the decoder version matters (PyAV 18 bundles FFmpeg 8; against Debian's ffmpeg 5.1 an
MPEG-4 AVI differed in 0.003 % of pixels by at most 2 levels).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["decode_video", "pyav_available"]

_PIX_FMTS = {"gray": 1, "rgb24": 3}


def pyav_available() -> bool:
    """Return whether video files can be decoded (PyAV is importable)."""
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def decode_video(
    path: str | os.PathLike, pix_fmt: str = "gray", max_frames: int | None = None
) -> np.ndarray:
    """Decode the frames of a video file (all, or the first ``max_frames``).

    Args:
        path: video file.
        pix_fmt: ``"gray"`` (luma only) or ``"rgb24"``.
        max_frames: stop after this many frames (long HD clips do not fit in memory whole).

    Returns:
        uint8 array ``(T, H, W)`` for ``gray`` or ``(T, H, W, 3)`` for ``rgb24``.

    Raises:
        FileNotFoundError: if the file is missing.
        RuntimeError: if PyAV is not installed or decoding fails.
        ValueError: on an unknown ``pix_fmt`` or a file without video stream.
    """
    if pix_fmt not in _PIX_FMTS:
        raise ValueError(f"pix_fmt must be one of {sorted(_PIX_FMTS)}, got {pix_fmt!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"video file not found: {path}")
    try:
        import av
    except ImportError as err:
        raise RuntimeError(f"cannot decode {path}: PyAV is not installed (pip install av)") from err
    try:
        container = av.open(str(path))
    except av.FFmpegError as err:
        raise ValueError(f"no video stream in {path}: {err}") from err
    with container:
        if not container.streams.video:
            raise ValueError(f"no video stream in {path}")
        stream = container.streams.video[0]
        frames = []
        try:
            for f in container.decode(stream):
                if max_frames is not None and len(frames) >= max_frames:
                    break
                frames.append(f.to_ndarray(format=pix_fmt))
        except av.FFmpegError as err:
            raise RuntimeError(f"decoding {path} failed: {err}") from err
    if not frames:
        c = _PIX_FMTS[pix_fmt]
        h, w = stream.codec_context.height, stream.codec_context.width
        return np.zeros((0, h, w) if c == 1 else (0, h, w, c), dtype=np.uint8)
    return np.stack(frames)
