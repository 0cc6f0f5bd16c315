"""Speed and memory of the perceptual objectives (PLF-JD, PLF-FMD, PLF-SA, 3D reconstruction).

For each objective: seconds per codec step (loss, backward, optimizer step) and per critic /
discriminator step, the peak memory of each, and the share of the critic step spent in the
gradient penalty (1 - time without GP / time with GP). Ratios are against a baseline codec step
with the plain rate + MSE loss measured in the same run. Each measurement runs in its own
process so peak memory is per measurement: on CPU the growth of the peak resident set (VmHWM,
reset before the first step) over the resident set before the first step, on CUDA
``torch.cuda.max_memory_allocated``.

The codec is a small stand-in (per-frame conv autoencoder with a fixed-rate likelihood
structure), so codec-step numbers measure the objectives' overhead, not a real model. The 3D
objective uses the LPIPS AlexNet trunk from torch's hub cache when present, else a random trunk
of the same shape (same cost, meaningless values).

Usage: ``python benchmarks/loss_speed.py [--batch 16 --frames 3 --size 64 --channels 3]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch import nn

OBJECTIVES = ("baseline", "jd", "fmd", "sa", "3d")
PHASES = ("codec", "critic", "critic_nogp")


class StandInCodec(nn.Module):
    """Per-frame conv autoencoder returning CompressAI's video output dict."""

    def __init__(self, channels: int, width: int = 64) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, width, 5, 2, 2),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, width, 5, 2, 2),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(width, width, 5, 2, 2, output_padding=1),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(width, channels, 5, 2, 2, output_padding=1),
            nn.Sigmoid(),
        )

    @property
    def last_layer_weight(self) -> torch.Tensor:
        return self.decoder[2].weight

    def forward(self, frames: list[torch.Tensor]) -> dict:
        b = frames[0].shape[0]
        x_hat = [self.decoder(self.encoder(f)) for f in frames]
        lk = [{"keyframe": {"y": torch.full((b, 12), 0.5)}}]
        lk += [
            {"motion": {"y": torch.full((b, 8), 0.25)}, "residual": {"y": torch.full((b, 8), 0.25)}}
        ] * (len(frames) - 1)
        return {"x_hat": x_hat, "likelihoods": lk}


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM) so set-up allocations are not counted."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss_bytes(was_reset: bool) -> int:
    if was_reset:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _perceptual(device: torch.device) -> tuple[nn.Module, str]:
    import lpips

    from compressai_plf.modules import FrozenLPIPS

    try:
        return FrozenLPIPS().to(device), "AlexNet LPIPS (hub cache)"
    except FileNotFoundError:
        trunk = lpips.pretrained_networks.alexnet(pretrained=False)
        return FrozenLPIPS(backbone=trunk).to(device), "random AlexNet trunk (weights absent)"


def run_child(args: argparse.Namespace) -> dict:
    """One measurement in this process; returns seconds per step and peak memory."""
    from compressai.registry import CRITERIONS, MODULES

    import compressai_plf.losses  # noqa: F401  (registers criteria)

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    objective, phase = args.child.split(":")
    codec = StandInCodec(args.channels).to(device)
    frames = [
        torch.rand(args.batch, args.channels, args.size, args.size, device=device)
        for _ in range(args.frames)
    ]
    note = ""

    if objective == "baseline":
        crit = CRITERIONS["VideoRateDistortionLoss"](lmbda=0.01)
        critic = None
    elif objective == "3d":
        perceptual, note = _perceptual(device)
        lambda_gp = 0.0 if phase == "critic_nogp" else 10.0
        crit = CRITERIONS["VideoReconstructionLoss"](
            lambda_p=1.0, lambda_adv=0.1, lambda_gp=lambda_gp, perceptual=perceptual
        )
        critic = MODULES["Discriminator3D"](
            frames=args.frames,
            image_size=args.size,
            channels=args.channels,
            widths_3d=tuple(args.disc_widths_3d),
            widths_2d=tuple(args.disc_widths_2d),
        ).to(device)
    else:
        gp_weight = 0.0 if phase == "critic_nogp" else 10.0
        crit = CRITERIONS["PLFLoss"](lmbda=1.0, plf={objective: 0.01}, gp_weight=gp_weight)
        critic = MODULES["PLFCritic"](
            plf=objective,
            num_frames=args.frames,
            channels=args.channels,
            image_size=args.size,
            arch=args.critic_arch,
            widths=tuple(args.critic_widths),
        ).to(device)

    if phase == "codec":
        opt = torch.optim.RMSprop(codec.parameters(), lr=5e-5)

        def step() -> None:
            opt.zero_grad(set_to_none=True)
            output = codec(frames)
            if objective == "baseline":
                out = crit(output, frames)
            elif objective == "3d":
                out = crit(output, frames, critic, codec.last_layer_weight, step=0)
            else:
                out = crit(output, frames, {objective: critic})
            out["loss"].backward()
            opt.step()

    else:
        if critic is None:
            raise ValueError("the baseline has no critic step")
        opt = torch.optim.RMSprop(critic.parameters(), lr=5e-5)
        with torch.no_grad():
            recon = codec(frames)["x_hat"]

        def step() -> None:
            opt.zero_grad(set_to_none=True)
            if objective == "3d":
                out = crit.discriminator_loss(recon, frames, critic, step=0)
            else:
                out = crit.critic_loss(recon, frames, {objective: critic})
            out["loss"].backward()
            opt.step()

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    rss0 = _rss_bytes()
    was_reset = _reset_peak_rss()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for _ in range(args.warmup):
        step()
    sync()
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = max(0, _peak_rss_bytes(was_reset) - rss0)
    return {"seconds": sorted(times)[len(times) // 2], "peak_bytes": peak, "note": note}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--frames", type=int, default=3)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--repeats", type=int, default=3, help="timed steps (median reported)")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    p.add_argument("--objectives", default=",".join(OBJECTIVES[1:]))
    p.add_argument("--critic-arch", default="dcgan", choices=("dcgan", "3d"))
    p.add_argument("--critic-widths", type=int, nargs="+", default=[32, 64, 128, 256])
    p.add_argument("--disc-widths-3d", type=int, nargs="+", default=[32, 64])
    p.add_argument("--disc-widths-2d", type=int, nargs="+", default=[128, 128, 128])
    p.add_argument("--json", help="also write the figures to this file")
    p.add_argument("--child", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _measure(argv: list[str], name: str) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *argv, "--child", name]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"measurement {name} failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args)))
        return
    objectives = [o for o in args.objectives.split(",") if o]
    unknown = set(objectives) - set(OBJECTIVES)
    if unknown:
        raise SystemExit(f"unknown objectives {sorted(unknown)}; choose from {OBJECTIVES[1:]}")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    print(
        f"batch {args.batch} x {args.frames} frames x {args.channels}x{args.size}x{args.size}, "
        f"device {args.device}, torch threads {torch.get_num_threads()}, median of {args.repeats}"
    )
    print(
        f"PLF critics: {args.critic_arch} widths {args.critic_widths}; Discriminator3D widths "
        f"3d {args.disc_widths_3d} 2d {args.disc_widths_2d}; stand-in codec"
    )
    base = _measure(argv, "baseline:codec")
    mib = 2**20
    print(
        f"baseline codec step (rate + MSE): {base['seconds']:.3f} s, peak {base['peak_bytes'] / mib:.0f} MiB"
    )
    header = f"{'objective':<9} {'codec s':>8} {'x base':>7} {'MiB':>6} {'critic s':>9} {'x base':>7} {'MiB':>6} {'GP share':>9}"
    print(header)
    notes = set()
    report = {"args": {k: v for k, v in vars(args).items() if k != "child"}, "baseline": base}
    for obj in objectives:
        r = {phase: _measure(argv, f"{obj}:{phase}") for phase in PHASES}
        report[obj] = r
        notes.update(v["note"] for v in r.values() if v["note"])
        c, d, n = r["codec"], r["critic"], r["critic_nogp"]
        share = max(0.0, 1.0 - n["seconds"] / d["seconds"])
        print(
            f"{obj:<9} {c['seconds']:>8.3f} {c['seconds'] / base['seconds']:>7.1f} "
            f"{c['peak_bytes'] / mib:>6.0f} {d['seconds']:>9.3f} {d['seconds'] / base['seconds']:>7.1f} "
            f"{d['peak_bytes'] / mib:>6.0f} {share:>9.0%}"
        )
    for note in sorted(notes):
        print(f"note: 3D objective LPIPS = {note}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
