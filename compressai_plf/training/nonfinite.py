"""Skip training steps whose loss or gradients are not finite."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import Tensor


class NonFiniteError(RuntimeError):
    """Raised after too many consecutive non-finite steps."""


def gradients_finite(parameters: Iterable[torch.nn.Parameter]) -> bool:
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return True
    return bool(torch.isfinite(torch.stack([g.detach().float().abs().sum() for g in grads])).all())


class NonFiniteGuard:
    """Counts steps with a NaN/Inf loss or gradient; the caller skips them.

    Args:
        max_consecutive: raise :class:`NonFiniteError` when this many steps in a row are
            non-finite (a diverged run, not a one-off).
    """

    def __init__(self, max_consecutive: int = 10) -> None:
        if max_consecutive < 1:
            raise ValueError(f"max_consecutive must be >= 1, got {max_consecutive}")
        self.max_consecutive = max_consecutive
        self.consecutive = 0
        self.total = 0

    def check(
        self, loss: Tensor | float, parameters: Iterable[torch.nn.Parameter], what: str
    ) -> bool:
        """True if the step may be applied; False (and counted) if it must be skipped."""
        value = float(loss.detach()) if isinstance(loss, Tensor) else float(loss)
        ok = math.isfinite(value) and gradients_finite(parameters)
        if ok:
            self.consecutive = 0
            return True
        self.consecutive += 1
        self.total += 1
        if self.consecutive >= self.max_consecutive:
            raise NonFiniteError(
                f"{self.consecutive} consecutive non-finite {what} steps (loss {value}); "
                "stopping. Lower the learning rate or resume from an earlier checkpoint."
            )
        return False
