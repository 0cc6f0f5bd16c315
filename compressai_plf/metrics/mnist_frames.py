"""Single 64x64 frames with the Moving MNIST frame marginal, for training the digit classifier.

Moving MNIST (Srivastava et al. 2015, https://arxiv.org/abs/1502.04681; the PLF paper's
generator, https://arxiv.org/abs/2305.19301) resizes an MNIST digit to 32x32 and moves it
inside a 64x64 black canvas, bouncing at the borders. Any single frame is therefore a resized
digit at a uniformly random position in which it fits entirely.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor


def load_mnist(
    root: str | Path, train: bool = True, download: bool = False
) -> tuple[Tensor, Tensor]:
    """Read MNIST in torchvision's layout (``root/MNIST/raw/*-ubyte``).

    Args:
        root: folder holding ``MNIST/`` (what ``torchvision.datasets.MNIST`` calls root).
        train: training split (60000 digits) or test split (10000).
        download: let torchvision fetch the files when missing.

    Returns:
        ``(images, labels)``: uint8 (N, 28, 28) and int64 (N,).
    """
    from torchvision.datasets import MNIST

    try:
        ds = MNIST(root=str(root), train=train, download=download)
    except RuntimeError as err:
        raise FileNotFoundError(
            f"MNIST not found under {root!r} (expected {root}/MNIST/raw/*-ubyte); "
            "pass --download to fetch it"
        ) from err
    return ds.data, ds.targets.long()


def place_digits(
    digits: Tensor,
    frame_size: int = 64,
    digit_size: int = 32,
    generator: torch.Generator | None = None,
    positions: Tensor | None = None,
) -> Tensor:
    """Resize each digit and paste it at a uniformly random position on a black canvas.

    Args:
        digits: (B, 28, 28) uint8 (0..255) or float (0..1) MNIST digits.
        frame_size: canvas side in pixels.
        digit_size: side of the resized digit.
        generator: random generator for the positions.
        positions: int (B, 2) ``(top, left)`` of each digit instead of random ones (each in
            ``0..frame_size - digit_size``).

    Returns:
        (B, 1, frame_size, frame_size) float frames in [0, 1].
    """
    if digits.dim() != 3:
        raise ValueError(f"digits must be (B, H, W), got shape {tuple(digits.shape)}")
    if not 0 < digit_size <= frame_size:
        raise ValueError(f"need 0 < digit_size <= frame_size, got {digit_size}, {frame_size}")
    d = digits.float()
    if digits.dtype == torch.uint8:
        d = d / 255.0
    d = F.interpolate(
        d.unsqueeze(1), size=(digit_size, digit_size), mode="bilinear", align_corners=False
    )
    d = d.clamp(0, 1)
    b = d.shape[0]
    span = frame_size - digit_size + 1
    if positions is None:
        pos = torch.randint(0, span, (b, 2), generator=generator)
    else:
        pos = torch.as_tensor(positions).long()
        if pos.shape != (b, 2) or pos.min() < 0 or pos.max() >= span:
            raise ValueError(f"positions must be (B, 2) in 0..{span - 1}, got {tuple(pos.shape)}")
    frames = d.new_zeros(b, 1, frame_size, frame_size)
    for i, (top, left) in enumerate(pos.tolist()):
        frames[i, :, top : top + digit_size, left : left + digit_size] = d[i]
    return frames
