"""Coded-clip files: a checksummed, versioned container for ``ScaleSpaceFlowPLF`` bitstreams.

``write_clip(path, model, frames)`` and ``read_clip(path, model, decoder)``; the format is
specified in ``docs/bitstream.md``.
"""

from .clip import (
    decode_clip,
    decode_clip_heads,
    encode_clip,
    encoded_bits,
    frame_bits,
    inspect_clip,
    latent_size,
    read_clip,
    read_clip_heads,
    write_clip,
)
from .container import ClipInfo
from .errors import (
    BitstreamError,
    CorruptClipError,
    ModelMismatchError,
    NotAClipError,
    TruncatedClipError,
    UnsupportedVersionError,
)
from .weights_hash import weights_hash

__all__ = [
    "BitstreamError",
    "ClipInfo",
    "CorruptClipError",
    "ModelMismatchError",
    "NotAClipError",
    "TruncatedClipError",
    "UnsupportedVersionError",
    "decode_clip",
    "decode_clip_heads",
    "encode_clip",
    "encoded_bits",
    "frame_bits",
    "inspect_clip",
    "latent_size",
    "read_clip",
    "read_clip_heads",
    "weights_hash",
    "write_clip",
]
