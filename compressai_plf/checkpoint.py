"""Training checkpoints: atomic writes, safe loads, RNG state.

A checkpoint is written to a temporary file in the target folder, flushed to disk and then
renamed over the target (``os.replace`` is atomic on POSIX), so a process killed at any
moment leaves either the previous checkpoint or the new one, never half a file. Checkpoints
hold only tensors and plain Python types, so they load with ``weights_only=True``: a
malicious pickle cannot run code, and ``map_location`` lets a GPU checkpoint load on a CPU.
"""

from __future__ import annotations

import errno
import os
import random
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch


def save_atomic(obj: dict[str, Any], path: str | os.PathLike, mode: int = 0o644) -> Path:
    """``torch.save`` to ``path`` atomically (temporary file, fsync, rename), with file
    permissions ``mode`` (``mkstemp`` creates 0600; a checkpoint is shared like any output)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if _disk_full(err, path.parent):
            raise DiskFullError(
                errno.ENOSPC,
                f"disk full while writing {path}; the previous checkpoint is intact (the "
                "partial file was removed). Free space and resume.",
            ) from err
        raise
    return path


class DiskFullError(OSError):
    """A checkpoint could not be written for lack of space; the previous one is intact."""


def _disk_full(err: BaseException, folder: Path) -> bool:
    """Whether ``err`` from writing into ``folder`` means the disk is full. torch's zip
    writer reports ENOSPC as a RuntimeError ("unexpected pos ...", "file write failed")."""
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if not isinstance(err, RuntimeError):
        return False
    text = str(err)
    if "unexpected pos" in text or "write failed" in text:
        return True
    try:
        return shutil.disk_usage(folder).free < 1 << 20
    except OSError:
        return False


def remove_orphaned_tmp(folder: str | os.PathLike, names: Iterable[str]) -> list[Path]:
    """Delete the temporary files ``.{name}.*.tmp`` that :func:`save_atomic` leaves when the
    process is killed mid-write (one per kill, each the size of a checkpoint); returns them.
    Only the run's own process calls this, on start, before any checkpoint is written."""
    folder = Path(folder)
    removed = []
    for name in names:
        for tmp in folder.glob(f".{name}.*.tmp"):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint safely; a missing or damaged file raises a clear error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # zip/pickle/unpickling errors vary with the damage
        raise ValueError(
            f"checkpoint {path} is damaged or not a safe torch checkpoint: {err}"
        ) from err
    if not isinstance(ckpt, dict):
        raise ValueError(f"checkpoint {path} does not hold a dict (got {type(ckpt).__name__})")
    return ckpt


def rng_state() -> dict[str, Any]:
    """RNG states of torch, Python and NumPy as tensors and plain types."""
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
