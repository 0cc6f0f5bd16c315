"""resolve_root: explicit path first, then $PLF_DATA_ROOT/<subdir>; find_data_root."""

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


def test_find_data_root_env_then_shared_folder_of_the_working_directory(monkeypatch, tmp_path):
    from compressai_plf.datasets.data_root import find_data_root

    monkeypatch.setenv("PLF_DATA_ROOT", "/env")
    assert find_data_root("mnist") == Path("/env/mnist")
    monkeypatch.delenv("PLF_DATA_ROOT")
    work = tmp_path / "checkout"
    (tmp_path / "shared" / "data" / "mnist" / "MNIST" / "raw").mkdir(parents=True)
    work.mkdir()
    monkeypatch.chdir(work)
    assert find_data_root("mnist", "MNIST/raw") == tmp_path / "shared" / "data" / "mnist"
    assert find_data_root("kth", "x") is None
