"""y4m reader/writer: round trips, real files and malformed input."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from compressai_plf.datasets import read_y4m, write_y4m


def _planes(rng, t, h, w, ch, cw):
    return (
        rng.integers(0, 256, (t, h, w), dtype=np.uint8),
        rng.integers(0, 256, (t, ch, cw), dtype=np.uint8),
        rng.integers(0, 256, (t, ch, cw), dtype=np.uint8),
    )


@pytest.mark.parametrize(
    "chroma, cs", [((3, 5), "420"), ((5, 5), "422"), ((5, 10), "444"), (None, "mono")]
)
def test_round_trip(tmp_path, chroma, cs):
    rng = np.random.default_rng(0)
    y, u, v = _planes(rng, 3, 5, 10, *(chroma or (1, 1)))
    if chroma is None:
        u = v = None
    write_y4m(tmp_path / "a.y4m", y, u, v, fps=Fraction(30000, 1001))
    out = read_y4m(tmp_path / "a.y4m")
    assert out.colorspace == cs and out.fps == Fraction(30000, 1001)
    assert (out.width, out.height, len(out)) == (10, 5, 3)
    assert np.array_equal(out.y, y)
    if chroma is None:
        assert out.u is None and out.v is None
    else:
        assert np.array_equal(out.u, u) and np.array_equal(out.v, v)


def test_hand_written_file(tmp_path):
    # 2x2 4:2:0: 4 luma + 1 + 1 chroma bytes per frame, frame header with a parameter.
    data = b"YUV4MPEG2 W2 H2 F25:1 C420jpeg\nFRAME Ixyz\n" + bytes([1, 2, 3, 4, 5, 6])
    (tmp_path / "h.y4m").write_bytes(data)
    out = read_y4m(tmp_path / "h.y4m")
    assert out.y.tolist() == [[[1, 2], [3, 4]]]
    assert out.u.tolist() == [[[5]]] and out.v.tolist() == [[[6]]]


def test_shared_kth_clip(data_root):
    out = read_y4m(data_root / "video" / "kth" / "person01_jogging_d1_seg1.y4m")
    assert (out.colorspace, out.width, out.height, len(out)) == ("mono", 160, 120, 50)
    assert out.fps == 25 and out.y.std() > 10  # real content, not a blank frame


def test_shared_420_clip_matches_raw_yuv(data_root):
    # The y4m and the raw .yuv of the park clip hold the same planes.
    out = read_y4m(data_root / "video" / "vmaf_src01_160x90_48f.y4m")
    raw = np.fromfile(data_root / "video" / "yuv" / "src01_160x90_25Hz_8bit_P420.yuv", np.uint8)
    raw = raw.reshape(48, -1)
    assert np.array_equal(raw[:, : 160 * 90].reshape(48, 90, 160), out.y)
    assert np.array_equal(raw[:, -45 * 80 :].reshape(48, 45, 80), out.v)


def test_malformed(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_y4m(tmp_path / "missing.y4m")
    (tmp_path / "a.y4m").write_bytes(b"RIFF1234")
    with pytest.raises(ValueError, match="YUV4MPEG2"):
        read_y4m(tmp_path / "a.y4m")
    (tmp_path / "b.y4m").write_bytes(b"YUV4MPEG2 W2 H2 C420p10\n")
    with pytest.raises(ValueError, match="colorspace"):
        read_y4m(tmp_path / "b.y4m")
    (tmp_path / "c.y4m").write_bytes(b"YUV4MPEG2 W2 H2 Cmono\nFRAME\n" + bytes(3))
    with pytest.raises(ValueError, match="truncated"):
        read_y4m(tmp_path / "c.y4m")
    (tmp_path / "d.y4m").write_bytes(b"YUV4MPEG2 H2 Cmono\n")
    with pytest.raises(ValueError, match="W/H"):
        read_y4m(tmp_path / "d.y4m")


def test_writer_rejects_bad_planes(tmp_path):
    y = np.zeros((1, 4, 4), np.uint8)
    with pytest.raises(ValueError, match="uint8"):
        write_y4m(tmp_path / "a.y4m", y.astype(np.float32))
    with pytest.raises(ValueError, match="chroma"):
        write_y4m(
            tmp_path / "a.y4m", y, np.zeros((1, 3, 3), np.uint8), np.zeros((1, 3, 3), np.uint8)
        )
    with pytest.raises(ValueError, match="both"):
        write_y4m(tmp_path / "a.y4m", y, np.zeros((1, 2, 2), np.uint8))
