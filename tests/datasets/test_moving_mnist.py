"""MovingMNIST: trajectory statistics, rendering, determinism and split separation."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch
from compressai.registry import DATASETS
from torch.utils.data import DataLoader

from compressai_plf.datasets import MovingMNIST, bouncing_walk, reflect, render_clip, resize_digit


def _write_idx(path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def tiny_mnist(tmp_path):
    """Fake MNIST in a flat folder of .gz idx files: 20 train and 10 test 28x28 digits."""
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 20), ("t10k", 10)):
        images = np.zeros((n, 28, 28), np.uint8)
        images[:, 6:22, 8:20] = rng.integers(1, 256, size=(n, 16, 12))
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", images)
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    return tmp_path


def test_registered():
    assert DATASETS["MovingMNIST"] is MovingMNIST


def test_reflect_hand_values():
    pos = torch.tensor([0, 16, 32, 34, 36, -1, -4, 70])
    # 34 -> 30 and 36 -> 28 bounce off 32; -1 -> 1 and -4 -> 4 bounce off 0; 70 = 64 + 6.
    assert reflect(pos, 32).tolist() == [0, 16, 32, 30, 28, 1, 4, 6]


def test_walk_velocity_distribution():
    # A huge canvas never bounces, so steps are the raw velocities.
    g = torch.Generator().manual_seed(1)
    path = bouncing_walk(9001, limit=10**7, max_speed=4, generator=g)
    steps = path.diff(dim=0)
    counts = torch.bincount((steps + 4).flatten(), minlength=9)
    assert len(counts) == 9  # nothing outside {-4..4}
    # 18000 draws, expected 2000 per value, sd ~42: 6 sd tolerance.
    assert (counts - 2000).abs().max() < 250
    # Velocity redrawn every frame: consecutive steps are uncorrelated.
    s = steps[:, 0].float()
    assert abs(torch.corrcoef(torch.stack([s[:-1], s[1:]]))[0, 1]) < 0.05


def test_walk_stays_inside_and_bounces():
    g = torch.Generator().manual_seed(2)
    path = bouncing_walk(5000, limit=32, max_speed=4, generator=g)
    assert path.min() >= 0 and path.max() <= 32
    assert path.diff(dim=0).abs().max() <= 4
    # Over 5000 frames the digit reaches both borders on both axes.
    for axis in range(2):
        assert (path[:, axis] <= 1).any() and (path[:, axis] >= 31).any()


def test_render_sums_and_clips():
    patch = torch.full((2, 2), 0.7)
    same = [torch.tensor([[0, 0]]), torch.tensor([[0, 0]])]
    apart = [torch.tensor([[0, 0]]), torch.tensor([[3, 3]])]
    assert render_clip([patch, patch], same, 5)[0, 0, 0] == 1.0  # 1.4 clipped to 1
    out = render_clip([patch, patch], apart, 5)[0]
    assert out.sum().item() == pytest.approx(8 * 0.7)
    assert out[3:5, 3:5].eq(0.7).all() and out[2, 2] == 0


def test_resize_digit():
    digit = np.full((28, 28), 255, np.uint8)
    patch = resize_digit(digit, 32)
    assert patch.shape == (32, 32) and torch.allclose(patch, torch.ones(32, 32))


def test_clip_geometry_from_frames(tiny_mnist):
    ds = MovingMNIST(root=tiny_mnist, split="train", frames=12)
    for index in range(len(ds)):
        clip, _, paths = ds.sample(index)
        patch = resize_digit(ds.digits[index], 32)
        assert clip.shape == (12, 64, 64)
        for t, (r, c) in enumerate(paths[0].tolist()):
            # The frame is exactly the 32x32 digit at the path position, zero elsewhere.
            assert torch.equal(clip[t, r : r + 32, c : c + 32], patch)
            assert clip[t].sum() == pytest.approx(patch.sum().item(), rel=1e-5)
        assert paths.min() >= 0 and paths.max() <= 32
        assert paths.diff(dim=1).abs().max() <= 4


def test_test_split_is_deterministic(tiny_mnist):
    a = MovingMNIST(root=tiny_mnist, split="test", frames=4, test_size=6)
    b = MovingMNIST(root=tiny_mnist, split="test", frames=4, test_size=6)
    later = [b[i] for i in reversed(range(6))][::-1]  # other order, other instance
    torch.manual_seed(123)  # the global generator must not matter
    for i in range(6):
        assert all(torch.equal(x, y) for x, y in zip(a[i], later[i], strict=True))
    c = MovingMNIST(root=tiny_mnist, split="test", frames=4, test_size=6, seed=1)
    assert not all(torch.equal(x, y) for x, y in zip(a[0], c[0], strict=True))


def test_train_split_draws_new_motion(tiny_mnist):
    ds = MovingMNIST(root=tiny_mnist, split="train", frames=6)
    _, lab1, p1 = ds.sample(3)
    _, lab2, p2 = ds.sample(3)
    assert lab1.tolist() == lab2.tolist() == [3]  # same digit, training digit 3
    assert not torch.equal(p1, p2)


def test_labels_multi_digit_and_channels(tiny_mnist):
    ds = MovingMNIST(
        root=tiny_mnist, split="test", frames=3, num_digits=2, channels=3, return_labels=True
    )
    frames, labels = ds[7]
    assert labels.dtype == torch.int64 and labels.shape == (2,) and labels[0] == 7
    assert len(frames) == 3 and frames[0].shape == (3, 64, 64)
    assert torch.equal(frames[0][0], frames[0][2])
    assert max(f.max() for f in frames) <= 1.0 and min(f.min() for f in frames) >= 0.0


def test_default_collate(tiny_mnist):
    loader = DataLoader(MovingMNIST(root=tiny_mnist, frames=3), batch_size=4)
    batch = next(iter(loader))
    assert isinstance(batch, list) and len(batch) == 3
    assert batch[0].shape == (4, 1, 64, 64) and batch[0].dtype == torch.float32


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"split": "val"}, "unknown split"),
        ({"frames": 0}, "frames"),
        ({"channels": 2}, "channels"),
        ({"digit_size": 80}, "image_size"),
        ({"max_speed": -1}, "max_speed"),
    ],
)
def test_bad_arguments(tiny_mnist, kwargs, match):
    with pytest.raises(ValueError, match=match):
        MovingMNIST(root=tiny_mnist, **kwargs)


def test_missing_files_and_root(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="MNIST images"):
        MovingMNIST(root=tmp_path)
    monkeypatch.delenv("PLF_DATA_ROOT", raising=False)
    with pytest.raises(ValueError, match="PLF_DATA_ROOT"):
        MovingMNIST()


def test_index_out_of_range(tiny_mnist):
    ds = MovingMNIST(root=tiny_mnist, split="test", test_size=3)
    with pytest.raises(IndexError):
        ds[3]


def test_real_mnist_splits_are_disjoint(mnist_root):
    train = MovingMNIST(root=mnist_root, split="train")
    test = MovingMNIST(root=mnist_root, split="test", return_labels=True)
    assert len(train) == 60000 and len(test) == 10000
    seen = {d.tobytes() for d in train.digits}
    assert not any(d.tobytes() in seen for d in test.digits)
    frames, labels = test[0]
    assert labels.item() == int(test.labels[0])
    # The test clip shows the test digit at its path position.
    clip, _, paths = test.sample(0)
    r, c = paths[0, 0].tolist()
    assert torch.equal(clip[0, r : r + 32, c : c + 32], resize_digit(test.digits[0], 32))


def test_env_root(mnist_root, monkeypatch):
    monkeypatch.setenv("PLF_DATA_ROOT", str(mnist_root.parent))
    assert len(MovingMNIST(split="test", test_size=5)) == 5
