"""Read the standard MNIST idx files (plain or gzipped, torchvision layout or flat folder).

MNIST: Y. LeCun, C. Cortes, C. J. C. Burges, http://yann.lecun.com/exdb/mnist/.
The idx format is a big-endian header (magic ``0x0000 <dtype> <ndim>``, one uint32 per
dimension) followed by the raw array.
"""

from __future__ import annotations

import functools
import gzip
import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

__all__ = ["find_mnist_file", "load_mnist", "load_mnist_tensors", "read_idx"]

_IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_STEMS = {
    (True, "images"): "train-images-idx3-ubyte",
    (True, "labels"): "train-labels-idx1-ubyte",
    (False, "images"): "t10k-images-idx3-ubyte",
    (False, "labels"): "t10k-labels-idx1-ubyte",
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one idx file (``.gz`` allowed) into a numpy array.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the header or the payload size is invalid.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"idx file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an idx file (bad magic number)")
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(
            f"{path}: header announces shape {shape} ({expected} bytes) but the file holds "
            f"{len(data) - header} bytes"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)


def find_mnist_file(root: str | os.PathLike, train: bool, kind: str) -> Path:
    """Find an MNIST idx file under ``root``.

    Looks in ``root/MNIST/raw`` (torchvision's layout) and in ``root`` itself, for the
    standard name, its ``.gz`` version and the ``train-images.idx3-ubyte`` spelling.

    Args:
        root: folder holding the files.
        train: training files if ``True``, else the ``t10k`` test files.
        kind: ``"images"`` or ``"labels"``.

    Raises:
        ValueError: if ``kind`` is unknown.
        FileNotFoundError: if no candidate exists (the message lists them).
    """
    if kind not in ("images", "labels"):
        raise ValueError(f"kind must be 'images' or 'labels', got {kind!r}")
    stem = _STEMS[(train, kind)]
    dotted = stem.replace("-idx", ".idx")
    root = Path(root)
    candidates = [
        folder / name
        for folder in (root / "MNIST" / "raw", root)
        for name in (stem, stem + ".gz", dotted, dotted + ".gz")
    ]
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(
        f"MNIST {kind} ({'train' if train else 't10k'}) not found under {root}; looked for "
        + ", ".join(str(c) for c in candidates[:2])
        + " and variants (.gz, '.idx' spelling). Pass download=True to fetch with torchvision."
    )


@functools.lru_cache(maxsize=4)
def _load_cached(images: Path, labels: Path) -> tuple[np.ndarray, np.ndarray]:
    x, y = read_idx(images), read_idx(labels)
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(
            f"inconsistent MNIST files: images {x.shape} ({images}), labels {y.shape} ({labels})"
        )
    return x, y


def load_mnist(
    root: str | os.PathLike, train: bool, download: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST images ``(N, 28, 28)`` uint8 and labels ``(N,)`` uint8 (read-only arrays).

    Args:
        root: folder with the idx files (see :func:`find_mnist_file`).
        train: the 60000 training digits if ``True``, else the 10000 test digits.
        download: fetch the files with ``torchvision.datasets.MNIST`` into
            ``root/MNIST/raw`` when missing.
    """
    root = Path(root)
    try:
        images = find_mnist_file(root, train, "images")
        labels = find_mnist_file(root, train, "labels")
    except FileNotFoundError:
        if not download:
            raise
        from torchvision.datasets import MNIST

        MNIST(root=str(root), train=train, download=True)
        images = find_mnist_file(root, train, "images")
        labels = find_mnist_file(root, train, "labels")
    return _load_cached(images.resolve(), labels.resolve())


def load_mnist_tensors(
    root: str | os.PathLike, train: bool = True, download: bool = False
) -> tuple[Tensor, Tensor]:
    """:func:`load_mnist` as tensors: uint8 images ``(N, 28, 28)`` and int64 labels ``(N,)``
    (copies, so they are writable)."""
    images, labels = load_mnist(root, train, download)
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))
