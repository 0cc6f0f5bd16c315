"""Real clips of natural RGB video for the evaluation critics (the natural-video counterpart
of :mod:`compressai_plf.eval.critic_clips`).

Clips are random ``size`` x ``size`` crops of ``frames`` consecutive frames of the septuplets
of a training folder written by ``python -m compressai_plf.datasets.natural_septuplets``:
``split="train"`` (the folder's ``train.list``) for the critics' training clips,
``split="test"`` (``test.list``, septuplets neither the critics nor their training clips use)
for their validation. The natural family's test clips (Foreman, the VMAF park clip) are not in
that folder at all, so the critics never see the clips they will measure.
"""

from __future__ import annotations

import os

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from ..datasets import VideoClipFolder

__all__ = ["natural_critic_clips"]


def natural_critic_clips(
    root: str | os.PathLike,
    split: str,
    count: int,
    frames: int = 3,
    size: int = 64,
    seed: int = 0,
) -> Tensor:
    """``count`` real clips ``(count, frames, 3, size, size)`` in [0, 1], drawn with ``seed``.

    Raises:
        FileNotFoundError: no folder or list at ``root``.
        ValueError: bad counts, or septuplets smaller than the crop.
    """
    if count < 1 or not 1 <= frames <= 7 or size < 1:
        raise ValueError(f"need count >= 1, 1 <= frames <= 7, size >= 1; got {count}, {frames}")
    folders = VideoClipFolder(root, split=split, frames=frames).sample_folders
    gen = torch.Generator().manual_seed(seed)
    cache: dict[int, np.ndarray] = {}
    out = torch.empty(count, frames, 3, size, size)
    for i in range(count):
        k = int(torch.randint(len(folders), (1,), generator=gen))
        if k not in cache:  # (7, H, W, 3) uint8
            images = sorted(folders[k].glob("im*.png"))
            cache[k] = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in images])
        seq = cache[k]
        t, h, w = seq.shape[:3]
        if h < size or w < size or t < frames:
            raise ValueError(f"{folders[k]}: {t} frames of {h}x{w}, smaller than the clip")
        start = int(torch.randint(t - frames + 1, (1,), generator=gen))
        y = int(torch.randint(h - size + 1, (1,), generator=gen))
        x = int(torch.randint(w - size + 1, (1,), generator=gen))
        crop = seq[start : start + frames, y : y + size, x : x + size]
        out[i] = torch.from_numpy(crop.copy()).permute(0, 3, 1, 2).float() / 255
    return out
