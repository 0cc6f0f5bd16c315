"""resolve_root: explicit path first, then $PLF_DATA_ROOT/<subdir>."""

from __future__ import annotations

from pathlib import Path

import pytest

from compressai_plf.datasets import resolve_root


def test_explicit_root_wins(monkeypatch):
    monkeypatch.setenv("PLF_DATA_ROOT", "/env")
    assert resolve_root("/given", "mnist") == Path("/given")


def test_env_root(monkeypatch):
    monkeypatch.setenv("PLF_DATA_ROOT", "/env")
    assert resolve_root(None, "mnist") == Path("/env/mnist")


def test_no_root(monkeypatch):
    monkeypatch.delenv("PLF_DATA_ROOT", raising=False)
    with pytest.raises(ValueError, match="PLF_DATA_ROOT"):
        resolve_root(None, "kth")
