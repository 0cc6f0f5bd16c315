"""Training batches as a pure function of ``(seed, step, draw)``, loaded in-process or by
DataLoader workers.

The batch of step ``s`` holds positions ``s*B .. s*B+B-1`` of a permutation drawn afresh per
epoch from ``seed + epoch``. Each item is made after reseeding the RNGs from
``(seed, step, draw, rank, position)``, so on-the-fly data (Moving MNIST trajectories, random
crops) does not depend on which process makes it or in which order; after the batch is
assembled the main process's RNGs are reseeded from ``(seed, step, draw, rank)``, so the
quantization noise and dithers of the step depend only on the step too. A run resumed at
step ``s`` therefore continues exactly as the uninterrupted run would, with any number of
workers (tested: ``num_workers=2`` gives the batches of ``num_workers=0``).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, default_collate

Key = tuple[int, int]  # (step, draw)


def seed_everything(seed: int) -> None:
    seed = int(seed) % (2**32)
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)


def _seed_of(*key: int) -> int:
    return int(np.random.SeedSequence([int(k) for k in key]).generate_state(1)[0])


class _KeyedItems(Dataset):
    """``dataset`` indexed by ``(step, draw, position, index)``: each item is made after
    reseeding from its key (picklable, so DataLoader workers can make it)."""

    def __init__(self, dataset: Dataset, seed: int, rank: int) -> None:
        self.dataset, self.seed, self.rank = dataset, seed, rank

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int, int, int]) -> tuple[int, int, tuple]:
        step, draw, position, index = key
        seed_everything(_seed_of(self.seed, step, draw, self.rank, position))
        return step, draw, _frames_of(self.dataset[index])


def _collate(items: list[tuple[int, int, tuple]]) -> tuple[Key, tuple]:
    return (items[0][0], items[0][1]), default_collate([item[2] for item in items])


class StepBatches:
    """Deterministic per-step batches of ``dataset``.

    Args:
        dataset: a map-style dataset returning a tuple of frame tensors per item.
        batch_size: global batch size (split across ranks).
        seed: run seed.
        draws_per_step: batches one training step consumes (e.g. critic iterations + 1).
        rank, world_size: this process's share of the batch.
        num_workers: DataLoader worker processes that make the batches ahead of the steps
            (0: in the training process). The batches are the same either way.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        seed: int = 0,
        draws_per_step: int = 1,
        rank: int = 0,
        world_size: int = 1,
        num_workers: int = 0,
    ) -> None:
        if len(dataset) < batch_size:
            raise ValueError(
                f"dataset has {len(dataset)} items, fewer than batch size {batch_size}"
            )
        if batch_size % world_size:
            raise ValueError(f"batch size {batch_size} is not divisible by {world_size} processes")
        if num_workers < 0:
            raise ValueError(f"num_workers must be >= 0, got {num_workers}")
        self.dataset, self.batch_size = dataset, batch_size
        self.seed, self.rank, self.world_size = int(seed), rank, world_size
        self.draws_per_step = int(draws_per_step)
        self.steps_per_epoch = len(dataset) // batch_size
        self.num_workers = int(num_workers)
        self._items = _KeyedItems(dataset, self.seed, rank)
        self._perm_epoch, self._perm = -1, None
        self._loader: Iterator[tuple[Key, tuple]] | None = None
        self._ahead: Key | None = None  # the next key the loader yields
        self._buffer: dict[Key, tuple] = {}

    def indices(self, position: int) -> list[int]:
        """Dataset indices of batch number ``position`` (this rank's share)."""
        epoch, pos = divmod(position, self.steps_per_epoch)
        if epoch != self._perm_epoch:
            g = torch.Generator().manual_seed(self.seed + epoch)
            self._perm, self._perm_epoch = torch.randperm(len(self.dataset), generator=g), epoch
        batch = self._perm[pos * self.batch_size : (pos + 1) * self.batch_size]
        return batch[self.rank :: self.world_size].tolist()

    def _keys(self, step: int, draw: int) -> list[tuple[int, int, int, int]]:
        idx = self.indices(step * self.draws_per_step + draw)
        return [(step, draw, pos, i) for pos, i in enumerate(idx)]

    def __call__(self, step: int, draw: int = 0) -> list[Tensor]:
        """Frames of step ``step`` (``draw`` separates the several batches one step uses,
        e.g. the critic iterations), as a list of ``(B, C, H, W)`` tensors."""
        if not 0 <= draw < self.draws_per_step:
            raise ValueError(f"draw must be in [0, {self.draws_per_step}), got {draw}")
        if self.num_workers:
            frames = self._from_loader(step, draw)
        else:
            frames = _collate([self._items[k] for k in self._keys(step, draw)])[1]
        seed_everything(_seed_of(self.seed, step, draw, self.rank))
        return list(frames)

    # ------------------------------------------------------------------ workers
    def _key_stream(self, start: int) -> Iterator[list[tuple[int, int, int, int]]]:
        for step in itertools.count(start):
            for draw in range(self.draws_per_step):
                yield self._keys(step, draw)

    def _start(self, step: int) -> None:
        self.close()
        # a separate sampler object: the workers' copies never touch this one's permutation
        sampler = StepBatches(self.dataset, self.batch_size, self.seed, self.draws_per_step)
        sampler.rank, sampler.world_size = self.rank, self.world_size
        loader = DataLoader(
            self._items,
            batch_sampler=sampler._key_stream(step),
            num_workers=self.num_workers,
            collate_fn=_collate,
        )
        self._loader, self._ahead = iter(loader), (step, 0)

    def _from_loader(self, step: int, draw: int) -> tuple:
        key = (step, draw)
        if key in self._buffer:
            return self._buffer.pop(key)
        if self._loader is None or self._ahead is None or key < self._ahead:
            self._start(step)  # a request behind the loader (e.g. after critic warm-up)
        while True:
            got, frames = next(self._loader)
            nxt = (got[0], got[1] + 1)
            self._ahead = nxt if nxt[1] < self.draws_per_step else (got[0] + 1, 0)
            if got == key:
                break
            self._buffer[got] = frames
        self._buffer = {k: v for k, v in self._buffer.items() if k[0] >= step}  # stale draws
        return frames

    def close(self) -> None:
        """Stop the worker processes (they also stop when this object is collected)."""
        self._loader, self._ahead, self._buffer = None, None, {}


def _frames_of(item):
    # Datasets may return (frames, labels); training uses the frames only.
    if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], (tuple, list)):
        return tuple(item[0])
    return tuple(item)
