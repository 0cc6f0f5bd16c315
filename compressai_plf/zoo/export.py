"""Turn a training checkpoint into a zoo weight file (what ``ssf_plf(..., pretrained=True)`` loads).

Usage::

    python -m compressai_plf.zoo.export CHECKPOINT --quality 1 --rate-mode fixed [--half]
        [--family natural|mmnist] [--head NAME=CHECKPOINT ...] [--decoders mse,jd,fmd]
        [--perceptual-iframe mmse] [--out FILE] [--data-root DIR] [--json REPORT]
    python -m compressai_plf.zoo.export --refresh zoo/export_checks.json

The checkpoint's architecture must be the zoo's for that quality (``zoo.presets``); the
entropy tables are refreshed (``update(force=True)``) so the file codes real bitstreams. With
``--half`` floating-point weights are stored in float16 (half the size; the entropy models stay
float32) and loaded back into float32. ``--head fmd=OTHER`` takes head ``fmd`` from another
checkpoint of the same encoder side (``ScaleSpaceFlowPLF.with_head``: universal heads trained
in separate runs on one frozen bitstream, assembled into one file). ``--decoders`` keeps only
the named heads (e.g. the ones the runs trained) and ``--perceptual-iframe mmse`` leaves a
shared I-frame generator out (the heads then continue the MMSE I-frame, or a frame 0 given
at decode time): ``ScaleSpaceFlowPLF.with_decoders``, which keeps the encoder side, so the
file reads the checkpoint's bitstreams. The command then reloads the file the way the zoo does
and reports how far its reconstructions are from the checkpoint's on a batch of clips (from
``--data-root``, else random), so the effect of ``--half`` is measured, not assumed.

``--refresh REPORTS`` brings a JSON of such reports (``zoo/export_checks.json``: name ->
report) up to date with the weight files after a metadata-only rewrite (e.g. a backfilled
``lambda_p``): each file's bytes, sha256 and recorded metadata are read again; the decode
comparison is kept, since it depends on the state dict alone, which the golden bitstream tests
(``tests/io/test_golden_bitstreams.py``) pin for every shipped file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import load_checkpoint, save_atomic, ssf_plf_of, training_weights
from ..io.weights_hash import weights_hash
from ..models import ScaleSpaceFlowPLF
from ..models.ssf_plf import IFRAME_MODES
from ..utils.cli_errors import (
    check_readable_file,
    check_torch_file,
    check_writable_dir,
    fail,
    one_line_errors,
)
from .gaussian_tables import strip_gaussian_tables
from .presets import FAMILIES, architecture, check_quality, resolve_family
from .pretrained import load_weights_file, weights_path
from .weight_cards import write_card

__all__ = ["compare_decodes", "export_weights", "half_state_dict", "refresh_reports"]

KEEP_FP32 = ("entropy_bottleneck", "gaussian_conditional")


def half_state_dict(state_dict: dict[str, Any]) -> dict[str, Any]:
    """Float tensors to float16, except the entropy models' (their medians set the symbols)."""
    out = {}
    for k, v in state_dict.items():
        keep = any(part in k for part in KEEP_FP32)
        if isinstance(v, torch.Tensor) and v.is_floating_point() and not keep:
            v = v.half()
        out[k] = v
    return out


def _check_architecture(
    net: ScaleSpaceFlowPLF, quality: int, rate_mode: str, family: str | None = None
) -> None:
    family = resolve_family(family, rate_mode)
    expected = architecture(quality, rate_mode, family)
    differ = {k: (net.config.get(k), v) for k, v in expected.items() if net.config.get(k) != v}
    if differ:
        raise ValueError(
            f"checkpoint is not the zoo's q{quality} {family} {rate_mode} architecture; "
            f"checkpoint vs zoo: {differ}"
        )


@torch.no_grad()
def compare_decodes(a: ScaleSpaceFlowPLF, b: ScaleSpaceFlowPLF, clips: list) -> dict[str, Any]:
    """Code each clip with both models (same dither seed) and compare: how many bitstreams
    are identical and, per head, the largest absolute difference of the decoded frames."""
    a.eval(), b.eval()
    same, diffs = 0, dict.fromkeys(a.decoders, 0.0)
    for i in range(clips[0].shape[0]):
        clip = [x[i : i + 1] for x in clips]
        seed = i if a.rate_mode == "fixed" else None  # hyperprior streams carry no dither
        sa, sha = a.compress(clip, seed=seed)
        sb, shb = b.compress(clip, seed=seed)
        same += int(sa == sb)
        da, db = a.decompress_heads(sa, sha), b.decompress_heads(sb, shb)
        for head in a.decoders:
            d = max(float((x - y).abs().max()) for x, y in zip(da[head], db[head], strict=True))
            diffs[head] = max(diffs[head], d)
    return {"identical_bitstreams": f"{same}/{clips[0].shape[0]}", "max_abs_decode_diff": diffs}


def _clips(net: ScaleSpaceFlowPLF, data_root: str | None, n: int = 8) -> list[torch.Tensor]:
    if data_root and net.channels == 1:
        from ..datasets import MovingMNIST

        ds = MovingMNIST(data_root, split="test")
        items = [ds[i] for i in range(n)]
        return [torch.stack([x[t] for x in items]) for t in range(3)]
    g = torch.Generator().manual_seed(0)
    return [torch.rand(n, net.channels, 64, 64, generator=g) for _ in range(3)]


def _run_file(path: str | os.PathLike) -> str:
    """Run folder and file name of a checkpoint (``q9-run/checkpoint.pth.tar``): every run
    saves ``checkpoint.pth.tar``, so the name alone does not say which."""
    path = Path(path)
    return f"{path.parent.name}/{path.name}"


def export_weights(
    checkpoint: str | os.PathLike,
    quality: int,
    rate_mode: str = "fixed",
    out: str | os.PathLike | None = None,
    half: bool = False,
    data_root: str | None = None,
    family: str | None = None,
    decoders: list[str] | None = None,
    perceptual_iframe: str | None = None,
    heads_from: Mapping[str, str | os.PathLike] | None = None,
) -> dict[str, Any]:
    """Write the zoo weight file of ``checkpoint`` (with each head of ``heads_from`` taken
    from that checkpoint, ``ScaleSpaceFlowPLF.with_head``; then only the heads ``decoders``
    and the I-frame mode ``perceptual_iframe`` when given, ``with_decoders``);
    returns its path, size, sha256 and how the reloaded file's bitstreams and decodes compare
    with the (converted) checkpoint's (:func:`compare_decodes`, on Moving MNIST test clips
    from the MNIST root ``data_root`` for the gray family, else on random clips)."""
    ckpt = load_checkpoint(checkpoint)
    net = ssf_plf_of(ckpt, f"checkpoint {checkpoint}")
    original = net  # with_head / with_decoders return copies
    converted: dict[str, Any] = {}
    sources: dict[str, Any] = {}  # heads taken from other runs, recorded in the file
    for name, other in (heads_from or {}).items():
        other_ckpt = load_checkpoint(other)
        net = net.with_head(name, ssf_plf_of(other_ckpt, f"checkpoint {other}"))
        sources[name] = {
            "source": _run_file(other),  # a head's operating point is its run's
            "step": other_ckpt.get("step"),
            **training_weights(other_ckpt),
        }
    if decoders is not None or perceptual_iframe is not None:
        net = net.with_decoders(decoders, perceptual_iframe)
    if net is not original:
        # what the file's weight check compares is the converted model; that it still reads
        # the checkpoint's bitstreams is the encoder-side identity, checked here
        converted["reads_checkpoint_bitstreams"] = weights_hash(net) == weights_hash(original)
        if not converted["reads_checkpoint_bitstreams"]:
            raise RuntimeError("converting the heads changed the encoder side (a bug)")
    # what the file holds must be the zoo's architecture: a checkpoint trained with a shared
    # I-frame generator qualifies once --perceptual-iframe mmse leaves it out
    _check_architecture(net, quality, rate_mode, family)
    net.update(force=True)
    exported = strip_gaussian_tables(net.state_dict())  # rebuilt by the loader
    if half:
        exported = half_state_dict(exported)
    args = ckpt.get("args") or {}
    meta = {
        "source": _run_file(checkpoint),
        "stage": ckpt.get("stage_name"),
        "step": ckpt.get("step"),
        "plf": args.get("plf"),
        # the training weights, so a file records its operating point
        **training_weights(ckpt),
        "float16": half,
        **({"heads_from": sources} if sources else {}),
    }
    path = Path(out) if out else weights_path(quality, "mse", rate_mode, family)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_atomic({"state_dict": exported, "meta": meta}, path)
    write_card(
        path, quality, rate_mode, resolve_family(family, rate_mode)
    )  # the metadata sidecar list_pretrained() reads

    back = load_weights_file(path)  # as ssf_plf(..., pretrained=True) loads it
    check = compare_decodes(net, back, _clips(net, data_root))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {
        "path": str(path),
        "bytes": path.stat().st_size,
        "sha256": digest,
        **check,
        **converted,
        **meta,
    }


def refresh_reports(path: str | os.PathLike, root: str | os.PathLike = ".") -> dict[str, Any]:
    """Rewrite the export reports in ``path`` with their weight files' current bytes, sha256
    and metadata (report ``"path"`` relative to ``root``); returns the reports.

    Raises:
        FileNotFoundError: a report's weight file is missing.
    """
    path = Path(path)
    reports = json.loads(path.read_text())
    for name, report in reports.items():
        weights = Path(root) / report["path"]
        meta = load_checkpoint(weights, what="zoo weight file").get("meta") or {}
        reports[name] = {  # export_weights' layout: file, the decode comparison, metadata
            "path": report["path"],
            "bytes": weights.stat().st_size,
            "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
            "identical_bitstreams": report["identical_bitstreams"],
            "max_abs_decode_diff": report["max_abs_decode_diff"],
            **meta,
        }
    path.write_text(json.dumps(reports, indent=2) + "\n")
    return reports


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m compressai_plf.zoo.export", description=__doc__)
    p.add_argument("checkpoint", nargs="?")
    p.add_argument("--refresh", metavar="REPORTS", help="refresh a JSON of export reports")
    p.add_argument("--quality", type=int)
    p.add_argument("--rate-mode", default="fixed", choices=("fixed", "hyperprior"))
    p.add_argument(
        "--family",
        choices=FAMILIES,
        default=None,
        help="zoo family (default: mmnist for --rate-mode fixed, natural for hyperprior)",
    )
    p.add_argument("--out", help="weight file (default: the package's zoo weights folder)")
    p.add_argument("--half", action="store_true", help="store float weights as float16")
    p.add_argument(
        "--head",
        action="append",
        default=[],
        metavar="NAME=CHECKPOINT",
        help="take perceptual head NAME from CHECKPOINT (same encoder side); repeatable",
    )
    p.add_argument(
        "--decoders",
        type=lambda v: [h for h in v.split(",") if h],
        help="comma-separated heads to keep (default: every head of the checkpoint)",
    )
    p.add_argument(
        "--perceptual-iframe",
        choices=IFRAME_MODES,
        help="perceptual I-frame mode of the file (mmse: leave a shared generator out)",
    )
    p.add_argument("--data-root", help="MNIST root for the reload check (default: random clips)")
    p.add_argument("--json", help="also write the report to this file")
    args = p.parse_args(argv)
    if args.refresh:
        check_readable_file(args.refresh, "--refresh")
        with one_line_errors(f"refreshing {args.refresh}"):
            return refresh_reports(args.refresh)
    if args.checkpoint is None or args.quality is None:
        raise fail("give CHECKPOINT and --quality (or --refresh REPORTS)")
    heads_from = {}
    for item in args.head:
        name, sep, other = item.partition("=")
        if not sep or not name or not other:
            raise fail(f"--head: expected NAME=CHECKPOINT, got {item!r}")
        check_torch_file(other, f"--head {name}")
        heads_from[name] = other
    check_torch_file(args.checkpoint, "checkpoint")
    with one_line_errors():
        check_quality(args.quality)
        resolve_family(args.family, args.rate_mode)
    if args.out:
        check_writable_dir(Path(args.out).parent, "--out")
    if args.json:
        check_writable_dir(Path(args.json).parent, "--json")
    if args.data_root and not Path(args.data_root).is_dir():
        raise fail(f"--data-root: not a directory: {args.data_root}")
    with one_line_errors(f"exporting {args.checkpoint}"):
        info = export_weights(
            args.checkpoint,
            args.quality,
            args.rate_mode,
            args.out,
            args.half,
            args.data_root,
            args.family,
            args.decoders,
            args.perceptual_iframe,
            heads_from,
        )
    for k, v in info.items():
        print(f"{k}: {v}")
    if args.json:
        Path(args.json).write_text(json.dumps(info, indent=2))
    return info


if __name__ == "__main__":
    main()
