"""Checkpoint files: atomic writes, safe loads, the state dict inside.

One home for reading and writing every torch file of the package (training checkpoints, zoo
weight files, evaluation critics, the digit classifier, CompressAI tool checkpoints).

A checkpoint is written to a temporary file in the target folder, flushed to disk and then
renamed over the target (``os.replace`` is atomic on POSIX), so a process killed at any
moment leaves either the previous checkpoint or the new one, never half a file. Checkpoints
hold only tensors and plain Python types, so they load with ``weights_only=True``: a
malicious pickle cannot run code, and ``map_location`` lets a GPU checkpoint load on a CPU.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from .models.ssf_plf import ScaleSpaceFlowPLF


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


class CheckpointError(ValueError):
    """A file is damaged, unsafe to unpickle, or does not hold what the caller expects."""


def load_checkpoint(
    path: str | os.PathLike,
    map_location: str | torch.device = "cpu",
    what: str = "checkpoint",
    hint: str = "",
) -> dict:
    """Load a torch file safely (``weights_only=True``) as a dict.

    Args:
        path: the file.
        map_location: device to load onto (a GPU checkpoint loads on a CPU).
        what: what the file is, for the messages (``"evaluation critics"``).
        hint: how to make the file, appended to the not-found message.

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: the file is damaged, unsafe, or holds no dict.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}" + (f"; {hint}" if hint else ""))
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # zip/pickle/unpickling errors vary with the damage
        raise CheckpointError(
            f"{what} {path} is damaged or not a safe torch checkpoint: {err}"
        ) from err
    if not isinstance(ckpt, dict):
        raise CheckpointError(f"{what} {path} does not hold a dict (got {type(ckpt).__name__})")
    return ckpt


#: Keys under which checkpoints keep the model's state dict, first match wins: the order of
#: CompressAI's ``eval_model`` and ``update_model`` tools, so a file holding two reads the same
#: in this package and in them.
STATE_DICT_KEYS = ("network", "state_dict", "model_state_dict")
#: Prefixes that DistributedDataParallel and wrappers put before every key.
_WRAPPER_PREFIXES = ("module.", "model.")


def state_dict_of(checkpoint: dict, source: str = "checkpoint") -> dict:
    """The model state dict of a checkpoint: under the first of :data:`STATE_DICT_KEYS`
    (``network``, ``state_dict``, ``model_state_dict``) it holds, or the dict itself; a wrapper
    prefix on every key is removed.

    Raises:
        CheckpointError: what was found is not a dict.
    """
    state: Any = checkpoint
    for key in STATE_DICT_KEYS:
        if key in checkpoint:
            state = checkpoint[key]
            break
    if not isinstance(state, dict):
        raise CheckpointError(f"{source} holds no state dict (got {type(state).__name__})")
    for prefix in _WRAPPER_PREFIXES:
        if state and all(isinstance(k, str) and k.startswith(prefix) for k in state):
            state = {k[len(prefix) :]: v for k, v in state.items()}
    return state


def load_ssf_plf(path: str | os.PathLike, what: str = "checkpoint") -> ScaleSpaceFlowPLF:
    """The ``ScaleSpaceFlowPLF`` of a training checkpoint, zoo weight file or bare state dict,
    rebuilt from the architecture the state dict stores (``_extra_state``), not updated.

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: the file is damaged, unsafe, or holds no ``ScaleSpaceFlowPLF``.
    """
    return ssf_plf_of(load_checkpoint(path, what=what), f"{what} {path}")


def ssf_plf_of(ckpt: dict, source: str = "checkpoint") -> ScaleSpaceFlowPLF:
    """The ``ScaleSpaceFlowPLF`` of a loaded checkpoint dict (see :func:`load_ssf_plf`)."""
    state = state_dict_of(ckpt, source)
    if "_extra_state" not in state:
        found = [k for k in ckpt if k in STATE_DICT_KEYS] or sorted(ckpt)[:8]
        raise CheckpointError(
            f"{source} holds no ScaleSpaceFlowPLF state dict (looked for keys "
            f"{list(STATE_DICT_KEYS)} with an '_extra_state' architecture record; found {found})"
        )
    return ScaleSpaceFlowPLF.from_state_dict(state)


def training_weights(ckpt: dict) -> dict[str, Any]:
    """The loss weights a model was trained with: ``lmbda`` (the rate-distortion weight of the
    stage that trained its bitstream: a checkpoint's ``bitstream_lmbda`` record, which stages
    that keep the bitstream carry on from their ``--init`` source),
    ``lambda_p`` (stages with perceptual heads) and ``plf_weights`` (the heads given their own
    perception weight, ``--plf-weights``, which replace ``lambda_p`` for them), ``None`` where
    they do not apply or were not recorded. Read from a zoo weight file's ``meta`` or a
    training checkpoint's ``args``."""
    meta = ckpt.get("meta")
    if isinstance(meta, dict):
        return {k: meta.get(k) for k in ("lmbda", "lambda_p", "plf_weights")}
    args = ckpt.get("args") or {}
    plf = args.get("plf")
    if "bitstream_lmbda" in ckpt:  # recorded by the trainer, carried through --init
        lmbda = ckpt["bitstream_lmbda"]
    else:  # older checkpoints: only a rate-distortion stage's own lmbda is known
        lmbda = args.get("lmbda") if ckpt.get("stage_name") == "mse" else None
    return {
        "lmbda": lmbda,
        "lambda_p": args.get("lambda_p") if plf else None,
        "plf_weights": (args.get("plf_weights") or None) if plf else None,
    }
