"""Container format: byte layout against the spec, and rejection of every kind of damage."""

from __future__ import annotations

import struct
import zlib

import pytest

from compressai_plf.io import (
    BitstreamError,
    ClipInfo,
    CorruptClipError,
    NotAClipError,
    TruncatedClipError,
    UnsupportedVersionError,
)
from compressai_plf.io.container import pack_clip, parse_clip

DIGEST = bytes(range(32))


def _fixed_info(**kw) -> ClipInfo:
    fields = dict(
        arch="ssf_plf",
        weights_hash="",
        rate_mode="fixed",
        channels=1,
        frames=3,
        height=64,
        width=64,
        latent_size=(1, 1),
        seed=0xDEADBEEF,
        payload_bits=36,
    )
    fields.update(kw)
    return ClipInfo(**fields)


def _hyper_info(lengths=(3, 2, 300, 1, 1, 1)) -> ClipInfo:
    return _fixed_info(
        rate_mode="hyperprior",
        channels=3,
        frames=2,
        seed=None,
        latent_size=(2, 2),
        payload_bits=8 * sum(lengths),
        string_lengths=lengths,
    )


def _resign(data: bytes) -> bytes:
    """Fix the length field and checksum of edited bytes (a forged, consistent file)."""
    data = bytearray(data[:-4])
    data[5:9] = struct.pack(">I", len(data) + 4)
    return bytes(data) + struct.pack(">I", zlib.crc32(bytes(data)))


def test_fixed_layout_matches_the_spec():
    payload = b"\x01\x02\x03\x04\x05"
    data = pack_clip(_fixed_info(), DIGEST, payload)
    assert data[:4] == b"\x89PLF" and data[4] == 1
    assert struct.unpack(">I", data[5:9])[0] == len(data)
    assert data[9] == 7 and data[10:17] == b"ssf_plf"
    assert data[17:33] == DIGEST[:16]
    mode, c, t, h, w, lh, lw, bits = struct.unpack(">BBIIIIIQ", data[33:63])
    assert (mode, c, t, h, w, lh, lw, bits) == (1, 1, 3, 64, 64, 1, 1, 36)
    assert data[63:67] == b"\xde\xad\xbe\xef"
    assert data[67:72] == payload
    assert struct.unpack(">I", data[-4:])[0] == zlib.crc32(data[:-4])
    assert len(data) == 71 + len(payload)


def test_round_trip_and_sizes():
    info, payload = parse_clip(pack_clip(_hyper_info(), DIGEST, bytes(range(256)) + bytes(52)))
    assert info.string_lengths == (3, 2, 300, 1, 1, 1)
    assert info.weights_hash == DIGEST[:16].hex() and info.seed is None
    # 63 bytes of fixed fields; lengths < 128 take one LEB128 byte, 300 two (0xac 0x02); CRC
    assert info.header_bytes == 63 + 5 + 2 + 4 and info.payload_bytes == 308
    assert info.file_bytes == info.header_bytes + info.payload_bytes
    assert info.bpp("payload") == pytest.approx(8 * 308 / (2 * 64 * 64))
    assert payload == bytes(range(256)) + bytes(52)
    data = pack_clip(_hyper_info(), DIGEST, bytes(308))
    assert data[65:67] == b"\xac\x02"


def test_every_single_bit_flip_is_rejected():
    data = pack_clip(_fixed_info(), DIGEST, b"\x11\x22\x33\x44\x55")
    for i in range(8 * len(data)):
        bad = bytearray(data)
        bad[i // 8] ^= 1 << (i % 8)
        with pytest.raises(BitstreamError):
            parse_clip(bytes(bad))


def test_every_truncation_is_rejected():
    data = pack_clip(_hyper_info(), DIGEST, bytes(308))
    with pytest.raises(NotAClipError, match="empty"):
        parse_clip(b"")
    for n in range(1, len(data)):
        with pytest.raises(TruncatedClipError, match="truncated"):
            parse_clip(data[:n])


@pytest.mark.parametrize(
    "data", [b"\x89PNG\r\n\x1a\n" + bytes(64), b"hello world, not a clip", b"PLF\x89" + bytes(80)]
)
def test_foreign_data_is_not_a_clip(data):
    with pytest.raises(NotAClipError, match="magic"):
        parse_clip(data)


def test_trailing_and_inserted_bytes():
    data = pack_clip(_fixed_info(), DIGEST, b"\x01\x02\x03\x04\x05")
    with pytest.raises(CorruptClipError, match="unexpected bytes after"):
        parse_clip(data + b"\x00")
    with pytest.raises(CorruptClipError, match="checksum"):
        parse_clip(data[:40] + b"\x00" + data[40:])


def test_unknown_version_is_named():
    data = bytearray(pack_clip(_fixed_info(), DIGEST, b"\x00" * 5))
    data[4] = 2
    with pytest.raises(UnsupportedVersionError, match="version 2"):
        parse_clip(_resign(bytes(data)))


@pytest.mark.parametrize(
    "offset, value, match",
    [
        (33, b"\x07", "rate mode"),  # unknown rate mode code
        (35, b"\x00\x00\x00\x00", "geometry"),  # zero frames
        (43, b"\x00\x01\x00\x01", "geometry"),  # width 65537
        (47, b"\x00\x00\x00\x41", "latent"),  # latent taller than the frame
        (55, b"\x00\x00\x00\x00\x00\x00\x00\x29", "payload_bits"),  # 41 bits > 5 bytes
    ],
)
def test_forged_inconsistent_headers_are_rejected(offset, value, match):
    data = bytearray(pack_clip(_fixed_info(), DIGEST, b"\x00" * 5))
    data[offset : offset + len(value)] = value
    with pytest.raises(CorruptClipError, match=match):
        parse_clip(_resign(bytes(data)))


def test_forged_string_lengths_are_rejected():
    data = bytearray(pack_clip(_hyper_info((1, 1, 1, 1, 1, 1)), DIGEST, bytes(6)))
    data[63] = 2  # first string now claims 2 bytes: lengths add up to 7, payload has 6
    with pytest.raises(CorruptClipError, match="add up"):
        parse_clip(_resign(bytes(data)))
    data = bytearray(pack_clip(_hyper_info((1, 1, 1, 1, 1, 1)), DIGEST, bytes(6)))
    data[63:69] = b"\xff" * 6  # unterminated varint runs into the end of the header
    with pytest.raises(CorruptClipError):
        parse_clip(_resign(bytes(data)))


def test_pack_rejects_inconsistent_fields():
    with pytest.raises(ValueError, match="string_lengths"):
        pack_clip(_fixed_info(string_lengths=(1,)), DIGEST, b"\x00")
    with pytest.raises(ValueError, match="add up"):
        pack_clip(_hyper_info((1, 1, 1, 1, 1, 1)), DIGEST, bytes(5))
