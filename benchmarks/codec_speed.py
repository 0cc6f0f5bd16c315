"""Encode/decode seconds per frame of ssf_plf against CompressAI's ssf2020, in one process.

    python benchmarks/codec_speed.py [--frames 4] [--repeats 3] [--sizes 256 64] [--json OUT]

Both models use ScaleSpaceFlow's widths (128/192) and 3-channel frames. ssf2020 needs frames
padded to a multiple of 128, so at 64x64 it codes a 128x128 padded frame, as CompressAI's eval
tool does; ssf_plf runs at native size with a 64-multiple configuration (stages=4,
hyper_stages=2) there, and with its defaults at 256x256. Figures are medians over repeats
after one warm-up run, with
the two models' runs interleaved; the ratio is ssf_plf / ssf2020 (target <= 1.2 at equal widths).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from functools import partial

import torch
import torch.nn.functional as F
from compressai.zoo import ssf2020

from compressai_plf.models import ScaleSpaceFlowPLF


def _seconds(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


@torch.no_grad()
def measure_pair(nets: dict, inputs: dict, repeats: int) -> dict[str, dict[str, float]]:
    """Median encode/decode seconds per frame; the models' runs are interleaved so that a
    change in machine load affects both alike."""
    jobs = {}
    for name, net in nets.items():
        net.update(force=True)
        net.eval()
        strings, shapes = net.compress(inputs[name])  # warm-up, and the stream to decode
        net.decompress(strings, shapes)
        jobs[name] = (net, inputs[name], strings, shapes)
    enc = {n: [] for n in nets}
    dec = {n: [] for n in nets}
    for _ in range(repeats):
        for name, (net, frames, strings, shapes) in jobs.items():
            enc[name].append(_seconds(partial(net.compress, frames)))
            dec[name].append(_seconds(partial(net.decompress, strings, shapes)))
    return {
        n: {
            "encode_s_per_frame": statistics.median(enc[n]) / len(inputs[n]),
            "decode_s_per_frame": statistics.median(dec[n]) / len(inputs[n]),
        }
        for n in nets
    }


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--frames", type=int, default=4)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 64])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", help="write the figures to this file")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    report: dict = {"threads": args.threads, "frames": args.frames, "sizes": {}}
    for size in args.sizes:
        frames = [torch.rand(1, 3, size, size) for _ in range(args.frames)]
        pad = (-size) % 128
        padded = [F.pad(x, (0, pad, 0, pad), mode="replicate") for x in frames]
        plf_cfg = {} if size % 128 == 0 else {"stages": 4, "hyper_stages": 2}
        res = measure_pair(
            {
                "ssf2020": ssf2020(quality=1, pretrained=False),
                "ssf_plf": ScaleSpaceFlowPLF(**plf_cfg),
            },
            {"ssf2020": padded, "ssf_plf": frames},
            args.repeats,
        )
        base, ours = res["ssf2020"], res["ssf_plf"]
        row = {
            "ssf2020": base,
            "ssf_plf": ours,
            "ssf2020_coded_size": size + pad,
            "ratio_encode": ours["encode_s_per_frame"] / base["encode_s_per_frame"],
            "ratio_decode": ours["decode_s_per_frame"] / base["decode_s_per_frame"],
        }
        report["sizes"][str(size)] = row
        print(
            f"{size}x{size}: ssf2020 enc {base['encode_s_per_frame']:.4f} s/f "
            f"dec {base['decode_s_per_frame']:.4f} s/f (coded at {size + pad}) | "
            f"ssf_plf enc {ours['encode_s_per_frame']:.4f} s/f dec "
            f"{ours['decode_s_per_frame']:.4f} s/f | ratio enc {row['ratio_encode']:.2f} "
            f"dec {row['ratio_decode']:.2f}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return report


if __name__ == "__main__":
    main()
