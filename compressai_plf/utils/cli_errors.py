"""One clear line, not a traceback, for a bad command line.

Every ``python -m compressai_plf...`` tool (and ``examples/train_video.py``) checks its
options first (the ``check_*`` helpers name the option and the file) and runs its body inside
:func:`one_line_errors`, which turns the exceptions that bad input raises deep inside torch,
numpy or CompressAI (``KeyError: 101`` from a text file given as a checkpoint, a dtype error
from a wrongly sized YUV file) into ``error: <what>`` and exit status 1. Set
``PLF_TRACEBACK=1`` to get the traceback instead (for a bug report).
"""

from __future__ import annotations

import math
import os
import pickle
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

# What bad input raises (a bug raises these too: PLF_TRACEBACK=1 shows where).
CLI_ERRORS = (
    OSError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    RuntimeError,
    EOFError,
    pickle.UnpicklingError,
    zipfile.BadZipFile,
)


def describe(err: BaseException) -> str:
    """The first line of ``err``'s message, with the file for an ``OSError``."""
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        return f"{err.strerror}: {err.filename}"
    text = str(err).strip()
    if isinstance(err, KeyError) or not text:
        return f"{type(err).__name__}: {text}" if text else type(err).__name__
    return text.splitlines()[0]


@contextmanager
def one_line_errors(context: str = "") -> Iterator[None]:
    """Run a command line's body; an error from bad input exits with one line."""
    try:
        yield
    except CLI_ERRORS as err:
        if os.environ.get("PLF_TRACEBACK"):
            raise
        prefix = f"{context}: " if context else ""
        raise SystemExit(f"error: {prefix}{describe(err)}") from None


def fail(message: str) -> SystemExit:
    """``raise fail("--fps must be > 0")``: exit with ``error: <message>``."""
    return SystemExit(f"error: {message}")


def check_positive(value: float | None, option: str, allow_zero: bool = False) -> None:
    """``value`` (if given) is finite and > 0 (>= 0 with ``allow_zero``)."""
    if value is None:
        return
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        raise fail(f"{option} must be a finite number {'>=' if allow_zero else '>'} 0, got {value}")


def check_readable_file(path: str | os.PathLike | None, option: str) -> None:
    """``path`` (if given) is an existing, readable regular file."""
    if path is None:
        return
    p = Path(path)
    if not p.exists():
        raise fail(f"{option} not found: {p}")
    if not p.is_file():
        raise fail(f"{option}: not a regular file: {p}")
    if not os.access(p, os.R_OK):
        raise fail(f"{option}: file not readable: {p}")


def check_torch_file(path: str | os.PathLike | None, option: str) -> None:
    """``path`` (if given) is a readable file in torch's (zip) checkpoint format, so a text
    or foreign file is named here rather than failing inside ``torch.load``."""
    if path is None:
        return
    check_readable_file(path, option)
    if not zipfile.is_zipfile(path):
        raise fail(f"{option}: {path} is not a torch checkpoint (torch.save zip format)")


def check_writable_dir(path: str | os.PathLike, option: str) -> Path:
    """Create ``path`` if needed; it must be a writable directory."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise fail(f"{option}: cannot create directory {p}: {err.strerror}") from None
    if not os.access(p, os.W_OK | os.X_OK):
        raise fail(f"{option}: directory not writable: {p}")
    return p


def check_device(name: str, option: str = "--device") -> torch.device:
    """A device torch knows and this machine has."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise fail(f"{option}: unknown device {name!r} (e.g. cpu, cuda, cuda:1)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise fail(f"{option}: {name} requested but CUDA is not available")
    if device.type not in ("cpu", "cuda", "mps"):
        raise fail(f"{option}: unsupported device {name!r} (cpu or cuda)")
    return device
