"""Image-size argument normalisation shared by the critics and discriminators."""

from __future__ import annotations

from collections.abc import Sequence


def pair_size(size: int | Sequence[int]) -> tuple[int, int]:
    """``(H, W)`` from an int or a pair; ``ValueError`` otherwise."""
    if isinstance(size, int) and not isinstance(size, bool):
        return size, size
    if isinstance(size, Sequence) and len(size) == 2 and all(isinstance(s, int) for s in size):
        return int(size[0]), int(size[1])
    raise ValueError(f"image_size must be an int or (H, W), got {size!r}")
