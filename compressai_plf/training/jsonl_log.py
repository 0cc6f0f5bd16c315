"""Append-only JSON-lines log of training metrics."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import torch

from ..results import json_ready


def _scalar(value: Any) -> Any:
    """A tensor metric as its mean (a per-sample loss logs as one number)."""
    if isinstance(value, torch.Tensor):
        return value.detach().float().mean().item()
    return value


class JsonlLog:
    """One JSON object per line: ``{"time", "step", "kind", ...metrics}``; flushed per line
    so a killed run keeps every line it wrote."""

    def __init__(self, path: str | os.PathLike | None) -> None:
        self.path = Path(path) if path else None
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, step: int, kind: str, metrics: dict[str, Any]) -> None:
        if self.path is None:
            return
        row = {"time": time.time(), "step": step, "kind": kind}
        row.update({k: _scalar(v) for k, v in metrics.items()})
        with self.path.open("a") as f:
            f.write(json.dumps(json_ready(row), allow_nan=False) + "\n")

    def truncate(self, step: int) -> int:
        """Keep only the lines of steps ``<= step`` (resuming from a checkpoint of ``step``
        replays the later ones, which would otherwise appear twice); a line cut short by a
        kill is dropped. Returns the number of lines removed. Rewritten atomically."""
        if self.path is None or not self.path.is_file():
            return 0
        kept, dropped = [], 0
        for line in self.path.read_text().splitlines():
            try:
                row_step = json.loads(line)["step"]
            except (ValueError, KeyError, TypeError):
                dropped += 1
                continue
            if isinstance(row_step, int) and row_step <= step:
                kept.append(line)
            else:
                dropped += 1
        if dropped:
            tmp = self.path.with_name(f".{self.path.name}.tmp")
            tmp.write_text("".join(f"{line}\n" for line in kept))
            os.replace(tmp, self.path)
        return dropped
