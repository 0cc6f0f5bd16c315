"""Exact packing of L-ary symbols into bytes.

``n`` symbols of an alphabet of size ``L`` are read as one base-``L`` integer and written in
``ceil(n * log2(L) / 8)`` bytes, so a fixed-rate latent costs exactly its nominal bits rounded
up to a whole byte (for ``L`` a power of two this is plain bit packing).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor


def _bits_per_symbol(levels: int) -> int | None:
    """log2(levels) when it is a whole number (plain bit packing applies), else None."""
    return levels.bit_length() - 1 if levels & (levels - 1) == 0 else None


def packed_size(count: int, levels: int) -> int:
    """Bytes needed for ``count`` symbols of ``levels`` values."""
    if levels < 2:
        raise ValueError(f"an alphabet needs at least 2 levels, got {levels}")
    if count < 0:
        raise ValueError(f"symbol count must be >= 0, got {count}")
    if count == 0:
        return 0
    bits = (levels**count - 1).bit_length()
    return max(1, math.ceil(bits / 8))


def pack_symbols(symbols: Tensor, levels: int) -> bytes:
    """Pack a 1-D integer tensor of values in ``[0, levels)`` into bytes."""
    flat = symbols.reshape(-1).tolist()
    if any(s < 0 or s >= levels for s in flat):
        raise ValueError(f"symbols must lie in [0, {levels})")
    nbits = _bits_per_symbol(levels)
    if nbits is not None:
        bits = (np.asarray(flat, dtype=np.int64)[:, None] >> np.arange(nbits)) & 1
        return np.packbits(bits.reshape(-1).astype(np.uint8)).tobytes()
    value = 0
    for s in reversed(flat):  # first symbol is the least significant digit
        value = value * levels + int(s)
    return value.to_bytes(packed_size(len(flat), levels), "big")


def unpack_symbols(data: bytes, count: int, levels: int) -> Tensor:
    """Inverse of :func:`pack_symbols`; raises ``ValueError`` on a wrong length or value."""
    expected = packed_size(count, levels)
    if len(data) != expected:
        raise ValueError(
            f"fixed-rate string has {len(data)} bytes, expected {expected} "
            f"for {count} symbols of {levels} levels"
        )
    nbits = _bits_per_symbol(levels)
    if nbits is not None:
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))
        if bits[count * nbits :].any():
            raise ValueError("fixed-rate string has non-zero padding bits")
        bits = bits[: count * nbits].reshape(count, nbits).astype(np.int64)
        return torch.from_numpy((bits << np.arange(nbits)).sum(axis=1))
    value = int.from_bytes(data, "big")
    if value >= levels**count:
        raise ValueError("fixed-rate string encodes a value outside the symbol range")
    out = []
    for _ in range(count):
        value, digit = divmod(value, levels)
        out.append(digit)
    return torch.tensor(out, dtype=torch.long)
