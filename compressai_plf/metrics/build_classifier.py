"""Train the digit classifier used by the offline realism metrics and save its weights.

Usage::

    python -m compressai_plf.metrics.build_classifier --mnist-root DIR --out FILE [--download]

``DIR`` holds ``MNIST/raw/*-ubyte`` (torchvision's layout). Training frames are MNIST
training digits resized to 32x32 at a random position of a 64x64 black canvas (the Moving
MNIST frame marginal), drawn afresh every epoch, with codec-like artefacts
(:func:`~compressai_plf.metrics.codec_artifacts.codec_artifacts`: blur, noise, low contrast,
clamped gain) on part of them, always labelled with the true digit. The classifier then learns
the digit's posterior given a degraded frame: a blob that no longer shows a digit gets a low
confidence instead of a confident "8" (https://arxiv.org/abs/2305.19301 measures error
permanence through digit identity, which needs that). The test accuracy is measured the same
way on the MNIST test split, clean and under each artefact (:func:`robustness_report`), and
stored in the checkpoint's ``meta``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm import tqdm

from ..datasets.mnist_idx import load_mnist_tensors
from ..datasets.moving_mnist import place_digits
from .codec_artifacts import codec_artifacts, digit_mixtures, gaussian_blur
from .digit_classifier import DigitClassifier

#: Per-artefact probability of the training augmentation (each frame is clean with
#: probability ``(1 - p) ** 4``).
AUGMENT_PROB = 0.35
#: Share of each training batch replaced by digit mixtures (MMSE-like blobs, soft labels).
MIX_SHARE = 0.2
#: Confidence above which a frame counts as a confidently recognised digit.
CONFIDENT = 0.9


def train_digit_classifier(
    images: Tensor,
    labels: Tensor,
    epochs: int = 1,
    batch_size: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
    log_every: int = 0,
    augment: float = AUGMENT_PROB,
    mix: float = MIX_SHARE,
    progress: bool = False,
    **model_kwargs,
) -> DigitClassifier:
    """Train a :class:`DigitClassifier` on randomly placed digits.

    Args:
        images: (N, 28, 28) MNIST digits (uint8 or float in [0, 1]).
        labels: (N,) class indices.
        epochs: passes over the digits (positions are redrawn every epoch).
        batch_size: frames per step.
        lr: Adam learning rate (cosine-decayed to 0).
        seed: seed for weights, shuffling and positions.
        log_every: print the running loss every this many steps (0: silent).
        augment: probability of each codec-like artefact (0: clean frames only).
        mix: share of each batch replaced by :func:`digit_mixtures` with soft labels.
        progress: show a progress bar.
        **model_kwargs: passed to :class:`DigitClassifier`.

    Returns:
        The trained model in eval mode.
    """
    if images.dim() != 3 or labels.shape != images.shape[:1]:
        raise ValueError(
            f"need images (N, H, W) and labels (N,), got {tuple(images.shape)}, {tuple(labels.shape)}"
        )
    if epochs < 1 or batch_size < 1:
        raise ValueError("epochs and batch_size must be >= 1")
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = DigitClassifier(**model_kwargs)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * -(-images.shape[0] // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    model.train()
    step, running = 0, 0.0
    bar = tqdm(total=steps, desc="digit classifier", disable=not progress, file=sys.stderr)
    for _ in range(epochs):
        order = torch.randperm(images.shape[0], generator=gen)
        for i in range(0, images.shape[0], batch_size):
            idx = order[i : i + batch_size]
            x = place_digits(images[idx], generator=gen)
            target = F.one_hot(labels[idx], model.num_classes).float()
            n_mix = int(round(mix * x.shape[0]))
            if n_mix > 0:
                x[:n_mix], target[:n_mix] = digit_mixtures(
                    images, labels, n_mix, gen, num_classes=model.num_classes
                )
            if augment > 0:
                x = codec_artifacts(x, gen, prob=augment)
            loss = F.cross_entropy(model(x), target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
            bar.update()
            bar.set_postfix(loss=f"{running:.4f}")
            if log_every and step % log_every == 0:
                print(f"step {step}/{steps} loss {running:.4f}", file=sys.stderr)
    bar.close()
    return model.eval()


@torch.no_grad()
def placed_digit_accuracy(
    model: DigitClassifier,
    images: Tensor,
    labels: Tensor,
    seed: int = 1,
    batch_size: int = 1000,
    transform: Callable[[Tensor, torch.Generator], Tensor] | None = None,
) -> float:
    """Accuracy on digits placed at random positions (fixed by ``seed``), optionally after
    ``transform(frames, generator)`` (an artefact)."""
    return _placed_digit_stats(model, images, labels, seed, batch_size, transform)["accuracy"]


@torch.no_grad()
def _placed_digit_stats(
    model: DigitClassifier,
    images: Tensor,
    labels: Tensor,
    seed: int,
    batch_size: int,
    transform: Callable[[Tensor, torch.Generator], Tensor] | None,
) -> dict[str, Any]:
    gen = torch.Generator().manual_seed(seed)
    model.eval()
    correct, confident, conf_sum = 0, 0, 0.0
    counts = torch.zeros(model.num_classes)
    for i in range(0, images.shape[0], batch_size):
        x = place_digits(images[i : i + batch_size], generator=gen)
        if transform is not None:
            x = transform(x, gen)
        conf, pred = model(x).softmax(-1).max(-1)
        correct += (pred == labels[i : i + batch_size]).sum().item()
        confident += (conf >= CONFIDENT).sum().item()
        conf_sum += conf.sum().item()
        counts += torch.bincount(pred, minlength=model.num_classes).float()
    n = images.shape[0]
    return {
        "accuracy": correct / n,
        "mean_confidence": conf_sum / n,
        "confident_share": confident / n,
        "most_common_label_share": float(counts.max() / n),
    }


def _fixed_blur(sigma: float) -> Callable[[Tensor, torch.Generator], Tensor]:
    return lambda x, g: gaussian_blur(x, torch.full((x.shape[0],), sigma))


def _fixed_noise(std: float) -> Callable[[Tensor, torch.Generator], Tensor]:
    return lambda x, g: (x + std * torch.randn(x.shape, generator=g)).clamp(0, 1)


#: The conditions of the robustness report: name -> frame transform (``None``: clean).
ROBUSTNESS_CONDITIONS: dict[str, Callable[[Tensor, torch.Generator], Tensor] | None] = {
    "clean": None,
    "blur sigma 1.5": _fixed_blur(1.5),
    "blur sigma 2.5": _fixed_blur(2.5),
    "blur sigma 4": _fixed_blur(4.0),
    "noise std 0.1": _fixed_noise(0.1),
    "noise std 0.25": _fixed_noise(0.25),
    "contrast 0.4": lambda x, g: x.mean((1, 2, 3), keepdim=True) * 0.6 + 0.4 * x,
    "random codec artefacts": lambda x, g: codec_artifacts(x, g, prob=0.5),
}

#: Mixtures of the robustness report: name -> number of averaged digits.
MIXTURE_CONDITIONS = {"mixture of 2 digits": 2, "mixture of 8 digits (MMSE-like blob)": 8}


def robustness_report(
    model: DigitClassifier, images: Tensor, labels: Tensor, seed: int = 1
) -> dict[str, dict[str, float]]:
    """Accuracy, mean confidence, share of frames with confidence >= :data:`CONFIDENT` and
    share of the most common label, on placed test digits, clean and under each artefact of
    :data:`ROBUSTNESS_CONDITIONS` (same digits and positions for every condition)."""
    report = {
        name: _placed_digit_stats(model, images, labels, seed, 1000, fn)
        for name, fn in ROBUSTNESS_CONDITIONS.items()
    }
    for name, k in MIXTURE_CONDITIONS.items():
        report[name] = _mixture_stats(model, images, labels, k, seed)
    return report


@torch.no_grad()
def _mixture_stats(
    model: DigitClassifier, images: Tensor, labels: Tensor, k: int, seed: int, count: int = 2000
) -> dict[str, float]:
    """Confidence on mixtures of exactly ``k`` digits; "accuracy" is the share labelled as
    one of the mixed classes (a confident label there names a digit the frame does not
    show alone)."""
    gen = torch.Generator().manual_seed(seed)
    frames, targets = digit_mixtures(images, labels, count, gen, min_components=k, max_components=k)
    conf, pred = model(frames).softmax(-1).max(-1)
    counts = torch.bincount(pred, minlength=model.num_classes).float()
    return {
        "accuracy": float((targets.gather(1, pred.view(-1, 1)) > 0).float().mean()),
        "mean_confidence": float(conf.mean()),
        "confident_share": float((conf >= CONFIDENT).float().mean()),
        "most_common_label_share": float(counts.max() / count),
    }


def save_digit_classifier(
    model: DigitClassifier, path: str | Path, meta: dict | None = None
) -> None:
    """Save weights, constructor config and metadata (plain types only: ``weights_only``-safe)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {"state_dict": model.state_dict(), "config": model.config(), "meta": dict(meta or {})}, path
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m compressai_plf.metrics.build_classifier",
        description="Train the 64x64 Moving-MNIST-frame digit classifier for realism metrics.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--mnist-root", required=True, help="folder holding MNIST/raw (torchvision layout)"
    )
    p.add_argument("--out", required=True, help="output checkpoint file")
    p.add_argument("--download", action="store_true", help="download MNIST if missing")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument(
        "--augment",
        type=float,
        default=AUGMENT_PROB,
        help="probability of each codec-like artefact in training (0: clean only)",
    )
    p.add_argument("--mix", type=float, default=MIX_SHARE, help="share of digit mixtures per batch")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-train", type=int, default=0, help="use only the first N digits (0: all)")
    p.add_argument("--max-test", type=int, default=0, help="test on the first N digits (0: all)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: default)")
    p.add_argument("--json", help="also write the metadata (robustness report) here")
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        images, labels = load_mnist_tensors(args.mnist_root, train=True, download=args.download)
        test_images, test_labels = load_mnist_tensors(
            args.mnist_root, train=False, download=args.download
        )
    except FileNotFoundError as err:
        raise SystemExit(f"error: {err}") from err
    if args.max_train:
        images, labels = images[: args.max_train], labels[: args.max_train]
    if args.max_test:
        test_images, test_labels = test_images[: args.max_test], test_labels[: args.max_test]
    start = time.time()
    model = train_digit_classifier(
        images,
        labels,
        args.epochs,
        args.batch_size,
        args.lr,
        args.seed,
        augment=args.augment,
        mix=args.mix,
        progress=True,
    )
    train_time = time.time() - start
    report = robustness_report(model, test_images, test_labels)
    acc = report["clean"]["accuracy"]
    meta = {
        "test_accuracy": acc,
        "robustness": report,
        "augment": args.augment,
        "mix": args.mix,
        "confident_threshold": CONFIDENT,
        "epochs": args.epochs,
        "num_train": int(images.shape[0]),
        "num_test": int(test_images.shape[0]),
        "seed": args.seed,
        "frame_size": 64,
        "digit_size": 32,
        "train_seconds": round(train_time, 1),
    }
    save_digit_classifier(model, args.out, meta)
    if args.json:
        Path(args.json).write_text(json.dumps(meta, indent=2))
    print(f"test accuracy {acc:.4f}, trained in {train_time:.0f} s, saved to {args.out}")
    for name, stats in report.items():
        cells = ", ".join(f"{k} {v:.3f}" for k, v in stats.items())
        print(f"  {name}: {cells}")


if __name__ == "__main__":
    main()
