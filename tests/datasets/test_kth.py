"""KTH: name parsing, selection by split/scenario/person, preprocessing, all source kinds."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import torch
from compressai.registry import DATASETS
from PIL import Image

from compressai_plf.anchors import ffmpeg_available
from compressai_plf.datasets import KTH, parse_kth_name, write_y4m


def _ramp(t: int, h: int = 120, w: int = 160) -> np.ndarray:
    """Frame i is constant 10 * i, so values identify frame indices after resizing."""
    return np.repeat(np.arange(t, dtype=np.uint8)[:, None, None] * 10, h * w).reshape(t, h, w)


@pytest.fixture
def kth_dir(tmp_path):
    for name, t in (
        ("person01_walking_d4_uncomp", 7),
        ("person20_jogging_d4_uncomp", 5),
        ("person21_running_d4_uncomp", 4),  # test person
        ("person02_boxing_d4_uncomp", 6),  # other action
        ("person03_walking_d1_uncomp", 6),  # other scenario
    ):
        write_y4m(tmp_path / f"{name}.y4m", _ramp(t))
    return tmp_path


def test_registered():
    assert DATASETS["KTH"] is KTH


def test_parse_name():
    v = parse_kth_name("x/person07_handwaving_d3_seg2.y4m")
    assert (v.person, v.action, v.scenario, v.segment) == (7, "handwaving", 3, 2)
    v = parse_kth_name("person25_running_d4_uncomp.avi")
    assert (v.person, v.action, v.scenario, v.segment) == (25, "running", 4, None)
    assert parse_kth_name("person01_dancing_d1.avi") is None
    assert parse_kth_name("readme.txt") is None


def test_split_selection_and_windows(kth_dir):
    train = KTH(root=kth_dir, split="train", frames=3)
    assert [(v.person, v.action) for v in train.videos] == [(1, "walking"), (20, "jogging")]
    assert len(train) == 7 // 3 + 5 // 3
    test = KTH(root=kth_dir, split="test", frames=3, scenarios=["d4"])
    assert [v.person for v in test.videos] == [21] and len(test) == 1
    clip = train[1]  # second window of the walking video: frames 3, 4, 5
    assert len(clip) == 3 and clip[0].shape == (1, 64, 64)
    values = [round(f.mean().item() * 255) for f in clip]
    assert values == [30, 40, 50]
    assert all(torch.equal(f, f.flatten()[0].expand_as(f)) for f in clip)  # constant frames


def test_stride_step_persons_channels(kth_dir):
    ds = KTH(root=kth_dir, persons=[1], frames=3, stride=1, frame_step=2, channels=3)
    assert len(ds) == 7 - 4  # windows span 5 frames
    clip = ds[2]
    assert [round(f.mean().item() * 255) for f in clip] == [20, 40, 60]
    assert clip[0].shape == (3, 64, 64)
    scenario_1 = KTH(root=kth_dir, persons=[3], scenarios=[1], actions=["walking"], frames=2)
    assert len(scenario_1) == 3


def test_center_crop(tmp_path):
    frames = np.zeros((2, 120, 160), np.uint8)
    frames[:, :, :20] = 255  # only outside the centred 120x120 square
    write_y4m(tmp_path / "person01_walking_d4.y4m", frames)
    assert KTH(root=tmp_path, frames=2)[0][0].max() == 0
    squeezed = KTH(root=tmp_path, frames=2, center_crop=False, size=32)[0][0]
    assert squeezed.shape == (1, 32, 32) and squeezed[0, :, 0].min() == 1.0


def test_frame_folder(tmp_path):
    folder = tmp_path / "walking" / "person05_walking_d4"
    folder.mkdir(parents=True)
    for i in range(12):  # natural order: frame_10 after frame_9
        Image.fromarray(np.full((120, 160), 10 * i, np.uint8)).save(folder / f"frame_{i}.png")
    ds = KTH(root=tmp_path, frames=12)
    assert len(ds) == 1
    assert [round(f.mean().item() * 255) for f in ds[0]] == [10 * i for i in range(12)]


def test_errors(kth_dir, tmp_path):
    with pytest.raises(ValueError, match="unknown split"):
        KTH(root=kth_dir, split="val")
    with pytest.raises(ValueError, match="actions"):
        KTH(root=kth_dir, actions=["dancing"])
    with pytest.raises(ValueError, match="scenario"):
        KTH(root=kth_dir, scenarios=["x4"])
    with pytest.raises(ValueError, match="frames"):
        KTH(root=kth_dir, frames=0)
    with pytest.raises(FileNotFoundError, match="no KTH videos"):
        KTH(root=kth_dir, persons=[9])
    with pytest.raises(ValueError, match="shorter"):
        KTH(root=kth_dir, frames=50)
    with pytest.raises(FileNotFoundError, match="not found"):
        KTH(root=tmp_path / "missing")


def test_shared_kth_person1(data_root):
    root = data_root / "video" / "kth"
    ds = KTH(root=root, split="train", scenarios=["d1"], persons=[1])
    assert [v.action for v in ds.videos] == ["jogging", "running", "walking"]
    assert len(ds) == 50 // 3 + 35 // 3 + 75 // 3
    clip = ds[0]
    assert clip[0].shape == (1, 64, 64) and 0.0 <= clip[0].min() and clip[0].max() <= 1.0
    with pytest.raises(FileNotFoundError):
        KTH(root=root, split="train")  # the shared data has no scenario d4


@pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg/ffprobe not installed")
def test_avi_through_ffmpeg(tmp_path):
    src = tmp_path / "src.y4m"
    write_y4m(src, _ramp(6))
    avi = tmp_path / "person22_jogging_d4_uncomp.avi"
    cmd = ["ffmpeg", "-v", "error", "-i", str(src), "-c:v", "ffv1", "-pix_fmt", "gray", str(avi)]
    subprocess.run(cmd, check=True)
    src.unlink()
    ds = KTH(root=tmp_path, split="test", frames=3)
    assert len(ds) == 2
    assert [round(f.mean().item() * 255) for f in ds[1]] == [30, 40, 50]
