r"""Vimeo-90k style folders of frame images, read through CompressAI's ``VideoFolder``.

Vimeo-90k: T. Xue, B. Chen, J. Wu, D. Wei, W. T. Freeman, "Video Enhancement with
Task-Oriented Flow", IJCV 2019, https://arxiv.org/abs/1711.09078.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from compressai.datasets import VideoFolder
from compressai.registry import register_dataset
from compressai.transforms.functional import rgb2ycbcr
from torch import Tensor
from torchvision import transforms

__all__ = ["VideoClipFolder", "find_sequences", "write_split_lists"]

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp"}

# Names of the lists shipped with the Vimeo-90k septuplet archive.
_VIMEO_LISTS = {"train": "sep_trainlist.txt", "test": "sep_testlist.txt"}


def find_sequences(root: str | os.PathLike) -> list[str]:
    """Sorted folders under ``root/sequences`` that directly hold frame images.

    Returned as paths relative to ``root/sequences`` (``"00001/0001"``), the format of the
    list files.
    """
    seq_dir = Path(root) / "sequences"
    if not seq_dir.is_dir():
        raise FileNotFoundError(f"missing directory {seq_dir}")
    found = {
        p.parent.relative_to(seq_dir).as_posix()
        for p in seq_dir.rglob("*")
        if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
    }
    return sorted(found)


def write_split_lists(
    root: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    test_fraction: float = 0.1,
    seed: int = 0,
    by_folder: bool = False,
) -> tuple[Path, Path]:
    """Write ``train.list`` and ``test.list`` for the sequences of ``root``.

    Args:
        root: dataset folder holding ``sequences/``.
        out_dir: where to write the lists (default ``root``; use another folder when ``root``
            is read-only and pass it as ``list_dir`` to :class:`VideoClipFolder`).
        test_fraction: share of sequences (or top-level folders) held out for testing; at
            least one is held out and at least one kept for training.
        seed: seed of the random assignment.
        by_folder: hold out whole top-level folders (``00001/``) so that clips cut from the
            same source video never land on both sides.

    Returns:
        Paths of the train and test lists.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    seqs = find_sequences(root)
    groups = sorted({s.split("/")[0] for s in seqs}) if by_folder else seqs
    if len(groups) < 2:
        raise ValueError(f"need at least 2 {'folders' if by_folder else 'sequences'} to split")
    order = list(groups)
    random.Random(seed).shuffle(order)
    n_test = min(max(1, round(test_fraction * len(order))), len(order) - 1)
    test_groups = set(order[:n_test])
    key = (lambda s: s.split("/")[0]) if by_folder else (lambda s: s)
    out = Path(root if out_dir is None else out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = out / "train.list", out / "test.list"
    for path, is_test in zip(paths, (False, True), strict=True):
        lines = [s for s in seqs if (key(s) in test_groups) == is_test]
        path.write_text("".join(f"{s}\n" for s in lines))
    return paths


@register_dataset("VideoClipFolder")
class VideoClipFolder(VideoFolder):
    r"""CompressAI's ``VideoFolder`` with a configurable clip length and list location.

    Layout (Vimeo-90k septuplets, https://arxiv.org/abs/1711.09078)::

        root/
            train.list      # one sequence per line, relative to sequences/: 00001/0001
            test.list
            sequences/00001/0001/im1.png ... im7.png

    The list is looked up as ``list_dir/<split>.list``, then as the archive's own
    ``sep_trainlist.txt``/``sep_testlist.txt``; :func:`write_split_lists` builds the lists when
    neither exists, and ``split="all"`` uses every sequence folder without a list.

    Items follow ``VideoFolder``: a tuple of ``frames`` tensors ``(3, H, W)`` in [0, 1] taken
    from the sorted images of one sequence (every ``k``-th image with random ``k`` if
    ``rnd_interval``), the same ``transform`` applied to all frames stacked on channels (so a
    random crop is shared), reversed with probability 1/2 if ``rnd_temp_order``.

    Args:
        root: dataset folder.
        split: ``"train"``, ``"test"`` or ``"all"``.
        frames: clip length.
        rnd_interval: random frame interval.
        rnd_temp_order: random temporal reversal.
        transform: transform of the ``(H, W, 3 * frames)`` uint8 array; default
            ``transforms.ToTensor()``.
        list_dir: folder holding the list files (default ``root``).
        channels: 3 (RGB) or 1 (the luma of each frame, BT.709 as CompressAI's
            ``rgb2ycbcr``, for a gray model).
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "train",
        frames: int = 3,
        rnd_interval: bool = False,
        rnd_temp_order: bool = False,
        transform=None,
        list_dir: str | os.PathLike | None = None,
        channels: int = 3,
    ):
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels!r}")
        self.channels = channels
        if split not in ("train", "test", "all"):
            raise ValueError(f"unknown split {split!r}: expected 'train', 'test' or 'all'")
        if not isinstance(frames, int) or frames < 1:
            raise ValueError(f"frames must be a positive integer, got {frames!r}")
        root = Path(root)
        seq_dir = root / "sequences"
        if not seq_dir.is_dir():
            raise FileNotFoundError(f"missing directory {seq_dir}")
        if split == "all":
            names = find_sequences(root)
        else:
            names = _read_list(Path(root if list_dir is None else list_dir), split)
        self.sample_folders = [seq_dir / n for n in names]
        self.max_frames = frames
        self.rnd_interval = rnd_interval
        self.rnd_temp_order = rnd_temp_order
        self.transform = transforms.ToTensor() if transform is None else transform

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        frames = super().__getitem__(index)
        if len(frames) != self.max_frames:
            raise ValueError(
                f"{self.sample_folders[index]} yields {len(frames)} frames, fewer than "
                f"the {self.max_frames} requested"
            )
        if self.channels == 1:
            return tuple(rgb2ycbcr(f)[:1] for f in frames)
        return tuple(frames)


def _read_list(list_dir: Path, split: str) -> list[str]:
    for name in (f"{split}.list", _VIMEO_LISTS[split]):
        path = list_dir / name
        if path.is_file():
            return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    raise FileNotFoundError(
        f"no {split}.list (nor {_VIMEO_LISTS[split]}) in {list_dir}: build one with "
        "compressai_plf.datasets.write_split_lists(root, out_dir=...) and pass list_dir, "
        "or use split='all'"
    )
