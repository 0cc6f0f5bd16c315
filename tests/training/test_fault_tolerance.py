"""Non-finite steps are skipped; a SIGKILLed run resumes; a 2-process gloo run agrees."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from compressai.registry import CRITERIONS, register_criterion

from compressai_plf.losses import VideoRateDistortionLoss
from compressai_plf.training import NonFiniteError, NonFiniteGuard, load_checkpoint, train

from .conftest import TINY_FIXED

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "examples" / "train_video.py"


@register_criterion("_NaNOnStepsLoss")
class NaNOnStepsLoss(VideoRateDistortionLoss):
    """Test criterion: NaN loss on the calls listed in ``nan_calls`` (0-based)."""

    nan_calls: set[int] = set()

    def __init__(self, lmbda: float = 1e-2) -> None:
        super().__init__(lmbda=lmbda)
        self.calls = 0

    def forward(self, output, frames):
        out = super().forward(output, frames)
        if self.calls in self.nan_calls:
            out["loss"] = out["loss"] * float("nan")
        self.calls += 1
        return out


def test_guard_counts_and_stops():
    p = torch.nn.Parameter(torch.zeros(2))
    p.grad = torch.tensor([1.0, float("inf")])
    guard = NonFiniteGuard(max_consecutive=2)
    assert guard.check(torch.tensor(1.0), [p], "codec") is False
    p.grad = torch.ones(2)
    assert guard.check(torch.tensor(1.0), [p], "codec") is True and guard.consecutive == 0
    assert guard.check(float("nan"), [p], "codec") is False
    with pytest.raises(NonFiniteError, match="2 consecutive non-finite codec steps"):
        guard.check(float("nan"), [p], "codec")


def test_nan_step_is_skipped_and_logged(tiny_args, tmp_path):
    NaNOnStepsLoss.nan_calls = {1}
    ref = train(
        tiny_args(stage="mse", criterion="_NaNOnStepsLoss", steps=1, save_dir=str(tmp_path / "one"))
    )
    run = train(
        tiny_args(stage="mse", criterion="_NaNOnStepsLoss", steps=2, save_dir=str(tmp_path / "two"))
    )
    assert run["skipped_nonfinite"] == 1
    # the NaN step changed nothing: parameters equal the 1-step run's
    a = load_checkpoint(ref["checkpoint"])["state_dict"]
    b = load_checkpoint(run["checkpoint"])["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a if isinstance(a[k], torch.Tensor))
    log = [json.loads(x) for x in open(tmp_path / "two" / "log.jsonl")]
    assert log[1]["skipped_codec_steps"] == 1


def test_repeated_nan_stops_with_clear_error(tiny_args):
    NaNOnStepsLoss.nan_calls = set(range(100))
    with pytest.raises(NonFiniteError, match="consecutive non-finite codec steps"):
        train(tiny_args(stage="mse", criterion="_NaNOnStepsLoss", steps=5, max_nonfinite=3))
    assert "_NaNOnStepsLoss" in CRITERIONS


def _cli(mnist_root, save_dir, steps, *extra):
    return [
        sys.executable,
        str(SCRIPT),
        "--data-root",
        str(mnist_root),
        "--model-args",
        json.dumps(TINY_FIXED),
        "--steps",
        str(steps),
        "--batch-size",
        "4",
        "--eval-interval",
        "0",
        "--checkpoint-interval",
        "1",
        "--log-interval",
        "1",
        "--dataset-args",
        '{"train_size": 64}',
        "--critic-args",
        '{"widths": [8, 16, 16, 16]}',
        "--save-dir",
        str(save_dir),
        *extra,
    ]


def test_sigkill_mid_run_then_resume_matches_uninterrupted(mnist_root, tmp_path):
    steps = 6
    full = tmp_path / "full"
    subprocess.run(_cli(mnist_root, full, steps), check=True, capture_output=True, timeout=600)
    part = tmp_path / "part"
    proc = subprocess.Popen(
        _cli(mnist_root, part, steps), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    ckpt = part / "checkpoint.pth.tar"
    deadline = time.time() + 300
    while time.time() < deadline:  # kill once a mid-run checkpoint exists
        if ckpt.exists() and load_checkpoint(ckpt)["step"] >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    state = load_checkpoint(ckpt)  # never half-written: it loads
    assert 1 <= state["step"] < steps and not state["final"]
    assert not list(part.glob(".*.tmp")) or all(p.stat().st_size >= 0 for p in part.glob(".*.tmp"))
    subprocess.run(
        _cli(mnist_root, part, steps, "--resume"), check=True, capture_output=True, timeout=600
    )
    a = load_checkpoint(full / "checkpoint.pth.tar")["state_dict"]
    b = load_checkpoint(ckpt)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a if isinstance(a[k], torch.Tensor))


@pytest.mark.skipif(
    shutil.which("torchrun") is None
    and not os.path.exists(os.path.join(os.path.dirname(sys.executable), "torchrun")),
    reason="torchrun not found",
)
def test_two_process_gloo_run_keeps_ranks_identical(mnist_root, tmp_path):
    torchrun = os.path.join(os.path.dirname(sys.executable), "torchrun")
    save = tmp_path / "ddp"
    cmd = [
        torchrun,
        "--nproc_per_node",
        "2",
        "--master_port",
        "29517",
        *(
            _cli(
                mnist_root,
                save,
                2,
                "--stage",
                "universal",
                "--plf",
                "jd",
                "--critic-steps",
                "1",
                "--save-rank-states",
            )[1:]
        ),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r0 = load_checkpoint(save / "checkpoint.pth.tar")
    r1 = load_checkpoint(save / "rank1.pth.tar")
    sd0, sd1 = r0["state_dict"], r1["state_dict"]
    assert all(torch.equal(sd0[k], sd1[k]) for k in sd0 if isinstance(sd0[k], torch.Tensor))
    c0, c1 = r0["stage"]["critics"], r1["critics"]
    assert all(torch.equal(c0[k], c1[k]) for k in c0)
    # and training did something on both
    assert any(k.startswith("heads.jd.") for k in sd0)
