"""Identity-swap fakes: the same trajectory, another digit from a random frame on.

Error permanence and its absence (Salehkalaibar et al., NeurIPS 2023,
https://arxiv.org/abs/2305.19301) are about digit *identity* along a clip: PLF-JD must keep
the first digit, PLF-FMD may change it. An evaluation critic trained only against blur, noise
and reordered real frames barely notices a clip whose digit turns into another digit while
the motion stays the same (W1 0.35 for swapped clips against 2.07 for blur, measured on the
previous critics). These fakes are exactly that change: clip ``i`` is re-rendered along its
own bouncing walk, showing its digit up to frame ``k - 1`` and a digit of another class from
frame ``k`` (uniform on ``1..T-1``) on. Every frame is a real Moving MNIST frame and the
motion is real; only the identity breaks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..datasets.moving_mnist import render_clip, resize_digit

__all__ = ["ClipTrajectories"]


@dataclass
class ClipTrajectories:
    """What :func:`~compressai_plf.eval.critic_clips.render_clips` drew for each clip.

    Attributes:
        digits: uint8 ``(D, 28, 28)`` MNIST digits the clips were drawn from.
        labels: ``(D,)`` their classes.
        clip_digits: ``(N,)`` index into ``digits`` of each clip's digit.
        paths: int64 ``(N, T, 2)`` top-left corner of the digit in every frame.
        image_size, digit_size: Moving MNIST geometry.
    """

    digits: np.ndarray
    labels: np.ndarray
    clip_digits: Tensor
    paths: Tensor
    image_size: int = 64
    digit_size: int = 32

    def __post_init__(self) -> None:
        n = self.paths.shape[0]
        if self.paths.dim() != 3 or self.paths.shape[2] != 2 or self.clip_digits.shape != (n,):
            raise ValueError(
                f"need paths (N, T, 2) and clip_digits (N,), got {tuple(self.paths.shape)}, "
                f"{tuple(self.clip_digits.shape)}"
            )

    def __len__(self) -> int:
        return int(self.paths.shape[0])

    def _patch(self, index: int) -> Tensor:
        return resize_digit(self.digits[index], self.digit_size)

    def render(self, clips: Tensor, frame_digits: Tensor) -> Tensor:
        """Clips ``clips`` (indices) along their own paths, frame ``t`` of row ``r`` showing
        digit ``frame_digits[r, t]``: ``(len(clips), T, 1, H, W)`` in [0, 1]."""
        t = self.paths.shape[1]
        out = torch.empty(len(clips), t, 1, self.image_size, self.image_size)
        for r, c in enumerate(clips.tolist()):
            path = self.paths[c]
            patches = {d: self._patch(d) for d in frame_digits[r].unique().tolist()}
            for j in range(t):
                frame = render_clip(
                    [patches[int(frame_digits[r, j])]], [path[j : j + 1]], self.image_size
                )
                out[r, j, 0] = frame[0]
        return out

    def swap(self, clips: Tensor, generator: torch.Generator) -> Tensor:
        """Identity-swap fakes of ``clips`` (indices): from a frame ``k ~ U{1..T-1}`` on, a
        random digit of another class, on the same trajectory."""
        t = self.paths.shape[1]
        if t < 2:
            raise ValueError("identity swaps need clips of at least 2 frames")
        labels = torch.as_tensor(np.asarray(self.labels)).long()
        if labels.unique().numel() < 2:
            raise ValueError("identity swaps need digits of at least two classes")
        own = self.clip_digits[clips]
        frame_digits = own.view(-1, 1).repeat(1, t)
        for r, d in enumerate(own.tolist()):
            other = int(torch.randint(0, len(labels), (1,), generator=generator))
            while labels[other] == labels[d]:
                other = int(torch.randint(0, len(labels), (1,), generator=generator))
            k = int(torch.randint(1, t, (1,), generator=generator))
            frame_digits[r, k:] = other
        return self.render(clips, frame_digits)
