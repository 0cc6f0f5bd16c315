"""Packaging and import hygiene: a wheel holds every subpackage, the import is quiet."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_raises_no_future_warning():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-W", "error::FutureWarning", "-c", "import compressai_plf"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "FutureWarning" not in proc.stderr


def test_import_leaves_other_warnings_visible():
    # the filter is narrow and scoped: a FutureWarning raised after the import still shows
    code = (
        "import warnings, compressai_plf\n"
        "warnings.warn('`torch.jit.script` is deprecated', FutureWarning)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-W", "error::FutureWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode != 0 and "FutureWarning" in proc.stderr


def test_wheel_contains_every_subpackage(tmp_path):
    pytest.importorskip("setuptools")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "compressai_plf",
        src / "compressai_plf",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(tmp_path / "dist"), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "warning" not in proc.stderr.lower(), proc.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("compressai_plf-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    # compressai_plf/reproduction has no __init__.py: only find_namespace: packages it
    assert "compressai_plf/reproduction/__main__.py" in names
    packages = {
        str(p.parent.relative_to(ROOT)) + "/" + p.name
        for p in (ROOT / "compressai_plf").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert packages <= set(names)
    assert any(n.startswith("compressai_plf/zoo/weights/") for n in names)
