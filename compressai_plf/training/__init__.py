"""Training pipeline behind ``examples/train_video.py``: stages, exact resume, atomic
checkpoints, non-finite step skipping, JSON-lines logs, multi-process training."""

from ..checkpoint import load_checkpoint, save_atomic
from .nonfinite import NonFiniteError, NonFiniteGuard
from .stages import STAGES, make_stage
from .step_batches import StepBatches
from .trainer import init_from_checkpoint, train

__all__ = [
    "STAGES",
    "NonFiniteError",
    "NonFiniteGuard",
    "StepBatches",
    "init_from_checkpoint",
    "load_checkpoint",
    "make_stage",
    "save_atomic",
    "train",
]
