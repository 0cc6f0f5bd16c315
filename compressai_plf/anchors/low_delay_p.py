"""Classical low-delay P anchors (x264, x265) run through ffmpeg.

Low-delay P: the first frame is intra, every later frame is predicted from past frames only
(no B-frames, no lookahead), matching the causal setting of the PLF paper
(https://arxiv.org/abs/2305.19301) and CompressAI's video evaluation.

The bit count is the size of the raw elementary stream (Annex-B, no container), so it holds
the pictures plus the parameter sets (SPS/PPS, and VPS for HEVC), which a decoder needs. The
encoders' informational SEI (x264 writes its version and full option string, several hundred
bytes; x265 likewise) is removed: on 64x64 clips it would outweigh the pictures and make any
rate comparison meaningless.
"""

from __future__ import annotations

import abc
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..datasets.raw_yuv import (
    num_frames,
    parse_yuv_name,
    read_yuv420_planes,
    rgb_to_yuv420,
    yuv420_to_rgb,
)
from .ffmpeg import ffmpeg_version, run_tool

Planes = tuple[np.ndarray, ...]


@dataclass
class AnchorResult:
    """Output of one anchor run.

    Attributes:
        bitstream: the encoded elementary stream.
        frame_bits: bits of each coded frame (packet sizes from ffprobe); frame 0 also carries
            the parameter sets.
        recon: decoded frames, (T, C, H, W) float in [0, 1]; gray input gives C=1, RGB input
            and YUV files give RGB (C=3, converted as CompressAI's eval tool does).
        recon_planes: decoded 8-bit planes per frame, ``(Y,)`` for gray or ``(Y, U, V)``.
        fps: frame rate used for :attr:`bitrate_kbps`.
    """

    bitstream: bytes
    frame_bits: list[int]
    recon: Tensor
    recon_planes: list[Planes] = field(repr=False)
    fps: float

    @property
    def bits(self) -> int:
        """Total bits of the bitstream."""
        return 8 * len(self.bitstream)

    @property
    def num_frames(self) -> int:
        return self.recon.shape[0]

    @property
    def bitrate_kbps(self) -> float:
        """Bit rate in kbit/s, CompressAI's ``bitrate`` unit."""
        return self.bits * self.fps / self.num_frames / 1000

    @property
    def bpp(self) -> float:
        """Bits per pixel (per frame pixel, all frames)."""
        t, _, h, w = self.recon.shape
        return self.bits / (t * h * w)


def frames_to_planes(frames: Tensor) -> tuple[list[Planes], str]:
    """(T, C, H, W) frames in [0, 1] to 8-bit planes and the ffmpeg pixel format.

    Gray frames (C=1) are coded as 4:0:0 (``gray``); RGB frames are converted to BT.709
    YCbCr 4:2:0 with CompressAI's functions (``rgb2ycbcr``, 2x2 average chroma pooling).
    """
    if not isinstance(frames, Tensor) or frames.dim() != 4:
        raise ValueError("frames must be a (T, C, H, W) tensor in [0, 1]")
    t, c, h, w = frames.shape
    x = frames.detach().float().cpu().clamp(0, 1)
    if c == 1:
        y = (x[:, 0] * 255).round().to(torch.uint8).numpy()
        return [(y[i],) for i in range(t)], "gray"
    if c != 3:
        raise ValueError(f"frames must have 1 (gray) or 3 (RGB) channels, got {c}")
    if h % 2 or w % 2:
        raise ValueError(f"RGB frames are coded as 4:2:0 and need even sizes, got {h}x{w}")
    y, u, v = rgb_to_yuv420(x)
    return list(zip(y, u, v, strict=True)), "yuv420p"


def planes_to_frames(planes: list[Planes]) -> Tensor:
    """8-bit planes to (T, C, H, W) float frames in [0, 1] (bicubic chroma upsampling and
    BT.709 YCbCr to RGB, as in ``compressai.utils.video.eval_model``)."""
    if len(planes[0]) == 1:
        return torch.from_numpy(np.stack([p[0] for p in planes]))[:, None].float() / 255
    return yuv420_to_rgb(*(np.stack([p[k] for p in planes]) for k in range(3)))


def _plane_shapes(pix_fmt: str, height: int, width: int) -> list[tuple[int, int]]:
    if pix_fmt == "gray":
        return [(height, width)]
    return [(height, width), (height // 2, width // 2), (height // 2, width // 2)]


def _split_planes(raw: bytes, pix_fmt: str, height: int, width: int) -> list[Planes]:
    shapes = _plane_shapes(pix_fmt, height, width)
    frame_size = sum(a * b for a, b in shapes)
    if len(raw) % frame_size:
        raise RuntimeError(
            f"decoded size {len(raw)} is not a multiple of the frame size {frame_size}"
        )
    data = np.frombuffer(raw, dtype=np.uint8)
    out = []
    for start in range(0, len(raw), frame_size):
        planes, off = [], start
        for a, b in shapes:
            planes.append(data[off : off + a * b].reshape(a, b).copy())
            off += a * b
        out.append(tuple(planes))
    return out


class LowDelayPAnchor(abc.ABC):
    """Base class of the ffmpeg low-delay P anchors.

    Args:
        quality: CRF (``rate_control="crf"``) or QP (``"qp"``); higher means fewer bits.
        rate_control: ``"crf"`` (constant rate factor, what CompressAI's bench uses) or
            ``"qp"`` (constant quantiser).
        preset: encoder speed preset (``"medium"``, ``"veryslow"``, ...).
        keyint: distance between intra frames; ``None`` codes only the first frame intra
            (the keyint is set to the clip length). Scene-cut detection is off, so intra
            frames only occur at fixed positions.
        psnr_tune: switch off adaptive quantisation and psychovisual optimisations (what
            ``-tune psnr`` does). Applied through codec parameters because the encoder is
            already tuned with ``zerolatency`` and ffmpeg keeps only one ``-tune``.
    """

    name: str
    encoder: str
    stream_format: str

    def __init__(
        self,
        quality: int = 28,
        rate_control: str = "crf",
        preset: str = "medium",
        keyint: int | None = None,
        psnr_tune: bool = False,
    ):
        if rate_control not in ("crf", "qp"):
            raise ValueError(f'rate_control must be "crf" or "qp", got {rate_control!r}')
        if not 0 <= quality <= 51:
            raise ValueError(f"quality must be in 0..51, got {quality}")
        if keyint is not None and keyint < 1:
            raise ValueError(f"keyint must be >= 1 or None, got {keyint}")
        self.quality, self.rate_control, self.preset = quality, rate_control, preset
        self.keyint, self.psnr_tune = keyint, psnr_tune

    @abc.abstractmethod
    def codec_args(self, keyint: int) -> list[str]:
        """Encoder-specific ffmpeg arguments (after ``-c:v``)."""

    @property
    def description(self) -> str:
        tune = ", psnr-tuned" if self.psnr_tune else ""
        return (
            f"{self.name} low-delay P ({self.preset}, {self.rate_control} {self.quality}, "
            f"keyint {self.keyint or 'clip'}, zerolatency{tune}), ffmpeg {ffmpeg_version()}"
        )

    def encode_cmd(
        self, pix_fmt: str, width: int, height: int, fps: float, num_frames: int
    ) -> list[str]:
        """The ffmpeg encoding command (raw planes on stdin, bitstream on stdout)."""
        keyint = self.keyint or max(num_frames, 1)
        return [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
            "-f", "rawvideo", "-pix_fmt", pix_fmt, "-s:v", f"{width}x{height}", "-r", f"{fps:g}",
            "-i", "pipe:0",
            "-c:v", self.encoder, "-preset", self.preset, "-tune", "zerolatency",
            f"-{self.rate_control}", str(self.quality),
            *self.codec_args(keyint),
            "-f", self.stream_format, "pipe:1",
        ]  # fmt: skip

    def encode_planes(
        self, planes: list[Planes], pix_fmt: str, width: int, height: int, fps: float = 25.0
    ) -> AnchorResult:
        """Encode 8-bit planes, decode the bitstream and measure per-frame bits."""
        if not planes:
            raise ValueError("no frames to encode")
        if fps <= 0 or not math.isfinite(fps):
            raise ValueError(f"fps must be positive, got {fps}")
        raw = b"".join(np.ascontiguousarray(p).tobytes() for frame in planes for p in frame)
        stream = run_tool(self.encode_cmd(pix_fmt, width, height, fps, len(planes)), raw)
        probe = json.loads(
            run_tool(
                [
                    "ffprobe",
                    "-v",
                    "error",
                    "-f",
                    self.stream_format,
                    "-i",
                    "pipe:0",
                    "-show_entries",
                    "packet=size:stream=pix_fmt",
                    "-of",
                    "json",
                ],
                stream,
            )  # fmt: skip
        )
        frame_bits = [8 * int(p["size"]) for p in probe["packets"]]
        # Decode to the decoder's own pixel format: asking ffmpeg for another one inserts a
        # swscale conversion (e.g. H.264 4:0:0 decodes as yuv420p, and yuv420p -> gray
        # stretches limited range to full range).
        native = probe["streams"][0]["pix_fmt"]
        if native not in ("gray", "yuv420p"):
            raise RuntimeError(f"unexpected decoded pixel format {native!r}")
        decoded = run_tool(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-f", self.stream_format,
             "-i", "pipe:0", "-f", "rawvideo", "-pix_fmt", native, "pipe:1"],
            stream,
        )  # fmt: skip
        recon_planes = _split_planes(decoded, native, height, width)
        if native != pix_fmt:
            if pix_fmt != "gray":
                raise RuntimeError(f"coded {pix_fmt} but the decoder returned {native}")
            recon_planes = [p[:1] for p in recon_planes]  # 4:0:0 decoded with flat chroma
        if len(recon_planes) != len(planes):
            raise RuntimeError(f"decoded {len(recon_planes)} frames, encoded {len(planes)}")
        return AnchorResult(stream, frame_bits, planes_to_frames(recon_planes), recon_planes, fps)

    def encode_frames(self, frames: Tensor, fps: float = 25.0) -> AnchorResult:
        """Encode one clip of (T, C, H, W) frames in [0, 1] (C=1 gray or C=3 RGB).

        Args:
            frames: the clip.
            fps: frame rate, only used for the kbit/s figure.
        """
        planes, pix_fmt = frames_to_planes(frames)
        _, _, h, w = frames.shape
        return self.encode_planes(planes, pix_fmt, w, h, fps)

    def encode_yuv_file(self, path: str | Path, max_frames: int | None = None) -> AnchorResult:
        """Encode a raw 8-bit 4:2:0 file named as CompressAI's tools expect
        (``name_WxH_RATEHz_8bit_P420.yuv``).

        Args:
            path: the ``.yuv`` file.
            max_frames: encode only the first frames.

        Raises:
            YUVFormatError: if the name states another format (``P444``, ``y42B``, ``_422_``...).
            ValueError: if the name lacks the size or the frame rate.
        """
        info = parse_yuv_name(path)
        if info.fps is None:
            raise ValueError(f"{path}: the name states no frame rate (e.g. '_30Hz')")
        n = num_frames(path, info)
        y, u, v = read_yuv420_planes(path, count=n if max_frames is None else min(max_frames, n))
        planes = list(zip(y, u, v, strict=True))
        return self.encode_planes(planes, "yuv420p", info.width, info.height, float(info.fps))
