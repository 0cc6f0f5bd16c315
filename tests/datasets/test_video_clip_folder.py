"""VideoClipFolder and split-list building on Vimeo-90k style folders."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from compressai.datasets import VideoFolder
from compressai.registry import DATASETS
from PIL import Image

from compressai_plf.datasets import VideoClipFolder, find_sequences, write_split_lists


@pytest.fixture
def vimeo(tmp_path):
    """3 folders x 2 sequences x 5 frames of 8x12 RGB, pixel value = 10 * frame + sequence."""
    root = tmp_path / "vimeo"
    for g in range(3):
        for s in range(2):
            seq = root / "sequences" / f"0000{g + 1}" / f"000{s + 1}"
            seq.mkdir(parents=True)
            for i in range(5):
                img = np.full((8, 12, 3), 10 * i + 2 * g + s, np.uint8)
                Image.fromarray(img).save(seq / f"im{i + 1}.png")
    return root


def test_registered_without_shadowing_compressai():
    assert DATASETS["VideoClipFolder"] is VideoClipFolder
    assert DATASETS["VideoFolder"] is VideoFolder


def test_find_sequences(vimeo):
    assert find_sequences(vimeo)[:3] == ["00001/0001", "00001/0002", "00002/0001"]
    assert len(find_sequences(vimeo)) == 6


def test_split_lists(vimeo, tmp_path):
    train, test = write_split_lists(vimeo, out_dir=tmp_path / "lists", test_fraction=0.34)
    a, b = train.read_text().split(), test.read_text().split()
    assert len(b) == 2 and sorted(a + b) == find_sequences(vimeo)
    # Same seed, same split; by_folder keeps whole folders on one side.
    assert (
        write_split_lists(vimeo, out_dir=tmp_path / "l2", test_fraction=0.34)[1].read_text().split()
        == b
    )
    _, test_f = write_split_lists(
        vimeo, out_dir=tmp_path / "l3", test_fraction=0.34, by_folder=True
    )
    held = {s.split("/")[0] for s in test_f.read_text().split()}
    assert len(held) == 1 and len(test_f.read_text().split()) == 2
    with pytest.raises(ValueError, match="test_fraction"):
        write_split_lists(vimeo, test_fraction=1.0)


def test_items(vimeo):
    write_split_lists(vimeo, test_fraction=0.5)
    ds = VideoClipFolder(vimeo, split="test", frames=4)
    assert len(ds) == 3
    clip = ds[0]
    assert len(clip) == 4 and clip[0].shape == (3, 8, 12) and clip[0].dtype == torch.float32
    base = round(clip[0][0, 0, 0].item() * 255)
    assert [round(f[0, 0, 0].item() * 255) - base for f in clip] == [0, 10, 20, 30]


def test_split_all_and_official_list_names(vimeo, tmp_path):
    assert len(VideoClipFolder(vimeo, split="all")) == 6
    (vimeo / "sep_trainlist.txt").write_text("00002/0002\n\n")
    ds = VideoClipFolder(vimeo, split="train", frames=2)
    assert len(ds) == 1 and round(ds[0][1][0, 0, 0].item() * 255) == 10 + 3


def test_errors(vimeo, tmp_path):
    with pytest.raises(FileNotFoundError, match="write_split_lists"):
        VideoClipFolder(vimeo, split="test")
    with pytest.raises(ValueError, match="unknown split"):
        VideoClipFolder(vimeo, split="valid")
    with pytest.raises(FileNotFoundError, match="sequences"):
        VideoClipFolder(tmp_path / "nothing", split="all")
    with pytest.raises(ValueError, match="fewer"):
        VideoClipFolder(vimeo, split="all", frames=6)[0]


def test_shared_vimeo_sample(data_root, tmp_path):
    root = data_root / "video" / "vimeo_septuplet_sample"
    assert len(find_sequences(root)) == 16
    write_split_lists(root, out_dir=tmp_path, test_fraction=0.25)
    ds = VideoClipFolder(root, split="test", list_dir=tmp_path)
    assert len(ds) == 4
    clip = ds[0]
    first = np.array(Image.open(ds.sample_folders[0] / "im1.png").convert("RGB"))
    assert torch.equal(
        (clip[0] * 255).round().to(torch.uint8), torch.from_numpy(first).permute(2, 0, 1)
    )
