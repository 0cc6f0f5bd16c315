"""Reconstruction grids: the source clip in the first row, one row per decoder, frames in
columns."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from ..checkpoint import load_checkpoint
from ._figure import save

SOURCE_KEY = "source"


def load_grid(path: str | Path) -> dict[str, np.ndarray]:
    """Read clips for a grid from ``.npz`` (``np.savez``) or a torch file of a dict of
    tensors (read with ``weights_only=True``), keeping the stored order.

    Expected keys: ``"source"`` and one per decoder (``"mse"``, ``"jd"``, ``"fmd"``,
    ``"sa"``, ...); values (T, C, H, W), (N, T, C, H, W) or (T, H, W), float in [0, 1] or
    uint8.
    """
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path) as f:
            data = {k: f[k] for k in f.files}
    else:
        obj = load_checkpoint(path, what="reconstruction grid")
        data = {k: torch.as_tensor(v).cpu().numpy() for k, v in obj.items()}
    if SOURCE_KEY not in data:
        raise ValueError(f"{path}: no {SOURCE_KEY!r} entry (keys: {list(data)})")
    return data


def _clip(x: np.ndarray, sample: int, name: str) -> np.ndarray:
    """(T, H, W, C) float image stack in [0, 1]."""
    x = np.asarray(x)
    scale = 255.0 if x.dtype == np.uint8 else 1.0
    if x.ndim == 5:
        if not 0 <= sample < x.shape[0]:
            raise ValueError(f"{name}: sample {sample} out of range (N={x.shape[0]})")
        x = x[sample]
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"{name}: expected (T, C, H, W) with C in (1, 3), got {x.shape}")
    return np.clip(x.astype(np.float64) / scale, 0, 1).transpose(0, 2, 3, 1)


def plot_reconstruction_grid(
    clips: Mapping[str, np.ndarray], path: str | Path, sample: int = 0, title: str | None = None
) -> Path:
    """Draw the source row and one row per decoder.

    Args:
        clips: ``{"source": ..., "<decoder>": ...}`` as returned by :func:`load_grid`.
        path: output image file.
        sample: clip index when the arrays carry a batch dimension.
        title: figure title.
    """
    if SOURCE_KEY not in clips:
        raise ValueError(f"no {SOURCE_KEY!r} clip")
    names = [SOURCE_KEY, *(k for k in clips if k != SOURCE_KEY)]
    rows = [_clip(clips[k], sample, k) for k in names]
    t = max(r.shape[0] for r in rows)
    fig = Figure(figsize=(1.3 * t + 0.6, 1.3 * len(rows) + (0.4 if title else 0)))
    axes = fig.subplots(len(rows), t, squeeze=False)
    for i, (name, row) in enumerate(zip(names, rows, strict=True)):
        for j in range(t):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j >= row.shape[0]:
                ax.set_axis_off()
                continue
            img = row[j]
            if img.shape[-1] == 1:
                ax.imshow(img[..., 0], cmap="gray", vmin=0, vmax=1)
            else:
                ax.imshow(img)
            if i == 0:
                ax.set_title(f"t={j + 1}", fontsize="small")
            if j == 0:
                ax.set_ylabel(name, fontsize="small")
    if title:
        fig.suptitle(title)
    return save(fig, path)
