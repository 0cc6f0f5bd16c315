r"""Moving MNIST as used by the PLF paper: one bouncing digit on a 64x64 canvas, generated on the fly.

Moving MNIST: N. Srivastava, E. Mansimov, R. Salakhutdinov, "Unsupervised Learning of Video
Representations using LSTMs", ICML 2015, https://arxiv.org/abs/1502.04681.
Variant of S. Salehkalaibar, B. Phan, J. Chen, W. Yu, A. Khisti, "On the Choice of Perception
Loss Function for Learned Video Compression", NeurIPS 2023, https://arxiv.org/abs/2305.19301:
each digit is resized to 32x32, starts at a uniformly random position and, before every new
frame, draws a fresh velocity in {-4..4} pixels per axis; it bounces off the borders, and
overlapping digits are summed and clipped to 1.
"""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.nn.functional as F
from compressai.registry import register_dataset
from torch import Tensor
from torch.utils.data import Dataset

from .data_root import resolve_root
from .eval_split import EvalSplit, eval_dataset
from .mnist_idx import load_mnist

__all__ = [
    "MovingMNIST",
    "bouncing_walk",
    "clip_generator",
    "place_digits",
    "reflect",
    "render_clip",
    "resize_digit",
    "resize_digits",
]


def reflect(pos: Tensor, limit: int) -> Tensor:
    """Fold positions into ``[0, limit]`` by mirror reflection at both borders (a bounce).

    A position ``limit + d`` becomes ``limit - d`` and ``-d`` becomes ``d``.
    """
    if limit <= 0:
        return torch.zeros_like(pos)
    period = 2 * limit
    p = torch.remainder(pos, period)
    return torch.where(p > limit, period - p, p)


def bouncing_walk(
    frames: int, limit: int, max_speed: int = 4, generator: torch.Generator | None = None
) -> Tensor:
    """Random bouncing walk of a 2-D top-left corner.

    The start is uniform on ``{0..limit}^2``; before each later frame a velocity is drawn
    uniformly from ``{-max_speed..max_speed}`` per axis and the new position is reflected
    into ``[0, limit]``.

    Args:
        frames: number of positions.
        limit: largest allowed coordinate (canvas size minus digit size).
        max_speed: largest absolute velocity per axis, in pixels per frame.
        generator: random generator (default: torch's global one).

    Returns:
        ``(frames, 2)`` int64 tensor of ``(row, col)`` positions.
    """
    start = torch.randint(0, limit + 1, (1, 2), generator=generator)
    vel = torch.randint(-max_speed, max_speed + 1, (frames - 1, 2), generator=generator)
    pos = [start]
    for v in vel:
        pos.append(reflect(pos[-1] + v, limit))
    return torch.cat(pos)


def clip_generator(seed: int, index: int) -> torch.Generator:
    """The generator of fixed clip ``index`` of a set seeded by ``seed``: ``SeedSequence``
    mixes ``(seed, index)`` into a well-spread 64-bit seed, so a clip does not depend on the
    loading order or on the other clips."""
    state = np.random.SeedSequence([seed, index]).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def resize_digits(digits: np.ndarray | Tensor, size: int) -> Tensor:
    """Bilinearly resize ``(B, 28, 28)`` digits (uint8 0..255, or float in [0, 1]) to float
    ``(B, size, size)`` patches in [0, 1]."""
    x = digits if isinstance(digits, Tensor) else torch.from_numpy(np.array(digits))
    if x.dim() != 3:
        raise ValueError(f"digits must be (B, H, W), got shape {tuple(x.shape)}")
    d = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
    d = F.interpolate(d[:, None], size=(size, size), mode="bilinear", align_corners=False)
    return d[:, 0].clamp_(0.0, 1.0)


def resize_digit(digit: np.ndarray | Tensor, size: int) -> Tensor:
    """Bilinearly resize a uint8 ``(28, 28)`` digit to a float ``(size, size)`` patch in [0, 1]."""
    x = digit if isinstance(digit, Tensor) else torch.from_numpy(np.array(digit))
    return resize_digits(x[None], size)[0]


def render_clip(patches: list[Tensor], paths: list[Tensor], image_size: int) -> Tensor:
    """Paste each patch at its positions, sum overlapping digits and clip to 1.

    Args:
        patches: square ``(s, s)`` patches, one per digit.
        paths: ``(T, 2)`` top-left ``(row, col)`` positions, one per digit.
        image_size: canvas side.

    Returns:
        ``(T, image_size, image_size)`` float tensor in [0, 1].
    """
    frames = paths[0].shape[0]
    canvas = torch.zeros(frames, image_size, image_size)
    for patch, path in zip(patches, paths, strict=True):
        s = patch.shape[-1]
        for t, (r, c) in enumerate(path.tolist()):
            canvas[t, r : r + s, c : c + s] += patch
    return canvas.clamp_(max=1.0)


def place_digits(
    digits: np.ndarray | Tensor,
    frame_size: int = 64,
    digit_size: int = 32,
    generator: torch.Generator | None = None,
    positions: Tensor | None = None,
) -> Tensor:
    """Single Moving MNIST frames: each digit resized and pasted at a uniformly random position
    in which it fits entirely (the frame marginal of every clip), rendered by
    :func:`render_clip`.

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
    if not 0 < digit_size <= frame_size:
        raise ValueError(f"need 0 < digit_size <= frame_size, got {digit_size}, {frame_size}")
    patches = resize_digits(digits, digit_size)
    b = patches.shape[0]
    span = frame_size - digit_size + 1
    if positions is None:
        pos = torch.randint(0, span, (b, 2), generator=generator)
    else:
        pos = torch.as_tensor(positions).long()
        if pos.shape != (b, 2) or pos.min() < 0 or pos.max() >= span:
            raise ValueError(f"positions must be (B, 2) in 0..{span - 1}, got {tuple(pos.shape)}")
    frames = [render_clip([patches[i]], [pos[i : i + 1]], frame_size) for i in range(b)]
    return torch.stack(frames) if frames else patches.new_zeros(0, 1, frame_size, frame_size)


@eval_dataset("mmnist")
@register_dataset("MovingMNIST")
class MovingMNIST(Dataset):
    r"""Moving MNIST clips of the PLF paper, generated on the fly.

    Paper: S. Salehkalaibar et al., "On the Choice of Perception Loss Function for Learned
    Video Compression", NeurIPS 2023, https://arxiv.org/abs/2305.19301 (data generation of the
    authors' code); Moving MNIST: Srivastava et al., https://arxiv.org/abs/1502.04681.

    ``split="train"`` uses the 60000 MNIST training digits: item ``i`` shows training digit
    ``i`` (plus ``num_digits - 1`` random training digits) on a fresh random trajectory drawn
    from torch's global generator, so every epoch sees new motion. ``split="test"`` uses only
    the 10000 MNIST ``t10k`` digits, never seen in training: clip ``k`` shows test digit
    ``k mod 10000`` and everything random in it comes from a generator seeded by
    ``(seed, k)``, so the test set is fixed and independent of loading order or workers.

    Items are a tuple of ``frames`` tensors ``(channels, image_size, image_size)`` in [0, 1]
    (CompressAI's ``VideoFolder`` convention); with ``return_labels=True`` an item is
    ``(frames_tuple, labels)`` with ``labels`` an int64 tensor ``(num_digits,)``.

    Reads MNIST idx files from ``root`` (``root/MNIST/raw/*-ubyte`` as torchvision stores them,
    or plain/gzipped idx files in ``root``); with ``root=None`` uses ``$PLF_DATA_ROOT/mnist``.

    Args:
        root: folder with the MNIST idx files.
        split: ``"train"`` or ``"test"``.
        frames: clip length.
        num_digits: digits per clip.
        image_size: canvas side (64 in the paper).
        digit_size: side of the resized digit (32 in the paper).
        max_speed: largest absolute velocity per axis in pixels per frame (4 in the paper).
        channels: 1, or 3 to repeat the gray frame on three channels.
        test_size: number of test clips.
        seed: seed of the test set.
        train_size: items per training epoch (default: one per training digit).
        return_labels: also return the digit labels.
        download: download MNIST with torchvision when the files are missing.
    """

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        split: str = "train",
        frames: int = 3,
        num_digits: int = 1,
        image_size: int = 64,
        digit_size: int = 32,
        max_speed: int = 4,
        channels: int = 1,
        test_size: int = 10000,
        seed: int = 0,
        train_size: int | None = None,
        return_labels: bool = False,
        download: bool = False,
    ):
        if split not in ("train", "test"):
            raise ValueError(f"unknown split {split!r}: expected 'train' or 'test'")
        for name, value, low in (
            ("frames", frames, 1),
            ("num_digits", num_digits, 1),
            ("digit_size", digit_size, 1),
            ("max_speed", max_speed, 0),
            ("test_size", test_size, 1),
        ):
            if not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if not isinstance(image_size, int) or image_size < digit_size:
            raise ValueError(
                f"image_size must be an integer >= digit_size ({digit_size}), got {image_size!r}"
            )
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels!r}")
        if train_size is not None and (not isinstance(train_size, int) or train_size < 1):
            raise ValueError(f"train_size must be a positive integer or None, got {train_size!r}")

        self.root = resolve_root(root, "mnist")
        self.split = split
        self.frames = frames
        self.num_digits = num_digits
        self.image_size = image_size
        self.digit_size = digit_size
        self.max_speed = max_speed
        self.channels = channels
        self.seed = seed
        self.return_labels = return_labels
        self.digits, self.labels = load_mnist(self.root, train=split == "train", download=download)
        if split == "train":
            self.length = train_size if train_size is not None else len(self.digits)
        else:
            self.length = test_size

    def __len__(self) -> int:
        return self.length

    def _generator(self, index: int) -> torch.Generator | None:
        if self.split == "train":
            return None
        return clip_generator(self.seed, index)

    def sample(self, index: int) -> tuple[Tensor, Tensor, Tensor]:
        """Build clip ``index`` and return ``(clip (T, H, W), labels (D,), paths (D, T, 2))``."""
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} clips")
        g = self._generator(index)
        n = len(self.digits)
        others = torch.randint(0, n, (self.num_digits - 1,), generator=g).tolist()
        ids = [index % n, *others]
        limit = self.image_size - self.digit_size
        paths = [bouncing_walk(self.frames, limit, self.max_speed, g) for _ in ids]
        patches = [resize_digit(self.digits[i], self.digit_size) for i in ids]
        clip = render_clip(patches, paths, self.image_size)
        labels = torch.as_tensor(self.labels[ids].astype(np.int64))
        return clip, labels, torch.stack(paths)

    def __getitem__(self, index: int):
        clip, labels, _ = self.sample(index)
        frames = tuple(f.unsqueeze(0).expand(self.channels, -1, -1).clone() for f in clip)
        return (frames, labels) if self.return_labels else frames

    @classmethod
    def eval_split(
        cls,
        root: str | os.PathLike | None,
        frames: int | None,
        max_clips: int | None,
        fps: float | None,
        **kwargs,
    ) -> EvalSplit:
        """Evaluation clips (``--dataset mmnist``): the fixed test set (MNIST t10k digits),
        named ``mmnist-00042``, 3 frames by default, at a nominal 30 Hz (Moving MNIST has no
        frame rate: bits per pixel and per frame are its meaningful units). Only the first
        ``max_clips`` clips are built."""
        n = kwargs.pop("test_size", 10000)
        n = min(n, max_clips) if max_clips else n
        items = cls(
            root=root, split="test", frames=frames or 3, return_labels=True, test_size=n, **kwargs
        )
        names = [f"mmnist-{k:05d}" for k in range(len(items))]
        desc = f"Moving MNIST test clips (MNIST t10k digits, seed {items.seed})"
        return EvalSplit(items, names, [fps or 30.0] * len(names), desc, labelled=True)
