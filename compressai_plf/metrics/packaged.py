"""Weights of the metric networks shipped inside the package."""

from __future__ import annotations

from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
CLASSIFIER_FILE = "digit_classifier.pth.tar"


def packaged_classifier_path() -> Path | None:
    """The shipped digit classifier (``python -m compressai_plf.metrics.build_classifier
    --mnist-root DIR --out compressai_plf/metrics/weights/digit_classifier.pth.tar``), or
    ``None`` when this installation has none."""
    path = WEIGHTS_DIR / CLASSIFIER_FILE
    return path if path.is_file() else None
