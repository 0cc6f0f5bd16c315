"""Where the package caches what it can rebuild (never inside the repository).

``$COMPRESSAI_PLF_CACHE`` when set, else ``$XDG_CACHE_HOME/compressai_plf``, else
``~/.cache/compressai_plf``. Used by the posterior-sampling I-frame index
(:mod:`compressai_plf.eval.posterior_iframe`).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CACHE_ENV", "cache_dir"]

#: Environment variable that overrides the cache folder.
CACHE_ENV = "COMPRESSAI_PLF_CACHE"


def cache_dir() -> Path:
    """The package's cache folder (not created here)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "compressai_plf"
