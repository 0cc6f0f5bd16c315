"""The natural-video training folder: septuplets cut from video files, test clips left out."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from compressai_plf.datasets import VideoClipFolder, decode_video, pyav_available, write_y4m
from compressai_plf.datasets.natural_septuplets import build_natural_septuplets

pytestmark = pytest.mark.skipif(not pyav_available(), reason="PyAV is not installed")


def _video(path, frames: int, h: int, w: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 256, (frames, h, w), dtype=np.uint8)
    c = np.full((frames, h // 2, w // 2), 128, dtype=np.uint8)
    write_y4m(path, y, c, c)


def test_septuplets_from_videos_and_vimeo_with_the_test_clips_held_out(tmp_path):
    videos = tmp_path / "video"
    videos.mkdir()
    _video(videos / "street_64x96.y4m", 16, 96, 64, 0)  # 2 septuplets, scaled to height 48
    _video(videos / "foreman_cif_test.y4m", 14, 32, 32, 1)  # a held-out test clip
    vimeo = videos / "vimeo_septuplet_sample" / "sequences" / "00001" / "0001"
    vimeo.mkdir(parents=True)
    for i in range(1, 8):
        Image.fromarray(np.zeros((32, 48, 3), np.uint8)).save(vimeo / f"im{i}.png")
    info = build_natural_septuplets(videos, tmp_path / "out", septuplets_per_file=5, max_height=48)
    assert info["held_out"] == ["foreman_cif_test.y4m"]
    assert info["sources"] == {"street_64x96.y4m": 2, "vimeo/00001/0001": 1}
    out = tmp_path / "out" / "sequences"
    assert sorted(p.parent.name for p in out.glob("*/0001")) == ["street_64x96", "vimeo-00001"]
    assert not list(out.glob("foreman*"))
    # frames in order, scaled to height 48 (the box filter of a 2x reduction is a 2x2 mean)
    frames = decode_video(videos / "street_64x96.y4m", "rgb24")
    second = np.asarray(Image.open(out / "street_64x96" / "0002" / "im1.png"))
    expect = frames[7].reshape(48, 2, 32, 2, 3).astype(float).mean((1, 3))
    assert second.shape == (48, 32, 3) and np.abs(second - expect).max() <= 1
    train = VideoClipFolder(tmp_path / "out", split="all", frames=3)
    assert len(train) == 3 and train[0][0].shape == (3, 48, 32)
    gray = VideoClipFolder(tmp_path / "out", split="all", frames=3, channels=1)
    assert gray[0][0].shape == (1, 48, 32) and torch.all(gray[0][0] <= 1)
    with pytest.raises(FileNotFoundError, match="video folder not found"):
        build_natural_septuplets(tmp_path / "missing", tmp_path / "o")
