"""Locate dataset folders from an explicit path or the ``PLF_DATA_ROOT`` environment variable."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ENV_VAR", "SHARED_DATA", "find_data_root", "resolve_root"]

ENV_VAR = "PLF_DATA_ROOT"
#: The project's shared data folder, relative to the working directory (a checkout's
#: ``../shared/data``, what CI sets ``PLF_DATA_ROOT`` to).
SHARED_DATA = Path("..") / "shared" / "data"


def resolve_root(root: str | os.PathLike | None, subdir: str) -> Path:
    """Return the dataset folder to read.

    Args:
        root: folder given by the user; used as is when not ``None``.
        subdir: sub-folder of ``$PLF_DATA_ROOT`` used when ``root`` is ``None``
            (e.g. ``"mnist"``).

    Raises:
        ValueError: if ``root`` is ``None`` and ``PLF_DATA_ROOT`` is unset.
    """
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(ENV_VAR)
    if not env:
        raise ValueError(
            f"no dataset root given: pass root=... or set {ENV_VAR} to the folder that holds "
            f"'{subdir}/'"
        )
    return Path(env).expanduser() / subdir


def find_data_root(subdir: str, marker: str = "") -> Path | None:
    """``$PLF_DATA_ROOT/subdir``, else :data:`SHARED_DATA` ``/subdir`` when it holds
    ``marker`` (a sub-path that proves the data is there), else ``None``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser() / subdir
    shared = SHARED_DATA / subdir
    return shared.resolve() if (shared / marker).exists() else None
