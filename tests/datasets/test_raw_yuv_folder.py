"""RawYUVFolder: clip indexing over a folder of .yuv files."""

from __future__ import annotations

import pytest
import torch
from compressai.registry import DATASETS

from compressai_plf.datasets import (
    RawYUVFolder,
    YUVFormatError,
    read_yuv420,
    write_yuv420,
    yuv420_name,
)


@pytest.fixture
def yuv_dir(tmp_path):
    torch.manual_seed(0)
    for stem, t, (h, w) in (("a", 7, (8, 12)), ("b", 4, (6, 10))):
        write_yuv420(tmp_path / yuv420_name(stem, w, h), torch.rand(t, 3, h, w))
    return tmp_path


def test_registered():
    assert DATASETS["RawYUVFolder"] is RawYUVFolder


def test_windows(yuv_dir):
    ds = RawYUVFolder(yuv_dir, frames=3)
    assert len(ds) == 2 + 1  # floor(7 / 3) + floor(4 / 3)
    ref = read_yuv420(yuv_dir / yuv420_name("a", 12, 8))
    clip = ds[1]
    assert len(clip) == 3 and clip[0].shape == (3, 8, 12)
    assert torch.equal(torch.stack(clip), ref[3:6])
    assert len(RawYUVFolder(yuv_dir, frames=3, stride=1)) == 5 + 2
    assert len(RawYUVFolder(yuv_dir, frames=3, max_frames=3)) == 2


def test_whole_sequences(yuv_dir):
    ds = RawYUVFolder(yuv_dir)
    assert [len(ds[i]) for i in range(len(ds))] == [7, 4]


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no .yuv"):
        RawYUVFolder(tmp_path)
    with pytest.raises(FileNotFoundError):
        RawYUVFolder(tmp_path / "missing")
    (tmp_path / "x_8x8.yuv").write_bytes(bytes(100))
    with pytest.raises(ValueError, match="not a multiple"):
        RawYUVFolder(tmp_path)
    with pytest.raises(ValueError, match="frames"):
        RawYUVFolder(tmp_path, frames=0)


def test_non_420_file_refused(tmp_path):
    (tmp_path / "x_8x8_30Hz_8bit_y42B.yuv").write_bytes(bytes(8 * 8 * 2 * 3))  # 4:2:2, 3 frames
    with pytest.raises(YUVFormatError, match="yuv422"):
        RawYUVFolder(tmp_path)


def test_shared_folder(data_root):
    ds = RawYUVFolder(data_root / "video" / "yuv", frames=3, max_frames=6)
    assert len(ds) == 4
    assert ds[0][0].shape == (3, 288, 352) and ds[2][0].shape == (3, 90, 160)
