"""Read and write raw 8-bit YUV 4:2:0 sequences named for CompressAI's video eval tool.

Names follow CompressAI's convention (Vooya's), e.g. ``clip_448x256_30Hz_8bit_P420.yuv``: the
same tokens as :func:`compressai.datasets.rawvideo.get_raw_video_file_info` (which fails on
names without a format token, hence a small parser of our own). Frames are
converted to RGB exactly like ``compressai.utils.video.eval_model``: planes divided by 255,
chroma upsampled with :func:`compressai.transforms.functional.yuv_420_to_444` (bicubic), then
:func:`compressai.transforms.functional.ycbcr2rgb` (BT.709), so metrics computed on these frames
match that tool.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from compressai.datasets.rawvideo import framerate_to_fraction, video_formats
from compressai.transforms.functional import (
    rgb2ycbcr,
    ycbcr2rgb,
    yuv_420_to_444,
    yuv_444_to_420,
)
from torch import Tensor

__all__ = [
    "YUVFormatError",
    "YUVInfo",
    "num_frames",
    "parse_yuv_name",
    "read_yuv420",
    "rgb_to_yuv420",
    "write_yuv420",
    "yuv420_name",
    "yuv420_to_rgb",
]


@dataclass(frozen=True)
class YUVInfo:
    """Geometry of a raw YUV 4:2:0 8-bit file.

    Attributes:
        width: luma width.
        height: luma height.
        fps: frame rate, ``None`` if the name has none.
    """

    width: int
    height: int
    fps: Fraction | None = None

    @property
    def frame_bytes(self) -> int:
        return self.width * self.height * 3 // 2


class YUVFormatError(ValueError):
    """A YUV file name states a format other than planar 8-bit 4:2:0."""


_SIZE = re.compile(r"(\d+)x(\d+)")
_RATE = re.compile(r"(\d+(?:\.\d+)?)(?:Hz|fps)")
_BITS = re.compile(r"(\d+)bit")
# Chroma formats by lower-case token: CompressAI's table (P420, y42B, yuv422...), every
# yuv/P/I/bare 4xx (CompressAI lacks I444 and bare numbers but "420"; "_422_" must not pass
# for 4:2:0) and packed/semi-planar fourccs, whose bytes a planar reader would misread.
_CHROMA = {
    f"{prefix}4{a}{b}": f"yuv4{a}{b}"
    for prefix in ("", "yuv", "p", "i")
    for a in "024"
    for b in "024"
}
_CHROMA |= {key.lower(): fmt.value for key, fmt in video_formats.items()}
_CHROMA |= dict.fromkeys(("yuyv", "yuy2", "uyvy", "yvyu"), "packed yuv422")
_CHROMA |= dict.fromkeys(("nv12", "nv21"), "semi-planar yuv420")
_PREFIXED = "|".join(sorted((k for k in _CHROMA if not k.isdigit()), key=len, reverse=True))
_FORMAT = re.compile(
    rf"(?i)(?:(?P<fmt>{_PREFIXED})|(?<![a-z0-9])(?P<bare>4[0-4][0-4])(?![a-z0-9]))"
    r"(?:p(?P<depth>\d+)(?:le|be)?)?"  # ffmpeg's yuv420p10le
)


def parse_yuv_name(path: str | os.PathLike) -> YUVInfo:
    """Parse ``WxH``, the rate (``30Hz``/``30fps``), bit depth and format from a file name
    (the one parser of YUV names; a name without a format token is taken as 4:2:0).

    Raises:
        ValueError: if the size is missing or odd.
        YUVFormatError: if the name states a bit depth other than 8 or any chroma format
            other than planar 4:2:0 (e.g. ``P444``, ``y42B``, ``_422_``, ``YUYV``).
    """
    name = Path(path).name
    size = _SIZE.search(name)
    if size is None:
        raise ValueError(f"cannot read the frame size from {name!r}: expected a 'WxH' token")
    depths = [int(m.group(1)) for m in _BITS.finditer(name)]
    for m in _FORMAT.finditer(name):
        token = m.group("fmt") or m.group("bare")
        chroma = _CHROMA[token.lower()]
        if chroma != "yuv420":
            raise YUVFormatError(
                f"{name!r} is {chroma} (token {token!r}); only planar YUV 4:2:0 is supported"
            )
        depths += [int(m.group("depth"))] if m.group("depth") else []
    for depth in depths:
        if depth != 8:
            raise YUVFormatError(f"{name!r} is {depth}-bit; only 8-bit YUV is supported")
    rate = _RATE.search(name)
    fps = None
    if rate is not None:
        fps = framerate_to_fraction.get(rate.group(1), Fraction(rate.group(1)))
    return _checked(int(size.group(1)), int(size.group(2)), fps)


def _checked(width: int, height: int, fps) -> YUVInfo:
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise ValueError(f"YUV 4:2:0 frame size must be positive and even, got {width}x{height}")
    return YUVInfo(int(width), int(height), None if fps is None else Fraction(fps))


def yuv420_name(stem: str, width: int, height: int, fps: int = 30) -> str:
    """File name CompressAI's eval tool accepts, e.g. ``clip_448x256_30Hz_8bit_P420.yuv``."""
    return f"{stem}_{width}x{height}_{fps}Hz_8bit_P420.yuv"


def yuv420_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray, clamp: bool = True) -> Tensor:
    """Convert uint8 planes ``(T, H, W)``, ``(T, H/2, W/2)`` x2 to RGB ``(T, 3, H, W)`` floats.

    Args:
        y: luma planes.
        u: Cb planes.
        v: Cr planes.
        clamp: clip to [0, 1]; the eval tool feeds unclipped values to the codec but clips
            (after scaling to 255) before its metrics.
    """
    planes = tuple(
        torch.from_numpy(np.asarray(p, dtype=np.float32) / 255.0)[:, None] for p in (y, u, v)
    )
    rgb = ycbcr2rgb(yuv_420_to_444(planes, mode="bicubic"))
    return rgb.clamp_(0.0, 1.0) if clamp else rgb


def rgb_to_yuv420(rgb: Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert RGB ``(T, 3, H, W)`` floats in [0, 1] to uint8 4:2:0 planes.

    Uses CompressAI's ``rgb2ycbcr`` and ``yuv_444_to_420`` (2x2 average), as its eval tool does.
    """
    if not isinstance(rgb, Tensor) or rgb.ndim != 4 or rgb.shape[1] != 3:
        raise ValueError(f"expected an RGB tensor (T, 3, H, W), got {getattr(rgb, 'shape', rgb)}")
    if rgb.shape[-1] % 2 or rgb.shape[-2] % 2:
        raise ValueError(f"frame size must be even for 4:2:0, got {tuple(rgb.shape[-2:])}")
    y, u, v = yuv_444_to_420(rgb2ycbcr(rgb.float()), mode="avg_pool")
    return tuple(  # type: ignore[return-value]
        (p[:, 0] * 255.0).round().clamp(0, 255).to(torch.uint8).numpy() for p in (y, u, v)
    )


def read_yuv420_planes(
    path: str | os.PathLike,
    width: int | None = None,
    height: int | None = None,
    start: int = 0,
    count: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read frames of a raw 8-bit YUV 4:2:0 file as uint8 planes ``(T, H, W)``,
    ``(T, H/2, W/2)`` x2 (the one reader of raw YUV files; :func:`read_yuv420` converts).

    Args:
        path: the ``.yuv`` file.
        width: frame width; parsed from the name when ``None``.
        height: frame height; parsed from the name when ``None``.
        start: first frame.
        count: number of frames (default: to the end).

    Raises:
        FileNotFoundError: if the file is missing.
        ValueError: on an unparsable name, a file size that is not a whole number of frames,
            or a frame range outside the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"YUV file not found: {path}")
    if width is None or height is None:
        named = parse_yuv_name(path)
        width, height = width or named.width, height or named.height
    info = _checked(width, height, None)
    n = num_frames(path, info)
    count = n - start if count is None else count
    if start < 0 or count < 0 or start + count > n:
        raise ValueError(f"frames [{start}, {start + count}) outside {path.name} ({n} frames)")
    raw = np.fromfile(
        path, dtype=np.uint8, count=count * info.frame_bytes, offset=start * info.frame_bytes
    )
    raw = raw.reshape(count, info.frame_bytes)
    ys, cs = width * height, (width // 2) * (height // 2)
    y = raw[:, :ys].reshape(count, height, width)
    u = raw[:, ys : ys + cs].reshape(count, height // 2, width // 2)
    v = raw[:, ys + cs :].reshape(count, height // 2, width // 2)
    return y, u, v


def read_yuv420(
    path: str | os.PathLike,
    width: int | None = None,
    height: int | None = None,
    start: int = 0,
    count: int | None = None,
    clamp: bool = True,
) -> Tensor:
    """Read frames of a raw 8-bit YUV 4:2:0 file as RGB ``(T, 3, H, W)`` floats in [0, 1]
    (:func:`read_yuv420_planes`, then :func:`yuv420_to_rgb` with ``clamp``)."""
    return yuv420_to_rgb(*read_yuv420_planes(path, width, height, start, count), clamp=clamp)


def num_frames(path: str | os.PathLike, info: YUVInfo) -> int:
    """Number of frames in ``path``; raises ``ValueError`` if the size is not a whole number."""
    size = Path(path).stat().st_size
    if size % info.frame_bytes:
        raise ValueError(
            f"{Path(path).name}: size {size} bytes is not a multiple of the "
            f"{info.width}x{info.height} 4:2:0 frame size ({info.frame_bytes} bytes); "
            "wrong WxH in the name?"
        )
    return size // info.frame_bytes


def write_yuv420(
    path: str | os.PathLike,
    frames: Tensor | tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """Write a raw YUV 4:2:0 8-bit file.

    Args:
        path: output file (name it with :func:`yuv420_name` for CompressAI's tools).
        frames: RGB ``(T, 3, H, W)`` floats in [0, 1], converted with :func:`rgb_to_yuv420`, or
            uint8 planes ``(y, u, v)`` of shapes ``(T, H, W)``, ``(T, H/2, W/2)`` x2.

    Raises:
        ValueError: on wrong shapes or dtypes.
    """
    if isinstance(frames, Tensor):
        y, u, v = rgb_to_yuv420(frames)
    else:
        y, u, v = (np.asarray(p) for p in frames)
    if y.ndim != 3 or any(p.dtype != np.uint8 for p in (y, u, v)):
        raise ValueError("planes must be uint8 with y of shape (T, H, W)")
    t, h, w = y.shape
    _checked(w, h, None)
    if u.shape != (t, h // 2, w // 2) or v.shape != u.shape:
        raise ValueError(f"chroma planes {u.shape}/{v.shape} do not match 4:2:0 of luma {y.shape}")
    with open(path, "wb") as f:
        for i in range(t):
            for p in (y, u, v):
                f.write(np.ascontiguousarray(p[i]).tobytes())
