"""Read and write 8-bit YUV4MPEG2 (``.y4m``) files in pure numpy.

Format: a header line ``YUV4MPEG2 W<w> H<h> F<n>:<d> [I.. A.. C<colorspace> X..]``, then per
frame a ``FRAME[ params]`` line followed by the planar Y, U, V samples
(https://wiki.multimedia.cx/index.php/YUV4MPEG2).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

__all__ = ["Y4MVideo", "read_y4m", "write_y4m"]

# Chroma plane size as a function of (width, height); None means no chroma planes.
_CHROMA = {
    "mono": None,
    "420": lambda w, h: ((h + 1) // 2, (w + 1) // 2),
    "422": lambda w, h: (h, (w + 1) // 2),
    "444": lambda w, h: (h, w),
}
_ALIASES = {"420jpeg": "420", "420paldv": "420", "420mpeg2": "420", "mono": "mono"}


@dataclass
class Y4MVideo:
    """Planes of a y4m file.

    Attributes:
        y: luma, ``(T, H, W)`` uint8.
        u: first chroma plane ``(T, h, w)`` uint8, ``None`` for ``mono``.
        v: second chroma plane, ``None`` for ``mono``.
        fps: frame rate.
        colorspace: normalised chroma format: ``"mono"``, ``"420"``, ``"422"`` or ``"444"``.
    """

    y: np.ndarray
    u: np.ndarray | None
    v: np.ndarray | None
    fps: Fraction
    colorspace: str

    @property
    def width(self) -> int:
        return self.y.shape[2]

    @property
    def height(self) -> int:
        return self.y.shape[1]

    def __len__(self) -> int:
        return self.y.shape[0]


def _normalise_colorspace(tag: str, path: Path) -> str:
    cs = _ALIASES.get(tag, tag)
    if cs not in _CHROMA:
        raise ValueError(
            f"{path}: unsupported y4m colorspace C{tag} (only 8-bit mono/420/422/444 are read)"
        )
    return cs


def read_y4m(path: str | os.PathLike) -> Y4MVideo:
    """Read every frame of an 8-bit y4m file.

    Raises:
        FileNotFoundError: if the file does not exist.
        ValueError: on a malformed header, unsupported colorspace or truncated frame.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"y4m file not found: {path}")
    data = path.read_bytes()
    end = data.find(b"\n")
    if not data.startswith(b"YUV4MPEG2 ") or end < 0:
        raise ValueError(f"{path} is not a y4m file (missing 'YUV4MPEG2' header)")
    fields = {tok[:1]: tok[1:] for tok in data[10:end].decode("ascii").split()}
    try:
        width, height = int(fields["W"]), int(fields["H"])
    except (KeyError, ValueError) as err:
        raise ValueError(f"{path}: y4m header lacks valid W/H fields") from err
    if width <= 0 or height <= 0:
        raise ValueError(f"{path}: invalid frame size {width}x{height}")
    num, _, den = fields.get("F", "25:1").partition(":")
    fps = Fraction(int(num), int(den or 1))
    cs = _normalise_colorspace(fields.get("C", "420jpeg"), path)

    chroma = _CHROMA[cs]
    cshape = chroma(width, height) if chroma else (0, 0)
    ysize, csize = width * height, cshape[0] * cshape[1]
    frame_size = ysize + 2 * csize

    ys, us, vs = [], [], []
    pos = end + 1
    while pos < len(data):
        if not data.startswith(b"FRAME", pos):
            raise ValueError(f"{path}: expected 'FRAME' marker at byte {pos}")
        line_end = data.find(b"\n", pos)
        if line_end < 0:
            raise ValueError(f"{path}: unterminated FRAME header at byte {pos}")
        start = line_end + 1
        if start + frame_size > len(data):
            raise ValueError(
                f"{path}: truncated frame {len(ys)} ({len(data) - start} of {frame_size} bytes)"
            )
        buf = np.frombuffer(data, dtype=np.uint8, count=frame_size, offset=start)
        ys.append(buf[:ysize].reshape(height, width))
        if chroma:
            us.append(buf[ysize : ysize + csize].reshape(cshape))
            vs.append(buf[ysize + csize :].reshape(cshape))
        pos = start + frame_size

    y = np.stack(ys) if ys else np.zeros((0, height, width), np.uint8)
    u = np.stack(us) if chroma and us else None
    v = np.stack(vs) if chroma and vs else None
    return Y4MVideo(y=y, u=u, v=v, fps=fps, colorspace=cs)


def write_y4m(
    path: str | os.PathLike,
    y: np.ndarray,
    u: np.ndarray | None = None,
    v: np.ndarray | None = None,
    fps: Fraction | int = 25,
) -> None:
    """Write uint8 planes ``(T, H, W)`` as a y4m file (``mono`` when ``u``/``v`` are ``None``).

    The colorspace (420, 422 or 444) is deduced from the chroma plane shape.

    Raises:
        ValueError: on wrong dtypes or plane shapes.
    """
    y = np.asarray(y)
    if y.dtype != np.uint8 or y.ndim != 3:
        raise ValueError(f"y must be a uint8 (T, H, W) array, got {y.dtype} {y.shape}")
    t, h, w = y.shape
    if (u is None) != (v is None):
        raise ValueError("give both chroma planes u and v, or neither")
    if u is None:
        cs = "mono"
    else:
        u, v = np.asarray(u), np.asarray(v)
        matches = [k for k, f in _CHROMA.items() if f and (t, *f(w, h)) == u.shape]
        if not matches or u.shape != v.shape or u.dtype != np.uint8 or v.dtype != np.uint8:
            raise ValueError(
                f"chroma planes {u.shape}/{v.shape} do not match luma {y.shape} "
                "for 4:2:0, 4:2:2 or 4:4:4 uint8"
            )
        cs = matches[0]
    fps = Fraction(fps)
    tag = "420jpeg" if cs == "420" else cs
    header = f"YUV4MPEG2 W{w} H{h} F{fps.numerator}:{fps.denominator} Ip A0:0 C{tag}\n"
    with open(path, "wb") as f:
        f.write(header.encode("ascii"))
        for i in range(t):
            f.write(b"FRAME\n")
            f.write(np.ascontiguousarray(y[i]).tobytes())
            if u is not None:
                f.write(np.ascontiguousarray(u[i]).tobytes())
                f.write(np.ascontiguousarray(v[i]).tobytes())
