"""Exact packing of runs of symbols, each run with its own alphabet, into one byte string.

Used for each fixed-rate latent's string (one run) and for a whole clip's payload in the
container of :mod:`compressai_plf.io` (all runs of the clip).

Fixed-rate latents (``FixedRateLatentCoder``) cost ``log2(L)`` bits per symbol. Packing each
latent of each frame into its own byte string wastes up to 7 bits per string; packing the whole
clip as one mixed-radix integer wastes at most 7 bits per clip.

Runs ``(symbols_i, L_i)`` are read as one integer whose digits are the symbols in order, the
first symbol least significant: ``value = sum_j s_j * prod_{k<j} L_k``. The integer is stored
little-endian in ``ceil(bits / 8)`` bytes, ``bits = bit_length(prod_j L_j - 1)``. When every
alphabet size is a power of two this is plain LSB-first bit packing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor


def _log2_exact(levels: int) -> int | None:
    return levels.bit_length() - 1 if levels & (levels - 1) == 0 else None


def _chunk_digits(levels: int) -> int:
    """Largest k with levels**k < 2**63, so k digits fit in an int64."""
    k = 1
    while levels ** (k + 1) < 2**63:
        k += 1
    return k


def _digits_to_int(digits: np.ndarray, levels: int) -> int:
    if digits.size == 0:
        return 0
    nbits = _log2_exact(levels)
    if nbits is not None:
        bits = (digits[:, None] >> np.arange(nbits)) & 1
        packed = np.packbits(bits.reshape(-1).astype(np.uint8), bitorder="little")
        return int.from_bytes(packed.tobytes(), "little")
    k = _chunk_digits(levels)
    padded = np.zeros(-(-digits.size // k) * k, dtype=np.int64)
    padded[: digits.size] = digits
    powers = np.array([levels**j for j in range(k)], dtype=np.int64)
    values = [int(v) for v in (padded.reshape(-1, k) * powers).sum(axis=1)]
    base = levels**k
    # Pairwise combination keeps the big-integer products balanced (subquadratic overall).
    while len(values) > 1:
        if len(values) % 2:
            values.append(0)
        values = [lo + hi * base for lo, hi in zip(values[::2], values[1::2], strict=True)]
        base *= base
    return values[0]


def _int_to_digits(value: int, count: int, levels: int) -> np.ndarray:
    nbits = _log2_exact(levels)
    if nbits is not None:
        raw = np.frombuffer(value.to_bytes(-(-count * nbits // 8), "little"), dtype=np.uint8)
        bits = np.unpackbits(raw, bitorder="little")[: count * nbits].astype(np.int64)
        return (bits.reshape(count, nbits) << np.arange(nbits)).sum(axis=1)
    k = _chunk_digits(levels)
    out: list[int] = []
    powers: dict[int, int] = {}

    def split(v: int, n: int) -> None:
        if n <= k:
            for _ in range(n):
                v, d = divmod(v, levels)
                out.append(d)
            return
        half = n // 2
        if half not in powers:
            powers[half] = levels**half
        hi, lo = divmod(v, powers[half])
        split(lo, half)
        split(hi, n - half)

    split(value, count)
    return np.asarray(out, dtype=np.int64)


def _layout_product(layout: Sequence[tuple[int, int]]) -> int:
    """``prod levels**count`` over the runs, in time linear in the result's size.

    Runs are grouped by alphabet (a clip has at most three), so there is one power per
    alphabet instead of one big-integer product per run (quadratic in the number of runs).
    """
    counts: dict[int, int] = {}
    for count, levels in layout:
        if levels < 2 or count < 0:
            raise ValueError(f"invalid run: {count} symbols of {levels} levels")
        counts[levels] = counts.get(levels, 0) + count
    shift, total = 0, 1
    for levels, count in counts.items():
        exact = _log2_exact(levels)
        if exact is not None:
            shift += exact * count  # powers of two: a shift, no multiplication
        else:
            total *= levels**count
    return total << shift


def symbol_bits(count: int, levels: int) -> float:
    """Information bits ``count * log2(levels)`` of ``count`` symbols of ``levels`` values
    each: the one definition of a fixed-rate latent's size (:meth:`FixedRateLatentCoder.bits`,
    the zoo's bit budgets); the packed payload rounds a clip's sum up once
    (:func:`packed_bits`)."""
    return count * math.log2(levels)


def packed_bits(layout: Sequence[tuple[int, int]]) -> int:
    """Exact bits of runs ``(count, levels)``: ``bit_length(prod levels**count - 1)``."""
    return (_layout_product(layout) - 1).bit_length()


def packed_bits_estimate(layout: Sequence[tuple[int, int]]) -> float:
    """The runs' :func:`symbol_bits` summed in floating point: within a bit of
    :func:`packed_bits` for any realistic layout, in O(runs) without big integers (a cheap
    plausibility check)."""
    return float(sum(symbol_bits(count, levels) for count, levels in layout))


def pack_runs(runs: Sequence[tuple[np.ndarray, int]]) -> bytes:
    """Pack runs ``(symbols, levels)`` (integer arrays, values in ``[0, levels)``)."""
    value, scale = 0, 1
    for symbols, levels in runs:
        digits = np.asarray(symbols, dtype=np.int64).reshape(-1)
        if digits.size and (digits.min() < 0 or digits.max() >= levels):
            raise ValueError(f"symbols must lie in [0, {levels})")
        part = _digits_to_int(digits, levels)
        # Shifting is linear; multiplying by a power of two is not special-cased by CPython.
        value += part << (scale.bit_length() - 1) if scale & (scale - 1) == 0 else part * scale
        scale *= levels**digits.size
    nbits = packed_bits([(np.asarray(s).size, lv) for s, lv in runs])
    return value.to_bytes(-(-nbits // 8), "little")


def unpack_runs(data: bytes, layout: Sequence[tuple[int, int]]) -> list[np.ndarray]:
    """Inverse of :func:`pack_runs` for runs ``(count, levels)``.

    Raises:
        ValueError: if ``data`` has the wrong length or encodes a value outside the range of
            the layout (non-zero padding bits included).
    """
    nbits = packed_bits(layout)
    if len(data) != -(-nbits // 8):
        raise ValueError(f"packed symbols take {-(-nbits // 8)} bytes, got {len(data)}")
    value = int.from_bytes(data, "little")
    if value >= _layout_product(layout):
        raise ValueError("packed symbols encode a value outside the symbol range")
    out: list[np.ndarray] = []

    # Split the runs in halves (divide and conquer): peeling one run at a time off the
    # front would rewrite the remaining big integer once per run (quadratic in the runs).
    def split(v: int, runs: Sequence[tuple[int, int]]) -> None:
        if len(runs) == 1:
            out.append(_int_to_digits(v, *runs[0]))
            return
        half = len(runs) // 2
        size = _layout_product(runs[:half])
        nb = _log2_exact(size)
        hi, lo = (v >> nb, v & (size - 1)) if nb is not None else divmod(v, size)
        split(lo, runs[:half])
        split(hi, runs[half:])

    if layout:
        split(value, list(layout))
    return out


def packed_size(count: int, levels: int) -> int:
    """Bytes taken by ``count`` symbols of ``levels`` values."""
    return -(-packed_bits([(count, levels)]) // 8)


def pack_symbols(symbols: Tensor | np.ndarray, levels: int) -> bytes:
    """Pack one run of symbols in ``[0, levels)`` (one latent's string)."""
    return pack_runs([(np.asarray(symbols).reshape(-1), levels)])


def unpack_symbols(data: bytes, count: int, levels: int) -> Tensor:
    """Inverse of :func:`pack_symbols`; ``ValueError`` on a wrong length or value."""
    return torch.from_numpy(unpack_runs(data, [(count, levels)])[0])
