"""Held-out real Moving MNIST clips for the evaluation critics.

The critics must see real clips that are neither the evaluation clips (``MovingMNIST(split=
"test")`` uses the 10000 MNIST ``t10k`` digits) nor, ideally, the codec's training clips. They
use a reserved tail of the MNIST *training* digits: by default indices ``55000..59999``
(:data:`RESERVED_DIGITS`), split by a seeded permutation into 4000 digits for training the
critics and 1000 for validating them (:func:`split_reserved`; a random split, because
contiguous blocks of MNIST differ, e.g. in stroke thickness, enough to shift critic scores). A codec trained with
``MovingMNIST(split="train", train_size=55000)`` never sees them (item ``i`` of the training
split shows digit ``i``); a codec trained on all 60000 digits has seen these digits on other
trajectories.

Clips are rendered exactly as ``MovingMNIST`` renders them (same digit size, speeds, bounce),
from a generator seeded per clip, so the set is fixed by ``(seed, index)``.
"""

from __future__ import annotations

import os

import numpy as np
import torch
from torch import Tensor

from ..datasets.mnist_idx import load_mnist
from ..datasets.moving_mnist import bouncing_walk, clip_generator
from .identity_swap import ClipTrajectories

__all__ = [
    "RESERVED_DIGITS",
    "VALIDATION_DIGITS",
    "draw_trajectories",
    "load_reserved_digits",
    "render_clips",
    "split_reserved",
]

#: MNIST training-digit indices reserved for the evaluation critics: ``range(start, stop)``.
RESERVED_DIGITS = (55000, 60000)
#: How many of the reserved digits are kept for validating the critics.
VALIDATION_DIGITS = 1000


def load_reserved_digits(
    root: str | os.PathLike, reserved: tuple[int, int] = RESERVED_DIGITS, download: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The reserved MNIST training digits ``(N, 28, 28)`` uint8 and their labels ``(N,)``.

    Args:
        root: MNIST root (``root/MNIST/raw/*-ubyte`` or idx files in ``root``).
        reserved: ``(start, stop)`` indices into the 60000 training digits.
        download: fetch MNIST through torchvision when missing.
    """
    start, stop = reserved
    if not 0 <= start < stop <= 60000:
        raise ValueError(f"reserved digits must satisfy 0 <= start < stop <= 60000, got {reserved}")
    images, labels = load_mnist(root, train=True, download=download)
    if len(images) < stop:
        raise ValueError(f"MNIST training split has {len(images)} digits, need {stop}")
    return images[start:stop], labels[start:stop]


def split_reserved(
    count: int, validation: int = VALIDATION_DIGITS, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, validation)`` into ``count`` reserved digits: a seeded permutation,
    the last ``validation`` of it held out, both sorted."""
    if not 0 < validation < count:
        raise ValueError(f"need 0 < validation < {count} reserved digits, got {validation}")
    perm = np.random.default_rng(seed).permutation(count)
    return np.sort(perm[:-validation]), np.sort(perm[-validation:])


def draw_trajectories(
    digits: np.ndarray,
    labels: np.ndarray,
    count: int,
    frames: int = 3,
    seed: int = 0,
    image_size: int = 64,
    digit_size: int = 32,
    max_speed: int = 4,
) -> ClipTrajectories:
    """The digit and bouncing walk of each of ``count`` clips, as :func:`render_clips` draws
    them (clip ``k``: digit ``k mod len(digits)``, walk from a generator seeded by
    ``(seed, k)``); :meth:`ClipTrajectories.swap` re-renders them with another digit."""
    if count < 1 or frames < 1 or len(digits) == 0:
        raise ValueError(f"need count >= 1, frames >= 1 and digits, got {count}, {frames}")
    limit = image_size - digit_size
    paths = torch.empty(count, frames, 2, dtype=torch.long)
    for k in range(count):
        paths[k] = bouncing_walk(frames, limit, max_speed, clip_generator(seed, k))
    clip_digits = torch.arange(count) % len(digits)
    return ClipTrajectories(digits, labels, clip_digits, paths, image_size, digit_size)


def render_clips(
    digits: np.ndarray,
    count: int,
    frames: int = 3,
    seed: int = 0,
    image_size: int = 64,
    digit_size: int = 32,
    max_speed: int = 4,
    labels: np.ndarray | None = None,
) -> Tensor:
    """Render ``count`` one-digit Moving MNIST clips, ``(count, frames, 1, H, W)`` in [0, 1].

    Clip ``k`` shows ``digits[k mod len(digits)]`` on a bouncing walk drawn from a generator
    seeded by ``(seed, k)``, as ``MovingMNIST(split="test")`` does for its clips.

    Args:
        digits: uint8 ``(N, 28, 28)`` MNIST digits.
        count: number of clips.
        frames: clip length.
        seed: seed of the set.
        image_size, digit_size, max_speed: ``MovingMNIST`` geometry (the paper's defaults).
        labels: the digits' classes (only needed by :func:`draw_trajectories`' swaps).
    """
    if labels is None:
        labels = np.arange(len(digits)) % 2  # rendering does not read classes
    traj = draw_trajectories(digits, labels, count, frames, seed, image_size, digit_size, max_speed)
    return traj.render(torch.arange(count), traj.clip_digits.view(-1, 1).repeat(1, frames))
