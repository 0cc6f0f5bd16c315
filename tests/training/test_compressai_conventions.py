"""What a CompressAI user relies on: its flags, its checkpoint layout and best checkpoint,
no silent overwrite of a run, resume from the checkpoint alone, workers that keep resume exact."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from compressai_plf.training import load_checkpoint, train
from compressai_plf.training.cli import parse_args
from compressai_plf.training.step_batches import StepBatches
from compressai_plf.training.trainer import RunExistsError

from .conftest import TINY_FIXED

ROOT = Path(__file__).resolve().parents[2]


def test_compressai_flags_are_accepted(tmp_path):
    args = parse_args(
        ["-d", "DATA", "-n", "2", "--save", "--lambda", "0.05", "--test-batch-size", "8"]
    )
    assert (args.data_root, args.num_workers, args.lmbda, args.eval_batch_size) == (
        "DATA",
        2,
        0.05,
        8,
    )
    assert args.dataset == "MovingMNIST"  # --dataset stays the registered class
    recipe = tmp_path / "r.json"
    recipe.write_text(json.dumps({"lambda": 0.2, "test-batch-size": 4, "num_workers": 1}))
    args = parse_args(["--config", str(recipe)])
    assert (args.lmbda, args.eval_batch_size, args.num_workers) == (0.2, 4, 1)


def test_a_folder_given_as_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="pass the folder with -d/--data-root"):
        parse_args(["--dataset", str(tmp_path)])


def test_checkpoint_layout_best_file_and_mode(tiny_args):
    args = tiny_args(stage="plf", plf=["jd"], steps=3, eval_interval=1)
    summary = train(args)
    ckpt = load_checkpoint(summary["checkpoint"])
    for key in ("epoch", "state_dict", "loss", "optimizer", "aux_optimizer", "lr_scheduler"):
        assert key in ckpt, key  # CompressAI's examples/train_video.py layout
    assert ckpt["optimizer"]["state"] and "optimizer" not in ckpt["stage"]
    assert "critics" in ckpt["stage"] and "critic_optimizer" in ckpt["stage"]
    evals = [
        r for r in map(json.loads, open(Path(args.save_dir) / "log.jsonl")) if r["kind"] == "eval"
    ]
    losses = [r["loss"] for r in evals]
    assert ckpt["loss"] == pytest.approx(losses[-1]) and ckpt["best_loss"] == min(losses)
    best = load_checkpoint(summary["best_checkpoint"])
    assert Path(summary["best_checkpoint"]).name == "checkpoint_best_loss.pth.tar"
    assert best["step"] == evals[losses.index(min(losses))]["step"]
    assert best["loss"] == pytest.approx(min(losses))
    for path in (summary["checkpoint"], summary["best_checkpoint"]):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_second_run_into_a_used_folder_stops_with_a_clear_message(tiny_args, mnist_root):
    args = tiny_args(stage="mse", steps=1)
    train(args)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "train_video.py")]
        + ["--save-dir", args.save_dir, "-d", str(mnist_root)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "--resume" in last and "--force" in last
    assert "Traceback" not in proc.stderr
    with pytest.raises(RunExistsError):
        train(tiny_args(stage="mse", steps=1))
    train(tiny_args(stage="mse", steps=1, seed=3, force=True))  # --force starts over
    log = [json.loads(line) for line in open(Path(args.save_dir) / "log.jsonl")]
    assert [r["step"] for r in log] == [1]  # the old run's log was not appended to


def test_resume_rebuilds_the_stored_model(tiny_args):
    small = {**TINY_FIXED, "mid_planes": 4}
    train(tiny_args(stage="mse", steps=1, model_args=small))
    # no --model-args: the checkpoint's are used (the defaults would build another model)
    summary = train(tiny_args(stage="mse", steps=2, model_args={}, resume=True))
    ckpt = load_checkpoint(summary["checkpoint"])
    assert ckpt["step"] == 2 and ckpt["args"]["model_args"]["mid_planes"] == 4
    with pytest.raises(ValueError, match="differs from the one"):
        train(tiny_args(stage="mse", steps=3, model_args=dict(TINY_FIXED), resume=True))


def test_workers_give_the_in_process_batches(mnist_root):
    from compressai_plf.datasets import MovingMNIST

    data = MovingMNIST(mnist_root, split="train", train_size=64)
    order = [(0, 1), (0, 2), (0, 0), (1, 1), (1, 2), (1, 0), (3, 0), (0, 1)]  # skips, goes back
    out = {}
    for workers in (0, 2):
        batches = StepBatches(data, 4, seed=5, draws_per_step=3, num_workers=workers)
        got = []
        for step, draw in order:
            frames = batches(step, draw)
            got.append((frames, torch.rand(3)))  # the step's noise follows the batch
        batches.close()
        out[workers] = got
    for (fa, ra), (fb, rb) in zip(out[0], out[2], strict=True):
        assert all(torch.equal(a, b) for a, b in zip(fa, fb, strict=True))
        assert torch.equal(ra, rb)
    assert not torch.equal(out[0][0][0][0], out[0][1][0][0])  # draws differ
