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
    """Counts steps with a NaN/Inf loss, gradient or input; the caller skips them.

    Codec and critic steps are counted separately (by the ``what`` of :meth:`check`): a
    finite critic step must not reset the count of a codec that keeps diverging, else a run
    whose critics train would never stop.

    Args:
        max_consecutive: raise :class:`NonFiniteError` when this many steps of one kind in a
            row are non-finite (a diverged run, not a one-off).
    """

    def __init__(self, max_consecutive: int = 10) -> None:
        if max_consecutive < 1:
            raise ValueError(f"max_consecutive must be >= 1, got {max_consecutive}")
        self.max_consecutive = max_consecutive
        self.consecutive_by: dict[str, int] = {}
        self.total = 0

    @property
    def consecutive(self) -> int:
        """The longest current run of non-finite steps over the kinds."""
        return max(self.consecutive_by.values(), default=0)

    def check(
        self, loss: Tensor | float, parameters: Iterable[torch.nn.Parameter], what: str
    ) -> bool:
        """True if the ``what`` step (``"codec"``, ``"critic"``) may be applied; False (and
        counted) if it must be skipped."""
        value = float(loss.detach()) if isinstance(loss, Tensor) else float(loss)
        ok = math.isfinite(value) and gradients_finite(parameters)
        return self.record(ok, what, f"loss {value}")

    def record(self, ok: bool, what: str, cause: str) -> bool:
        """Count one ``what`` step as finite (``ok``) or not; returns ``ok``."""
        if ok:
            self.consecutive_by[what] = 0
            return True
        n = self.consecutive_by[what] = self.consecutive_by.get(what, 0) + 1
        self.total += 1
        if n >= self.max_consecutive:
            raise NonFiniteError(
                f"{n} consecutive non-finite {what} steps ({cause}); stopping. Lower the "
                "learning rate or resume from an earlier checkpoint."
            )
        return False


def frames_finite(frames: Iterable[Tensor]) -> bool:
    """True if no frame of a batch holds NaN or Inf (a damaged clip)."""
    return all(bool(torch.isfinite(x).all()) for x in frames)
