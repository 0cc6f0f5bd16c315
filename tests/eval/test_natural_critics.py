"""Evaluation critics for natural RGB video: built on crops of a natural training folder,
scoring frames of any size patch by patch, refused on Moving MNIST (issue 20)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from compressai_plf.datasets import write_yuv420, yuv420_name
from compressai_plf.eval import EvalCritics, evaluate_models, load_clips
from compressai_plf.eval.build_eval_critics import NATURAL_MARGIN_CAP
from compressai_plf.eval.build_eval_critics import main as build
from compressai_plf.eval.clip_metrics import build_metric_suite
from compressai_plf.eval.natural_critic_clips import natural_critic_clips
from compressai_plf.models import ScaleSpaceFlowPLF
from compressai_plf.zoo.presets import tiny_architecture


def _natural_folder(root, septuplets: int = 4, h: int = 72, w: int = 96):
    rng = np.random.default_rng(0)
    names = []
    for k in range(septuplets):
        folder = root / "sequences" / "clip" / f"{k + 1:04d}"
        folder.mkdir(parents=True)
        for i in range(1, 8):
            image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            Image.fromarray(image).save(folder / f"im{i}.png")
        names.append(f"clip/{k + 1:04d}")
    (root / "train.list").write_text("".join(f"{n}\n" for n in names[:-1]))
    (root / "test.list").write_text(f"{names[-1]}\n")
    return root


def test_clips_are_seeded_crops_of_the_split(tmp_path):
    root = _natural_folder(tmp_path / "nat")
    clips = natural_critic_clips(root, "train", 5, frames=3, size=64, seed=3)
    assert clips.shape == (5, 3, 3, 64, 64) and 0 <= clips.min() and clips.max() <= 1
    assert torch.equal(clips, natural_critic_clips(root, "train", 5, 3, 64, seed=3))
    # every crop is a window of some septuplet's frames: find the first one in its source
    test = natural_critic_clips(root, "test", 2, frames=2, size=64, seed=0)
    seq = np.stack(
        [np.asarray(Image.open(root / f"sequences/clip/0004/im{i}.png")) for i in range(1, 8)]
    )
    frame = (test[0, 0].permute(1, 2, 0) * 255).round().byte().numpy()
    found = any(
        np.array_equal(seq[t, y : y + 64, x : x + 64], frame)
        for t in range(7)
        for y in range(72 - 63)
        for x in range(96 - 63)
    )
    assert found  # validation crops come from test.list's septuplet only


@pytest.fixture(scope="module")
def natural_critics(tmp_path_factory):
    torch.manual_seed(0)
    tmp = tmp_path_factory.mktemp("critics")
    root = _natural_folder(tmp / "nat")
    out = tmp / "critics.pt"
    build(
        ["--dataset", "natural", "--data-root", str(root), "--out", str(out), "--steps", "2"]
        + ["--batch-size", "2", "--clips", "6", "--val-clips", "3", "--widths", "4,8,8,8"]
        + ["--plf", "jd,fmd", "--no-progress", "--threads", "1"]
    )
    return EvalCritics.load(out)


def test_build_records_natural_data_and_validation(natural_critics):
    meta = natural_critics.meta
    assert meta["dataset"] == "natural" and meta["patches"] is True
    assert natural_critics.channels == 3 and natural_critics.image_size == (64, 64)
    assert "identity" not in meta["reference"]["jd"]  # Moving MNIST only
    assert set(meta["validation"]) == {"jd", "fmd"}
    assert "generalisation_gap" in meta["validation"]["fmd"]
    assert meta["margin_cap"] == NATURAL_MARGIN_CAP  # the natural default


def test_larger_frames_are_scored_as_the_mean_of_their_patches(natural_critics):
    torch.manual_seed(1)
    x = torch.rand(2, 3, 3, 130, 200)  # 2 x 3 patches of 64x64, remainder left out
    y = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)
    assert torch.all(natural_critics.w1_per_frame("fmd", x, x) == 0)
    got = natural_critics.w1_per_frame("fmd", x, y, reduction="none")
    patches = [
        natural_critics.w1_per_frame(
            "fmd",
            x[..., r : r + 64, c : c + 64],
            y[..., r : r + 64, c : c + 64],
            reduction="none",
        )
        for r in (0, 64)
        for c in (0, 64, 128)
    ]
    assert torch.allclose(got, torch.stack(patches).mean(0))
    with pytest.raises(ValueError, match="or larger"):
        natural_critics.w1_per_frame("fmd", x[..., :32, :], x[..., :32, :])


def test_natural_critics_measure_yuv_clips_and_not_moving_mnist(natural_critics, tmp_path):
    write_yuv420(tmp_path / yuv420_name("ramp", 128, 64, 25), torch.rand(2, 3, 64, 128))
    torch.manual_seed(0)
    net = ScaleSpaceFlowPLF(**{**tiny_architecture("hyperprior"), "decoders": ("mse", "fmd")})
    net.update(force=True)
    data = evaluate_models(
        [net.eval()], "yuv", tmp_path, eval_critics=natural_critics, lpips=None, progress=False
    )
    res = data["results"]
    assert np.isfinite(res["w1-fmd/mse"][0]) and np.isfinite(res["w1-jd/fmd"][0])
    assert data["settings"]["eval_critics_meta"]["dataset"] == "natural"
    assert len(load_clips("yuv", tmp_path)) == 1
    with pytest.raises(ValueError, match="built on 'natural' clips"):
        build_metric_suite("mmnist", 3, 64, 64, eval_critics=natural_critics, lpips=None)
