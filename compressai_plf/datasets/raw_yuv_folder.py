"""A folder of raw YUV 4:2:0 8-bit sequences (CompressAI eval-tool naming) as RGB clips, or as
their luma plane for 1-channel models."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import torch
from compressai.registry import register_dataset
from torch import Tensor
from torch.utils.data import Dataset

from .eval_split import EvalSplit, eval_dataset
from .raw_yuv import num_frames, parse_yuv_name, read_yuv420, read_yuv420_planes

__all__ = ["RawYUVFolder"]


@eval_dataset("yuv")
@register_dataset("RawYUVFolder")
class RawYUVFolder(Dataset):
    """Every ``*.yuv`` in a folder, the input of ``compressai.utils.video.eval_model``.

    Each file name must carry ``WxH`` (e.g. ``clip_448x256_30Hz_8bit_P420.yuv``). Frames are
    converted to RGB like CompressAI's eval tool (see :mod:`compressai_plf.datasets.raw_yuv`).
    Items are a tuple of ``frames`` tensors ``(3, H, W)`` in [0, 1] (``(1, H, W)``, the luma
    plane as stored, with ``planes="y"``): consecutive windows
    starting every ``stride`` frames, or whole sequences when ``frames`` is ``None`` (use
    ``batch_size=1`` then, since sequences differ in length and size).

    Args:
        root: folder with the ``.yuv`` files.
        frames: clip length, or ``None`` for whole sequences.
        stride: frames between window starts (default: ``frames``).
        max_frames: read at most this many frames of each sequence.
        planes: ``"rgb"`` or ``"y"`` (the Y plane alone, for a gray model).
    """

    PLANES = ("rgb", "y")

    def __init__(
        self,
        root: str | os.PathLike,
        frames: int | None = None,
        stride: int | None = None,
        max_frames: int | None = None,
        planes: str = "rgb",
    ):
        if planes not in self.PLANES:
            raise ValueError(f"planes must be one of {self.PLANES}, got {planes!r}")
        self.planes = planes
        for name, value in (("frames", frames), ("stride", stride), ("max_frames", max_frames)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"YUV folder not found: {self.root}")
        self.files = sorted(self.root.glob("*.yuv"))
        if not self.files:
            raise FileNotFoundError(f"no .yuv files in {self.root}")
        self.frames = frames
        self.index: list[tuple[Path, int, int]] = []
        for path in self.files:
            n = num_frames(path, parse_yuv_name(path))
            if max_frames is not None:
                n = min(n, max_frames)
            if frames is None:
                self.index.append((path, 0, n))
            else:
                step = frames if stride is None else stride
                self.index += [(path, s, frames) for s in range(0, n - frames + 1, step)]

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        path, start, count = self.index[index]
        if self.planes == "y":
            y = read_yuv420_planes(path, start=start, count=count)[0]
            return tuple(torch.from_numpy(y).float().div(255).unsqueeze(1))
        return tuple(read_yuv420(path, start=start, count=count))

    def luma(self) -> RawYUVFolder:
        """The same sequences and windows, as their luma plane."""
        out = copy.copy(self)
        out.planes = "y"
        return out

    @classmethod
    def eval_split(
        cls,
        root: str | os.PathLike | None,
        frames: int | None,
        max_clips: int | None,
        fps: float | None,
        **kwargs,
    ) -> EvalSplit:
        """Evaluation clips (``--dataset yuv``): every ``*.yuv`` of ``root``, RGB; one clip per
        file named by its stem (whole sequences) or, with ``frames``, windows named
        ``<stem>@<start frame>``; frame rate from the file name (30 when it has none).

        Raises:
            ValueError: ``root`` is ``None``.
        """
        del max_clips  # windows are read on access
        if root is None:
            raise ValueError("dataset 'yuv' needs data_root, the folder holding the .yuv files")
        items = cls(root=root, frames=frames, **kwargs)
        names, rates = [], []
        for path, start, _ in items.index:
            names.append(path.stem if frames is None else f"{path.stem}@{start}")
            rate = parse_yuv_name(path).fps
            rates.append(float(fps or (rate if rate is not None else 30.0)))
        return EvalSplit(items, names, rates, f"YUV sequences in {root}")
