"""MNIST idx reader: formats, layouts and errors."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from compressai_plf.datasets import find_mnist_file, load_mnist, read_idx


def _idx_bytes(array: np.ndarray) -> bytes:
    return (
        bytes([0, 0, 0x08, array.ndim])
        + np.array(array.shape, dtype=">u4").tobytes()
        + array.astype(np.uint8).tobytes()
    )


def test_read_plain_and_gz(tmp_path):
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(_idx_bytes(a))
    with gzip.open(tmp_path / "a.gz", "wb") as f:
        f.write(_idx_bytes(a))
    assert np.array_equal(read_idx(tmp_path / "a"), a)
    assert np.array_equal(read_idx(tmp_path / "a.gz"), a)


def test_torchvision_layout_preferred(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(np.array([1, 2])))
    (tmp_path / "t10k-labels.idx1-ubyte").write_bytes(_idx_bytes(np.array([3])))
    assert find_mnist_file(tmp_path, False, "labels") == raw / "t10k-labels-idx1-ubyte"


def test_load_checks_consistency(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx_bytes(np.zeros((3, 28, 28))))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(np.zeros(2)))
    with pytest.raises(ValueError, match="inconsistent"):
        load_mnist(tmp_path, train=True)


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")
    (tmp_path / "bad").write_bytes(b"\x12\x34\x08\x01" + bytes(8))
    with pytest.raises(ValueError, match="magic"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(_idx_bytes(np.zeros((4, 5)))[:-3])
    with pytest.raises(ValueError, match="header announces"):
        read_idx(tmp_path / "short")
    with pytest.raises(ValueError, match="kind"):
        find_mnist_file(tmp_path, True, "pixels")
    with pytest.raises(FileNotFoundError, match="download=True"):
        find_mnist_file(tmp_path, True, "images")


def test_real_mnist(mnist_root):
    x, y = load_mnist(mnist_root, train=False)
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (10000,) and set(np.unique(y)) == set(range(10))
