"""Mixed-radix packing of fixed-rate symbols: hand-computed values, sizes and round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest

from compressai_plf.models.symbol_packing import pack_runs, packed_bits, unpack_runs


def test_first_symbol_is_least_significant():
    # bits 1, 0, 1 -> 0b101
    assert pack_runs([(np.array([1, 0, 1]), 2)]) == b"\x05"
    # 2 + 1*3 + 1*9 = 14 < 3*3*2 = 18 -> 5 bits -> one byte
    assert pack_runs([(np.array([2, 1]), 3), (np.array([1]), 2)]) == b"\x0e"
    # four-level symbols 3, 0, 1 -> 3 + 0*4 + 1*16 = 19
    assert pack_runs([(np.array([3, 0, 1]), 4)]) == bytes([19])


@pytest.mark.parametrize(
    "layout, bits",
    [
        ([(12, 2)], 12),
        ([(12, 2), (6, 4), (6, 4)], 36),
        ([(5, 3)], 8),  # 3**5 - 1 = 242 < 256
        ([(6, 3)], 10),  # 3**6 - 1 = 728
        ([(0, 5)], 0),
        ([(1, 5), (1, 3)], 4),  # 15 values
    ],
)
def test_packed_bits_is_the_exact_information(layout, bits):
    assert packed_bits(layout) == bits
    assert packed_bits(layout) == math.ceil(sum(n * math.log2(lv) for n, lv in layout) - 1e-12)


@pytest.mark.parametrize(
    "layout",
    [
        [(12, 2), (30, 4), (30, 4)],
        [(7, 3), (100, 5), (1, 2)],
        [(1000, 3)],  # chunked path and balanced splitting
        [(3, 256), (5, 7), (0, 2), (9, 2)],
    ],
)
def test_round_trip_and_length(layout):
    rng = np.random.default_rng(0)
    runs = [(rng.integers(0, lv, n), lv) for n, lv in layout]
    data = pack_runs(runs)
    assert len(data) == math.ceil(packed_bits(layout) / 8)
    back = unpack_runs(data, layout)
    assert all(np.array_equal(a, r) for a, (r, _) in zip(back, runs, strict=True))


def test_all_extreme_symbols_round_trip():
    layout = [(50, 3), (20, 4)]
    runs = [(np.full(n, lv - 1), lv) for n, lv in layout]
    assert [a.tolist() for a in unpack_runs(pack_runs(runs), layout)] == [
        r.tolist() for r, _ in runs
    ]


def test_rejects_out_of_range_and_damaged_data():
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        pack_runs([(np.array([4]), 4)])
    with pytest.raises(ValueError, match="bytes"):
        unpack_runs(b"\x00\x00", [(3, 2)])
    with pytest.raises(ValueError, match="outside"):
        unpack_runs(b"\x08", [(3, 2)])  # padding bit set
    with pytest.raises(ValueError, match="outside"):
        unpack_runs(bytes([18]), [(2, 3), (1, 2)])  # 18 >= 3*3*2


def test_single_run_helpers_round_trip_and_sizes():
    import torch

    from compressai_plf.models.symbol_packing import pack_symbols, packed_size, unpack_symbols

    for levels in (2, 3, 4, 5, 16):
        for n in (0, 1, 7, 12, 100):
            s = torch.randint(0, levels, (n,))
            b = pack_symbols(s, levels)
            assert len(b) == packed_size(n, levels)
            assert torch.equal(unpack_symbols(b, n, levels), s)
    assert packed_size(12, 2) == 2 and packed_size(3, 4) == 1 and packed_size(5, 3) == 1  # 3^5=243
