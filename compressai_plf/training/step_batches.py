"""Training batches as a pure function of ``(seed, step)``.

The batch of step ``s`` holds positions ``s*B .. s*B+B-1`` of a permutation drawn afresh per
epoch from ``seed + epoch``, and the global RNG is reseeded from ``(seed, step, rank)``
before the items are made. On-the-fly data (Moving MNIST trajectories), quantization noise
and dithers therefore depend only on the step, so a run resumed at step ``s`` continues
exactly as the uninterrupted run would (with in-process loading, ``workers=0``).
"""

from __future__ import annotations

import random

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, default_collate


def seed_everything(seed: int) -> None:
    seed = int(seed) % (2**32)
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)


class StepBatches:
    """Deterministic per-step batches of ``dataset``.

    Args:
        dataset: a map-style dataset returning a tuple of frame tensors per item.
        batch_size: global batch size (split across ranks).
        seed: run seed.
        draws_per_step: batches one training step consumes (e.g. critic iterations + 1).
        rank, world_size: this process's share of the batch.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        seed: int = 0,
        draws_per_step: int = 1,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if len(dataset) < batch_size:
            raise ValueError(
                f"dataset has {len(dataset)} items, fewer than batch size {batch_size}"
            )
        if batch_size % world_size:
            raise ValueError(f"batch size {batch_size} is not divisible by {world_size} processes")
        self.dataset, self.batch_size = dataset, batch_size
        self.seed, self.rank, self.world_size = int(seed), rank, world_size
        self.draws_per_step = int(draws_per_step)
        self.steps_per_epoch = len(dataset) // batch_size
        self._perm_epoch, self._perm = -1, None

    def indices(self, position: int) -> list[int]:
        """Dataset indices of batch number ``position`` (this rank's share)."""
        epoch, pos = divmod(position, self.steps_per_epoch)
        if epoch != self._perm_epoch:
            g = torch.Generator().manual_seed(self.seed + epoch)
            self._perm, self._perm_epoch = torch.randperm(len(self.dataset), generator=g), epoch
        batch = self._perm[pos * self.batch_size : (pos + 1) * self.batch_size]
        return batch[self.rank :: self.world_size].tolist()

    def __call__(self, step: int, draw: int = 0) -> list[Tensor]:
        """Frames of step ``step`` (``draw`` separates the several batches one step uses,
        e.g. the critic iterations), as a list of ``(B, C, H, W)`` tensors."""
        if not 0 <= draw < self.draws_per_step:
            raise ValueError(f"draw must be in [0, {self.draws_per_step}), got {draw}")
        seed_everything(
            np.random.SeedSequence([self.seed, step, draw, self.rank]).generate_state(1)[0]
        )
        idx = self.indices(step * self.draws_per_step + draw)
        items = [self.dataset[i] for i in idx]
        frames = default_collate([_frames_of(item) for item in items])
        return list(frames)


def _frames_of(item):
    # Datasets may return (frames, labels); training uses the frames only.
    if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], (tuple, list)):
        return tuple(item[0])
    return tuple(item)
