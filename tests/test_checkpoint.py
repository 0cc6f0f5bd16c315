"""Checkpoint files: atomic writes, safe loading, clear errors."""

from __future__ import annotations

import os
import pickle

import pytest
import torch

from compressai_plf.training.checkpoint import (
    load_checkpoint,
    rng_state,
    save_atomic,
    set_rng_state,
)


def test_round_trip_and_no_temporary_left(tmp_path):
    path = save_atomic({"step": 3, "w": torch.arange(4.0)}, tmp_path / "c.pth.tar")
    assert load_checkpoint(path)["step"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["c.pth.tar"]


def test_failed_write_keeps_previous_checkpoint(tmp_path):
    path = save_atomic({"step": 1}, tmp_path / "c.pth.tar")

    class Unsaveable:
        def __reduce__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        save_atomic({"step": 2, "bad": Unsaveable()}, path)
    assert load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.pth.tar"]


def test_truncated_checkpoint_is_a_clear_error(tmp_path):
    path = save_atomic({"w": torch.zeros(1000)}, tmp_path / "c.pth.tar")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="damaged"):
        load_checkpoint(path)


def test_pickled_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "evil.pth.tar"
    with open(path, "wb") as f:
        pickle.dump({"x": Evil()}, f)
    with pytest.raises(ValueError, match="not a safe torch checkpoint"):
        load_checkpoint(path)


def test_missing_and_non_dict(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "nope.pth.tar")
    torch.save(torch.zeros(2), tmp_path / "t.pth.tar")
    with pytest.raises(ValueError, match="does not hold a dict"):
        load_checkpoint(tmp_path / "t.pth.tar")


def test_rng_state_round_trip_through_a_safe_checkpoint(tmp_path):
    import random

    import numpy as np

    state = rng_state()
    expected = (torch.rand(3), random.random(), np.random.rand())
    path = save_atomic({"rng": state}, tmp_path / "r.pth.tar")
    set_rng_state(load_checkpoint(path)["rng"])
    again = (torch.rand(3), random.random(), np.random.rand())
    assert torch.equal(expected[0], again[0]) and expected[1:] == again[1:]
