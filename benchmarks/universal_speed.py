"""Cost of a universal PLF training block: today's path against the new one, in one process.

    python benchmarks/universal_speed.py [--batch-size 64] [--blocks 3] [--json OUT]

The block (issue "perceptual decoders", section 6): 5 critic updates + 1 codec update, batch
64, 3-frame 64x64 Moving MNIST clips, universal stage with PLF-JD and PLF-FMD heads, the zoo's
fixed-rate widths (q5: 16-bit P-frames), critics at the default widths (32-256) in every path.

* ``today``: residual heads with their own I-frames; every critic update on a fresh batch,
  decoded by a full codec forward; the gradient penalty on every critic update; critics at
  every frame FMD constrains (I-frame included).
* ``new``: own-past heads and a shared frozen perceptual I-frame (so no critic of frame 0);
  the step's batch encoded once into an MMSE chain (``cache_chain``) and decoded once for
  all critic updates (``critic_batch="shared"``); the gradient penalty on every update.
* ``new_lazy_gp``: ``new`` with the lazy gradient penalty (every 5th critic update, weight
  x5): the recommended universal recipe's block.
* ``recommended_2frame``: the recommended recipe on the paper's 2-frame clips.

Blocks of all paths are interleaved in one process (so a busy machine slows all of them
alike) and the median is reported, with ratios against ``today``. The seconds spent in the
critics' own updates (forward, backward and step on fixed reconstructions) are reported
apart: no caching of the codec side removes them, so ``today`` over them bounds what such
caching can gain (``speedup_bound_critics_only``). Each path's peak RSS is measured in a
child process of its own, with the peak before its first step beside it (``setup_rss_mb``:
torch, CompressAI and its imports, model, critics, data). Data: Moving MNIST from
``--data-root`` or ``$PLF_DATA_ROOT/mnist``; random clips if absent.
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

_NEW = dict(
    head_arch="own_past",
    perceptual_iframe="shared",
    critic_batch="shared",
    cache_chain=True,
    gp_every=1,
    frames=3,
)
PATHS = {
    "today": dict(
        head_arch="residual",
        perceptual_iframe="per_head",
        critic_batch="fresh",
        cache_chain=False,
        gp_every=1,
        frames=3,
    ),
    "new": _NEW,
    "new_lazy_gp": {**_NEW, "gp_every": 5},
    "recommended_2frame": {**_NEW, "gp_every": 5, "frames": 2},
}


def _stage(path: str, batch: int, data_root: str | None):
    import torch

    import compressai_plf  # noqa: F401
    from compressai_plf.training.cli import finalize
    from compressai_plf.training.stages import make_stage
    from compressai_plf.training.step_batches import StepBatches
    from compressai_plf.training.trainer import build_model, namespace
    from compressai_plf.zoo.presets import architecture

    opts = dict(PATHS[path])
    frames = opts.pop("frames")
    model_args = {
        **architecture(5, "fixed"),
        "decoders": ["mse", "jd", "fmd"],
        "head_arch": opts.pop("head_arch"),
        "perceptual_iframe": opts.pop("perceptual_iframe"),
    }
    args = namespace(
        stage="universal",
        plf=["jd", "fmd"],
        model_args=model_args,
        batch_size=batch,
        critic_steps=5,
        frames=frames,
        lambda_p=0.01,
        data_root=data_root,
        **opts,
    )
    args.patch_size = [64]
    args = finalize(args)
    torch.manual_seed(0)
    stage = make_stage("universal", build_model(args), args)
    draws = 1 if args.critic_batch == "shared" else 6
    if data_root and Path(data_root).is_dir():
        from compressai_plf.datasets import MovingMNIST

        data = MovingMNIST(data_root, split="train", frames=frames)
        batches = StepBatches(data, batch, 0, draws)
    else:

        def batches(step: int, draw: int) -> list:
            return [torch.rand(batch, 1, 64, 64) for _ in range(frames)]

    return stage, batches


def _child(path: str, batch: int, blocks: int, data_root: str | None) -> dict:
    import torch

    torch.set_num_threads(1)
    stage, batches = _stage(path, batch, data_root)
    # the process before its first step: torch, compressai (which imports torch_geometric),
    # the package, the model, its critics and the data
    setup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times = []
    for step in range(blocks + 1):
        t0 = time.perf_counter()
        stage.train_step(step, batches)
        times.append(time.perf_counter() - t0)
    return {
        "seconds_per_block": statistics.median(times[1:]),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "setup_rss_mb": setup,
    }


def _timed_critic_updates(stage) -> list[float]:
    """Wrap ``stage.critic_update`` (the critics' own forward, backward and optimiser step on
    fixed reconstructions) so that its wall time per block can be read back."""
    spent = [0.0]
    update = stage.critic_update

    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return update(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t0

    stage.critic_update = timed
    return spent


def _interleaved(
    paths: list[str], batch: int, blocks: int, data_root: str | None
) -> tuple[dict, dict]:
    """Median seconds per block and median seconds of critic updates per block, per path."""
    import torch

    torch.set_num_threads(1)
    stages = {p: _stage(p, batch, data_root) for p in paths}
    spent = {p: _timed_critic_updates(stage) for p, (stage, _) in stages.items()}
    times: dict[str, list[float]] = {p: [] for p in paths}
    critic: dict[str, list[float]] = {p: [] for p in paths}
    for step in range(blocks + 1):  # block 0 warms up
        for p, (stage, batches) in stages.items():
            spent[p][0] = 0.0
            t0 = time.perf_counter()
            stage.train_step(step, batches)
            if step:
                times[p].append(time.perf_counter() - t0)
                critic[p].append(spent[p][0])
    return (
        {p: statistics.median(t) for p, t in times.items()},
        {p: statistics.median(t) for p, t in critic.items()},
    )


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--blocks", type=int, default=3)
    p.add_argument("--data-root", default=None)
    p.add_argument("--paths", nargs="+", choices=list(PATHS), default=list(PATHS))
    p.add_argument("--json", help="write the figures to this file")
    p.add_argument("--child", choices=list(PATHS), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.batch_size < 1 or args.blocks < 1:
        raise SystemExit("error: --batch-size and --blocks must be >= 1")
    root = args.data_root
    if root is None and os.environ.get("PLF_DATA_ROOT"):
        root = str(Path(os.environ["PLF_DATA_ROOT"]) / "mnist")
    if args.child:
        print(json.dumps(_child(args.child, args.batch_size, args.blocks, root)))
        return {}
    seconds, critic = _interleaved(args.paths, args.batch_size, args.blocks, root)
    report: dict = {"batch_size": args.batch_size, "threads": 1, "blocks": args.blocks}
    report["seconds_per_block"] = seconds
    # The critics' own updates (forward, backward, step on fixed reconstructions): no caching
    # of the codec side removes them, so today / critic_seconds bounds any such speed-up.
    report["critic_update_seconds_per_block"] = critic
    report["peak_rss_mb"], report["setup_rss_mb"] = {}, {}
    for path in args.paths:
        cmd = [sys.executable, __file__, "--child", path, "--batch-size", str(args.batch_size)]
        cmd += ["--blocks", "1"] + (["--data-root", root] if root else [])
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        child = json.loads(out.strip().splitlines()[-1])
        report["peak_rss_mb"][path] = child["peak_rss_mb"]
        report["setup_rss_mb"][path] = child["setup_rss_mb"]
    if "today" in seconds:
        report["speedup_over_today"] = {q: seconds["today"] / s for q, s in seconds.items()}
        report["speedup_bound_critics_only"] = {
            q: seconds["today"] / c for q, c in critic.items() if c > 0
        }
    for path in args.paths:
        line = f"{path:20s} {seconds[path]:7.3f} s/block ({critic[path]:.3f} s critic updates)"
        line += f"  peak {report['peak_rss_mb'][path]:.0f} MB"
        line += f" ({report['setup_rss_mb'][path]:.0f} MB before the first step)"
        if "speedup_over_today" in report:
            line += f"  {report['speedup_over_today'][path]:.2f}x faster than today"
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
