"""Train the digit classifier used by the offline realism metrics and save its weights.

Usage::

    python -m compressai_plf.metrics.build_classifier --mnist-root DIR --out FILE [--download]

``DIR`` holds ``MNIST/raw/*-ubyte`` (torchvision's layout). Training frames are MNIST
training digits resized to 32x32 at a random position of a 64x64 black canvas (the Moving
MNIST frame marginal), drawn afresh every epoch. The test accuracy is measured the same way on
the MNIST test split and stored in the checkpoint. The default single epoch (469 steps of
128 frames) took 4.5 min on 2 CPU cores shared with other jobs (2.8 min of CPU time) and
reached 98.8 % test accuracy.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from .digit_classifier import DigitClassifier
from .mnist_frames import load_mnist, place_digits


def train_digit_classifier(
    images: Tensor,
    labels: Tensor,
    epochs: int = 1,
    batch_size: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
    log_every: int = 0,
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
    for _ in range(epochs):
        order = torch.randperm(images.shape[0], generator=gen)
        for i in range(0, images.shape[0], batch_size):
            idx = order[i : i + batch_size]
            x = place_digits(images[idx], generator=gen)
            loss = F.cross_entropy(model(x), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
            if log_every and step % log_every == 0:
                print(f"step {step}/{steps} loss {running:.4f}", file=sys.stderr)
    return model.eval()


@torch.no_grad()
def placed_digit_accuracy(
    model: DigitClassifier, images: Tensor, labels: Tensor, seed: int = 1, batch_size: int = 1000
) -> float:
    """Accuracy on digits placed at random positions (fixed by ``seed``)."""
    gen = torch.Generator().manual_seed(seed)
    model.eval()
    correct = 0
    for i in range(0, images.shape[0], batch_size):
        x = place_digits(images[i : i + batch_size], generator=gen)
        correct += (model(x).argmax(-1) == labels[i : i + batch_size]).sum().item()
    return correct / images.shape[0]


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
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-train", type=int, default=0, help="use only the first N digits (0: all)")
    p.add_argument("--max-test", type=int, default=0, help="test on the first N digits (0: all)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    images, labels = load_mnist(args.mnist_root, train=True, download=args.download)
    if args.max_train:
        images, labels = images[: args.max_train], labels[: args.max_train]
    test_images, test_labels = load_mnist(args.mnist_root, train=False, download=args.download)
    if args.max_test:
        test_images, test_labels = test_images[: args.max_test], test_labels[: args.max_test]
    start = time.time()
    model = train_digit_classifier(
        images, labels, args.epochs, args.batch_size, args.lr, args.seed, log_every=100
    )
    train_time = time.time() - start
    acc = placed_digit_accuracy(model, test_images, test_labels)
    meta = {
        "test_accuracy": acc,
        "epochs": args.epochs,
        "num_train": int(images.shape[0]),
        "num_test": int(test_images.shape[0]),
        "seed": args.seed,
        "frame_size": 64,
        "digit_size": 32,
        "train_seconds": round(train_time, 1),
    }
    save_digit_classifier(model, args.out, meta)
    print(f"test accuracy {acc:.4f}, trained in {train_time:.0f} s, saved to {args.out}")


if __name__ == "__main__":
    main()
