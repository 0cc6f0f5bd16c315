"""The fault bounds training promises (issue 17): codec and critic non-finite steps counted
separately, no aux step on a skipped step, a NaN clip skipped and counted, orphaned temporary
checkpoints removed, a resumed log without repeated steps, a full disk named."""

from __future__ import annotations

import json

import pytest
import torch

from compressai_plf import checkpoint as checkpoint_module
from compressai_plf.checkpoint import DiskFullError, save_atomic
from compressai_plf.training import NonFiniteError, NonFiniteGuard, load_checkpoint, train
from compressai_plf.training import trainer as trainer_module

from .conftest import TINY_HYPER
from .test_fault_tolerance import NaNOnStepsLoss


def _params(path) -> dict[str, torch.Tensor]:
    sd = load_checkpoint(path)["state_dict"]
    return {k: v for k, v in sd.items() if isinstance(v, torch.Tensor)}


def test_finite_critic_steps_do_not_reset_the_codec_count():
    p = torch.nn.Parameter(torch.zeros(1))
    guard = NonFiniteGuard(max_consecutive=3)
    for _ in range(2):
        assert guard.check(float("nan"), [p], "codec") is False
        assert guard.check(1.0, [p], "critic") is True
    assert guard.consecutive == 2
    with pytest.raises(NonFiniteError, match="3 consecutive non-finite codec steps"):
        guard.check(float("nan"), [p], "codec")


def test_max_nonfinite_stops_a_run_whose_critics_train(tiny_args):
    NaNOnStepsLoss.nan_calls = set(range(1000))  # the codec's RD term is always NaN
    args = tiny_args(stage="plf", plf=["jd"], criterion="_NaNOnStepsLoss", steps=8, max_nonfinite=3)
    with pytest.raises(NonFiniteError, match="3 consecutive non-finite codec steps"):
        train(args)


def test_aux_optimiser_does_not_step_on_a_skipped_step(tiny_args, tmp_path):
    NaNOnStepsLoss.nan_calls = {1}
    common = dict(stage="mse", model_args=dict(TINY_HYPER), plf=[], criterion="_NaNOnStepsLoss")
    one = train(tiny_args(steps=1, save_dir=str(tmp_path / "one"), **common))
    two = train(tiny_args(steps=2, save_dir=str(tmp_path / "two"), **common))
    assert two["skipped_nonfinite"] == 1
    a, b = _params(one["checkpoint"]), _params(two["checkpoint"])
    quantiles = [k for k in a if k.endswith("quantiles")]
    assert quantiles  # the aux optimiser's parameters
    assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])]


def test_a_nan_clip_skips_its_batch_and_is_counted(tiny_args, tmp_path, monkeypatch):
    real = trainer_module.StepBatches

    class NaNOnStep1(real):
        def __call__(self, step, draw):
            frames = super().__call__(step, draw)
            if step == 1:
                frames = [x.clone() for x in frames]
                frames[1][0, 0, 0, 0] = float("nan")  # one pixel of one clip
            return frames

    monkeypatch.setattr(trainer_module, "StepBatches", NaNOnStep1)
    one = train(tiny_args(stage="mse", steps=1, save_dir=str(tmp_path / "one")))
    two = train(tiny_args(stage="mse", steps=2, save_dir=str(tmp_path / "two")))
    assert two["skipped_nonfinite"] == 1
    a, b = _params(one["checkpoint"]), _params(two["checkpoint"])
    assert all(torch.equal(a[k], b[k]) for k in a)  # the damaged batch applied nothing
    log = [json.loads(x) for x in open(tmp_path / "two" / "log.jsonl")]
    assert log[1]["step"] == 2 and log[1]["nonfinite_batch"] == 1
    monkeypatch.setattr(trainer_module, "StepBatches", real)


def test_resume_truncates_the_log_and_removes_orphaned_temporaries(tiny_args, tmp_path):
    run = tmp_path / "run"
    train(tiny_args(stage="mse", steps=2, save_dir=str(run)))
    log = run / "log.jsonl"
    # A run killed after its step-2 checkpoint: it logged steps 3-4 and left a partial line,
    # and a kill during a checkpoint write left a temporary file.
    with log.open("a") as f:
        f.write(json.dumps({"time": 0, "step": 3, "kind": "train", "loss": 1.0}) + "\n")
        f.write(json.dumps({"time": 0, "step": 4, "kind": "train", "loss": 1.0}) + "\n")
        f.write('{"time": 0, "st')
    orphan = run / ".checkpoint.pth.tar.k1ll3d.tmp"
    orphan.write_bytes(b"x" * 1000)
    unrelated = run / "notes.tmp"
    unrelated.write_text("kept")
    train(tiny_args(stage="mse", steps=4, save_dir=str(run), resume=True))
    steps = [json.loads(x)["step"] for x in log.read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
    assert not orphan.exists() and unrelated.read_text() == "kept"


def test_a_full_disk_is_named_and_the_previous_checkpoint_kept(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pth.tar"
    save_atomic({"step": 1}, path)
    before = path.read_bytes()

    def full_disk(obj, f):
        f.write(b"partial")
        raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 64 vs 7")

    monkeypatch.setattr(checkpoint_module.torch, "save", full_disk)
    with pytest.raises(DiskFullError, match="disk full .* previous checkpoint is intact"):
        save_atomic({"step": 2}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no partial file left
