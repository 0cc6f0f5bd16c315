"""Training throughput of the PLF recipe on Moving MNIST: seconds per block and peak memory.

    python benchmarks/train_speed.py [--batch-size 64] [--blocks 3] [--json OUT]

Configuration: the paper's Moving MNIST setting (batch 64, 3-frame 64x64 clips, fixed-rate
ssf_plf with the zoo's q1 layout at width 64 (context 32), JD and FMD critics, 5 critic steps
per codec step).
Measured, each in its own child process (so peak RSS is per configuration):

* ``mse``: one rate-distortion codec step (the baseline);
* ``plf``: one PLF-stage block = 5 critic steps + 1 codec step, critics fed by a no-grad
  codec forward (this package's trainer);
* ``plf_graph``: the same block with the codec forward *with* its autograd graph for every
  critic step, as the paper's public code does (the comparison point);
* ``plf_dcgan64``: the ``plf`` block with critics at the full DCGAN width (64-512) instead
  of the default half width (32-256).

``--micro-batches N`` splits each codec step's batch into N chunks with gradient accumulation
(the same update, one chunk's graph in memory).

Printed: seconds per block (median), codec steps per second, peak RSS, and the ratios
plf / mse and plf / plf_graph. Targets on 2 cores: plf block <= 9 s, peak < 1.5 GB.
Data: Moving MNIST from ``--data-root`` or ``$PLF_DATA_ROOT/mnist``; random clips if absent.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

MODES = ("mse", "plf", "plf_graph", "plf_dcgan64")


def _child(
    mode: str, batch: int, blocks: int, data_root: str | None, threads: int, micro: int
) -> dict:
    import torch

    import compressai_plf  # noqa: F401
    from compressai_plf.training.cli import finalize
    from compressai_plf.training.stages import make_stage
    from compressai_plf.training.step_batches import StepBatches
    from compressai_plf.training.trainer import build_model, namespace
    from compressai_plf.zoo.presets import architecture

    # the zoo's q1 layout at the paper-scale width (the shipped zoo models are narrower), with
    # the residual per-head decoders it was measured with (benchmarks/universal_speed.py
    # compares them with own-past heads and a shared I-frame)
    paper_scale = {
        **architecture(1, "fixed"),
        "mid_planes": 64,
        "context_planes": 32,
        "head_arch": "residual",
        "perceptual_iframe": "per_head",
    }

    torch.set_num_threads(threads)
    import_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # torch + package, no work
    args = namespace(
        stage="mse" if mode == "mse" else "plf",
        plf=[] if mode == "mse" else ["jd", "fmd"],
        model_args={**paper_scale, "decoders": ["mse", "jd", "fmd"]},
        batch_size=batch,
        critic_steps=5,
        optimizer="rmsprop",
        learning_rate=5e-5,
        lmbda=1.0,
        data_root=data_root,
        micro_batches=micro,
        critic_batch="fresh",
        gp_every=1,
        critic_args={"widths": [64, 128, 256, 512]} if mode == "plf_dcgan64" else {},
    )
    args.patch_size = [64]
    args = finalize(args)
    model = build_model(args)
    stage = make_stage(args.stage, model, args)
    stage.critic_codec_no_grad = mode != "plf_graph"
    if data_root and Path(data_root).is_dir():
        from compressai_plf.datasets import MovingMNIST

        batches = StepBatches(MovingMNIST(data_root, split="train"), batch, 0, 6)
    else:
        batches = lambda step, draw: [torch.rand(batch, 1, 64, 64) for _ in range(3)]  # noqa: E731
    stage.train_step(0, batches)  # warm-up
    times = []
    for step in range(1, blocks + 1):
        t0 = time.perf_counter()
        stage.train_step(step, batches)
        times.append(time.perf_counter() - t0)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds_per_block": statistics.median(times),
        "peak_rss_mb": peak_kb / 1024,
        "import_rss_mb": import_kb / 1024,
    }


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--blocks", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--micro-batches", type=int, default=2)
    p.add_argument("--data-root", default=None)
    p.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    p.add_argument("--json", help="write the figures to this file")
    p.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    root = args.data_root
    if root is None and os.environ.get("PLF_DATA_ROOT"):
        root = str(Path(os.environ["PLF_DATA_ROOT"]) / "mnist")
    if args.child:
        report = _child(
            args.child, args.batch_size, args.blocks, root, args.threads, args.micro_batches
        )
        print(json.dumps(report))
        return {}
    rows = {}
    for mode in args.modes:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            mode,
            "--batch-size",
            str(args.batch_size),
            "--blocks",
            str(args.blocks),
            "--threads",
            str(args.threads),
            "--micro-batches",
            str(args.micro_batches),
        ]
        if root:
            cmd += ["--data-root", root]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        rows[mode] = json.loads(out.strip().splitlines()[-1])
        r = rows[mode]
        print(
            f"{mode:10s} {r['seconds_per_block']:.3f} s/block  "
            f"{1 / r['seconds_per_block']:.3f} codec steps/s  peak {r['peak_rss_mb']:.0f} MB "
            f"(after imports {r['import_rss_mb']:.0f} MB)"
        )
    report = {
        "batch_size": args.batch_size,
        "threads": args.threads,
        "micro_batches": args.micro_batches,
        "modes": rows,
    }
    if "plf" in rows and "mse" in rows:
        report["plf_over_mse"] = rows["plf"]["seconds_per_block"] / rows["mse"]["seconds_per_block"]
        print(f"plf block / mse step: {report['plf_over_mse']:.2f}x")
    if "plf" in rows and "plf_graph" in rows:
        report["plf_over_plf_graph"] = (
            rows["plf"]["seconds_per_block"] / rows["plf_graph"]["seconds_per_block"]
        )
        print(f"plf block / graph-per-critic-step block: {report['plf_over_plf_graph']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
