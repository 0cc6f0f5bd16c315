"""The coded-clip container, version 1 (specified in ``docs/bitstream.md``).

Layout (integers big-endian)::

    magic        4   b"\\x89PLF"
    version      1   1
    total_len    4   bytes of the whole file, checksum included
    name_len     1   then name_len ASCII bytes: registered architecture name ("ssf_plf")
    weights      16  first 16 bytes of the encoder-side weights SHA-256 (weights_hash.py)
    rate_mode    1   0 = hyperprior, 1 = fixed
    channels     1
    frames       4   T >= 1
    height       4   original frame height (before padding)
    width        4   original frame width
    latent_h     4   decoder shape: z's (hyperprior) or y's (fixed) height
    latent_w     4
    payload_bits 8   exact information bits of the payload (<= 8 * payload bytes)
    fixed:       seed 4 (dither seed)
    hyperprior:  2 + 4 (T - 1) unsigned LEB128 string lengths, in payload order
    payload      ...
    crc32        4   zlib CRC-32 of every byte before it (header and payload)

Magic, version, ``total_len`` and the trailing CRC-32 keep their places in every version.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from .errors import (
    CorruptClipError,
    NotAClipError,
    TruncatedClipError,
    UnsupportedVersionError,
)

MAGIC = b"\x89PLF"
VERSION = 1
RATE_MODE_CODES = {"hyperprior": 0, "fixed": 1}
HASH_BYTES = 16
CRC_BYTES = 4
_PREFIX = struct.Struct(">4sBI")  # magic, version, total_len
PREFIX_BYTES = _PREFIX.size  # bytes a reader needs to learn the declared total length
_FIXED = struct.Struct(">BBIIIIIQ")  # rate_mode, channels, T, H, W, latent_h, latent_w, bits
# Limits that keep a damaged or hostile header from asking for absurd allocations.
MAX_SIDE = 1 << 16
MAX_FRAME_PIXELS = 1 << 24  # 16 Mpx (4096 x 4096): bounds what a header can make a reader allocate
MAX_FRAMES = 1 << 20
MAX_FILE_BYTES = (1 << 32) - 1


@dataclass(frozen=True)
class ClipInfo:
    """Everything a clip's header records, plus its sizes.

    Attributes:
        arch: registered architecture name of the encoder.
        weights_hash: hex of the first 16 bytes of the encoder-side weights SHA-256.
        rate_mode: ``"hyperprior"`` or ``"fixed"``.
        channels, frames, height, width: clip geometry before padding.
        latent_size: decoder shape of every frame (z's in hyperprior mode, y's in fixed mode).
        seed: dither seed (fixed mode), else ``None``.
        string_lengths: byte length of every rANS string in payload order (hyperprior mode:
            keyframe y, z, then motion y, z, residual y, z per P-frame); empty in fixed mode.
        payload_bits: exact information bits of the payload.
        header_bytes, payload_bytes, file_bytes: sizes; header includes the checksum.
        version: container version.
    """

    arch: str
    weights_hash: str
    rate_mode: str
    channels: int
    frames: int
    height: int
    width: int
    latent_size: tuple[int, int]
    seed: int | None
    payload_bits: int
    string_lengths: tuple[int, ...] = field(default=())
    header_bytes: int = 0
    payload_bytes: int = 0
    file_bytes: int = 0
    version: int = VERSION

    @property
    def file_bits(self) -> int:
        """Bits on disk: 8 x file size."""
        return 8 * self.file_bytes

    @property
    def pixels(self) -> int:
        """Pixels per channel of the whole clip (original size, T x H x W)."""
        return self.frames * self.height * self.width

    def bpp(self, count: str = "file") -> float:
        """Bits per pixel counting the whole ``"file"`` or only the ``"payload"`` bits."""
        if count not in ("file", "payload"):
            raise ValueError(f"count must be 'file' or 'payload', got {count!r}")
        return (self.file_bits if count == "file" else self.payload_bits) / self.pixels


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


class _Reader:
    """Bounded reads over the header; running out means the header contradicts itself."""

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data, self.pos, self.end = data, pos, end

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > self.end:
            raise CorruptClipError(f"header ends inside the {what} field")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uvarint(self, what: str) -> int:
        value = 0
        for shift in range(0, 64, 7):
            byte = self.take(1, what)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
        raise CorruptClipError(f"{what} is not a valid length (more than 64 bits)")


def string_count(rate_mode: str, frames: int) -> int:
    """Number of length-prefixed payload strings of a clip."""
    return 2 + 4 * (frames - 1) if rate_mode == "hyperprior" else 0


def pack_clip(info: ClipInfo, weights_digest: bytes, payload: bytes) -> bytes:
    """Serialise header fields and payload into a complete container with checksum."""
    name = info.arch.encode("ascii")
    if not 0 < len(name) < 256:
        raise ValueError(f"architecture name must be 1-255 ASCII bytes, got {info.arch!r}")
    if info.rate_mode not in RATE_MODE_CODES:
        raise ValueError(f"unknown rate mode {info.rate_mode!r}")
    if len(info.string_lengths) != string_count(info.rate_mode, info.frames):
        raise ValueError("string_lengths does not match the rate mode and frame count")
    if info.height * info.width > MAX_FRAME_PIXELS:
        raise ValueError(
            f"frames of {info.height}x{info.width} exceed the container limit of "
            f"{MAX_FRAME_PIXELS} pixels per frame"
        )
    if info.string_lengths and sum(info.string_lengths) != len(payload):
        raise ValueError("string lengths do not add up to the payload size")
    body = bytearray()
    body += bytes([len(name)]) + name + weights_digest[:HASH_BYTES]
    body += _FIXED.pack(
        RATE_MODE_CODES[info.rate_mode],
        info.channels,
        info.frames,
        info.height,
        info.width,
        *info.latent_size,
        info.payload_bits,
    )
    if info.rate_mode == "fixed":
        body += struct.pack(">I", info.seed)
    for n in info.string_lengths:
        body += _uvarint(n)
    total = _PREFIX.size + len(body) + len(payload) + CRC_BYTES
    if total > MAX_FILE_BYTES:
        raise ValueError(f"clip of {total} bytes exceeds the container limit of 4 GiB")
    head = _PREFIX.pack(MAGIC, VERSION, total) + bytes(body)
    data = head + payload
    return data + struct.pack(">I", zlib.crc32(data))


def _check_envelope(data: bytes) -> int:
    """Magic, length and checksum; returns the declared total length."""
    if not data:
        raise NotAClipError("not a compressai_plf clip: the data is empty")
    if not data.startswith(MAGIC[: len(data)]):
        raise NotAClipError(
            f"not a compressai_plf clip: starts with {data[:4]!r}, expected magic {MAGIC!r}"
        )
    if len(data) < _PREFIX.size + CRC_BYTES:
        raise TruncatedClipError(f"clip is truncated: only {len(data)} bytes")
    _, _, total = _PREFIX.unpack_from(data)
    if len(data) < total:
        raise TruncatedClipError(
            f"clip is truncated (or its length field is damaged): {len(data)} bytes, "
            f"header declares {total}"
        )
    if total < _PREFIX.size + CRC_BYTES:
        raise CorruptClipError(f"clip header declares an impossible length {total}")
    (stored,) = struct.unpack_from(">I", data, total - CRC_BYTES)
    computed = zlib.crc32(memoryview(data)[: total - CRC_BYTES])
    if stored != computed:
        raise CorruptClipError(
            f"clip is damaged: checksum mismatch (stored CRC-32 {stored:08x}, "
            f"computed {computed:08x})"
        )
    if len(data) > total:
        raise CorruptClipError(
            f"clip has {len(data) - total} unexpected bytes after its declared end ({total})"
        )
    return total


def parse_clip(data: bytes) -> tuple[ClipInfo, bytes]:
    """Verify and parse a container; returns ``(info, payload)``.

    Raises:
        NotAClipError, TruncatedClipError, CorruptClipError, UnsupportedVersionError.
    """
    data = bytes(data)
    total = _check_envelope(data)
    version = data[4]
    if version != VERSION:
        raise UnsupportedVersionError(
            f"clip was written in container version {version}; this reader supports {VERSION}"
        )
    r = _Reader(data, _PREFIX.size, total - CRC_BYTES)
    name_len = r.take(1, "architecture name length")[0]
    try:
        arch = r.take(name_len, "architecture name").decode("ascii")
    except UnicodeDecodeError as err:
        raise CorruptClipError("architecture name is not ASCII") from err
    digest = r.take(HASH_BYTES, "weights hash")
    mode_code, channels, frames, height, width, lh, lw, bits = _FIXED.unpack(
        r.take(_FIXED.size, "clip geometry")
    )
    modes = {v: k for k, v in RATE_MODE_CODES.items()}
    if mode_code not in modes:
        raise CorruptClipError(f"unknown rate mode code {mode_code}")
    rate_mode = modes[mode_code]
    if not (0 < frames <= MAX_FRAMES and 0 < height <= MAX_SIDE and 0 < width <= MAX_SIDE):
        raise CorruptClipError(f"implausible clip geometry: {frames} frames of {height}x{width}")
    if height * width > MAX_FRAME_PIXELS:
        raise CorruptClipError(
            f"header declares {height}x{width} frames, more than the {MAX_FRAME_PIXELS} pixels "
            "per frame any clip may have"
        )
    if channels == 0 or not (0 < lh <= height and 0 < lw <= width):
        raise CorruptClipError(
            f"implausible shapes: {channels} channels, latent {lh}x{lw} for {height}x{width}"
        )
    seed = struct.unpack(">I", r.take(4, "dither seed"))[0] if rate_mode == "fixed" else None
    lengths = tuple(r.uvarint(f"string length {i}") for i in range(string_count(rate_mode, frames)))
    header_end = r.pos
    payload = data[header_end : total - CRC_BYTES]
    if lengths and sum(lengths) != len(payload):
        raise CorruptClipError(
            f"string lengths add up to {sum(lengths)} bytes, payload has {len(payload)}"
        )
    if bits > 8 * len(payload) or (rate_mode == "hyperprior" and bits != 8 * len(payload)):
        raise CorruptClipError(f"payload_bits {bits} contradicts a {len(payload)}-byte payload")
    # Fixed mode: every P-frame codes two latents of >= 1 symbol of >= 2 levels (>= 2 bits),
    # so the frame count is bounded by the payload before any per-frame work.
    if rate_mode == "fixed" and 2 * (frames - 1) > bits:
        raise CorruptClipError(
            f"header declares {frames} frames, a {bits}-bit payload holds at most {bits // 2 + 1}"
        )
    info = ClipInfo(
        arch=arch,
        weights_hash=digest.hex(),
        rate_mode=rate_mode,
        channels=channels,
        frames=frames,
        height=height,
        width=width,
        latent_size=(lh, lw),
        seed=seed,
        payload_bits=bits,
        string_lengths=lengths,
        header_bytes=total - len(payload),
        payload_bytes=len(payload),
        file_bytes=total,
        version=version,
    )
    return info, payload
