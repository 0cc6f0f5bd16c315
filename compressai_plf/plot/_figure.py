"""Shared figure helpers (pyplot-free, so no GUI backend or global state is involved)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

# Classical codecs are drawn dashed, as in CompressAI's plot tool.
HYBRID_MATCHES = ("x26", "VTM", "HM", "WebP", "AV1")


def safe_name(text: str) -> str:
    """File-name-safe version of a metric or run name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "plot"


def as_float(values) -> np.ndarray:
    """Numbers with ``None`` (JSON null) as NaN."""
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def linestyle(name: str) -> str:
    return "--" if any(m in name for m in HYBRID_MATCHES) else "-"


def save(fig: Figure, path: str | Path, dpi: int = 150) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def point_labels(results: dict) -> list[str]:
    """Label of each rate point: ``q`` when present, else the bit rate."""
    if "q" in results:
        return [str(q) for q in results["q"]]
    return [f"{b:.3g} kbps" for b in as_float(results["bitrate"])]
