"""Shared pytest fixtures.

Data is read from ``$PLF_DATA_ROOT`` (CI sets it to ``../shared/data``); when the variable is
unset, ``../shared/data`` next to the repository is tried. Tests that need data skip with a
reason when neither exists, so a user without the data can still run the rest.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def _data_root() -> Path | None:
    env = os.environ.get("PLF_DATA_ROOT")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data")
    for c in candidates:
        if c.is_dir():
            return c
    return None


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = _data_root()
    if root is None:
        pytest.skip("test data not found: set PLF_DATA_ROOT to the shared data folder")
    return root


@pytest.fixture(scope="session")
def mnist_root(data_root: Path) -> Path:
    root = data_root / "mnist"
    if not (root / "MNIST" / "raw").is_dir():
        pytest.skip(f"MNIST not found under {root}")
    return root


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
