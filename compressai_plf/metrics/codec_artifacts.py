"""Codec-like artefacts for training and testing the digit classifier.

A classifier trained on clean digits labels what a low-rate decoder draws (a blurry blob) with
whatever clean class looks most like a blob ("8"), with high confidence. Evaluating the PLF
study's claims (https://arxiv.org/abs/2305.19301: error permanence, realism) needs a classifier
whose label follows the digit that is still visible and whose confidence drops when none is.
These artefacts imitate decoded frames: Gaussian blur (MMSE reconstructions at low rate),
additive noise, low contrast and a gain/offset that pushes values outside [0, 1] before the
decoder's clamp; and :func:`digit_mixtures`, averages of several digits at nearby positions,
which is what an MMSE decoder draws when the code does not pin the digit down (the posterior
mean), labelled with the average of their classes.

The artefact functions take frames ``(B, C, H, W)`` in [0, 1] and a ``torch.Generator``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ..datasets.moving_mnist import place_digits

__all__ = ["ARTIFACTS", "codec_artifacts", "digit_mixtures", "gaussian_blur"]

#: Names of the artefacts :func:`codec_artifacts` draws from (each applied independently).
ARTIFACTS = ("blur", "noise", "contrast", "clamp")


def gaussian_blur(x: Tensor, sigma: Tensor) -> Tensor:
    """Separable Gaussian blur of each frame with its own ``sigma`` (pixels, ``(B,)``).

    Frames with ``sigma <= 0`` are returned unchanged. Borders are replicated.
    """
    if x.dim() != 4 or sigma.shape != (x.shape[0],):
        raise ValueError(
            f"need frames (B, C, H, W) and sigma (B,), got {tuple(x.shape)}, {tuple(sigma.shape)}"
        )
    out = x.clone()
    b, c, h, w = x.shape
    for i, s in enumerate(sigma.tolist()):
        if s <= 0:
            continue
        radius = max(1, math.ceil(3 * s))
        k = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
        k = torch.exp(-0.5 * (k / s) ** 2)
        k = k / k.sum()
        f = x[i].reshape(c, 1, h, w)
        f = F.conv2d(F.pad(f, (radius, radius, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
        f = F.conv2d(F.pad(f, (0, 0, radius, radius), mode="replicate"), k.view(1, 1, -1, 1))
        out[i] = f.view(c, h, w)
    return out


def _draw(n: int, prob: float, lo: float, hi: float, g: torch.Generator) -> Tensor:
    """Per-frame values ``U(lo, hi)`` where a coin with ``prob`` falls, else 0."""
    on = torch.rand(n, generator=g) < prob
    return torch.where(on, lo + (hi - lo) * torch.rand(n, generator=g), torch.zeros(n))


def codec_artifacts(
    x: Tensor,
    generator: torch.Generator,
    prob: float = 0.5,
    max_blur: float = 4.0,
    max_noise: float = 0.25,
) -> Tensor:
    """Apply each artefact of :data:`ARTIFACTS` independently with probability ``prob``.

    - blur: Gaussian, sigma ~ U(0.5, ``max_blur``) px (at 4 px a 32-px digit is a blob);
    - noise: additive Gaussian, std ~ U(0.02, ``max_noise``);
    - contrast: ``m + a (x - m)`` around the frame mean ``m``, a ~ U(0.3, 1);
    - clamp: gain ~ U(0.7, 1.6) and offset ~ U(-0.2, 0.2), so values leave [0, 1] and are
      clamped as a decoder's output is.

    Args:
        x: frames ``(B, C, H, W)`` in [0, 1].
        generator: source of every random choice.
        prob: probability of each artefact.
        max_blur: largest blur sigma in pixels.
        max_noise: largest noise standard deviation.

    Returns:
        Frames of the same shape in [0, 1].
    """
    if x.dim() != 4:
        raise ValueError(f"codec_artifacts expects frames (B, C, H, W), got {tuple(x.shape)}")
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f"prob must lie in [0, 1], got {prob}")
    n = x.shape[0]
    x = gaussian_blur(x, _draw(n, prob, 0.5, max_blur, generator).to(x.dtype))
    a = _draw(n, prob, 0.3, 1.0, generator).view(-1, 1, 1, 1).to(x)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = torch.where(a > 0, mean + a * (x - mean), x)
    std = _draw(n, prob, 0.02, max_noise, generator).view(-1, 1, 1, 1).to(x)
    x = x + std * torch.randn(x.shape, generator=generator).to(x)
    on = (torch.rand(n, generator=generator) < prob).view(-1, 1, 1, 1).to(x)
    gain = 0.7 + 0.9 * torch.rand(n, generator=generator).view(-1, 1, 1, 1).to(x)
    offset = -0.2 + 0.4 * torch.rand(n, generator=generator).view(-1, 1, 1, 1).to(x)
    x = on * (gain * x + offset) + (1 - on) * x
    return x.clamp(0, 1)


def digit_mixtures(
    digits: Tensor,
    labels: Tensor,
    count: int,
    generator: torch.Generator,
    max_components: int = 8,
    jitter: int = 3,
    min_components: int = 2,
    num_classes: int = 10,
    frame_size: int = 64,
    digit_size: int = 32,
) -> tuple[Tensor, Tensor]:
    """Averages of ``min_components..max_components`` random digits placed within ``jitter`` px of a common
    position (a posterior mean of a code that fixes the position but not the digit), and
    their soft labels (the average of the components' one-hot classes).

    Args:
        digits: (N, 28, 28) MNIST digits to draw from.
        labels: (N,) their classes.
        count: number of mixtures.
        generator: source of every random choice.
        max_components: largest number of averaged digits.
        min_components: smallest number of averaged digits.
        jitter: largest offset of a component from the common position, in pixels.
        num_classes: width of the soft labels.
        frame_size, digit_size: Moving MNIST geometry.

    Returns:
        ``(frames, targets)``: (count, 1, frame_size, frame_size) in [0, 1] and (count,
        num_classes) rows summing to 1.
    """
    if not 1 <= min_components <= max_components or count < 1:
        raise ValueError(
            f"need count >= 1 and 1 <= min_components <= max_components, got {count}, "
            f"{min_components}, {max_components}"
        )
    span = frame_size - digit_size
    k = torch.randint(min_components, max_components + 1, (count,), generator=generator)
    frames = torch.zeros(count, 1, frame_size, frame_size)
    targets = torch.zeros(count, num_classes)
    centre = torch.randint(0, span + 1, (count, 2), generator=generator)
    for c in range(max_components):
        on = k > c  # mixtures that have a c-th component
        idx = torch.randint(0, digits.shape[0], (count,), generator=generator)
        offset = torch.randint(-jitter, jitter + 1, (count, 2), generator=generator)
        pos = (centre + offset).clamp(0, span)
        placed = place_digits(digits[idx], frame_size, digit_size, positions=pos)
        frames += placed * on.view(-1, 1, 1, 1)
        targets += F.one_hot(labels[idx], num_classes).float() * on.view(-1, 1)
    return frames / k.view(-1, 1, 1, 1), targets / k.view(-1, 1)
