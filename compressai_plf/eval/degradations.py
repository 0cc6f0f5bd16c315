"""Reference reconstructions for training the evaluation critics: seeded degradations of real
clips.

An evaluation critic (see :mod:`compressai_plf.eval.eval_critic`) is trained once to tell real
Moving MNIST clips from these degraded versions, then frozen. The degradations cover the ways
the decoders of the PLF study (https://arxiv.org/abs/2305.19301) differ: per-frame realism
(blur and ghosting, as in MMSE reconstructions at low rate; noise) and temporal consistency
(frozen frames, shuffled frames, another clip's frames from a random frame on) and, as
``"identity"``, the same trajectory with another digit from a random frame on
(:mod:`compressai_plf.eval.identity_swap`: the identity change PLF-FMD allows and PLF-JD
forbids; it needs the clips' trajectories, passed to :func:`degrade` as ``identity_swap``).

All functions take clips ``(N, T, C, H, W)`` in [0, 1] and return a new tensor of the same
shape; every random choice comes from the given ``torch.Generator``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "DEGRADATIONS",
    "FRAME_DEGRADATIONS",
    "IDENTITY",
    "REFERENCE_NAMES",
    "degrade",
    "parse_reference",
]


def _uniform(n: int, lo: float, hi: float, g: torch.Generator) -> Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=g)


def _later_start(n: int, t: int, g: torch.Generator) -> Tensor:
    """First affected frame of each clip, uniform on ``1..T-1`` (frame 0 stays intact)."""
    return torch.randint(1, t, (n,), generator=g)


def blur(x: Tensor, g: torch.Generator) -> Tensor:
    """Gaussian blur of every frame, sigma ~ U(0.6, 2.0) pixels per clip."""
    n, t, c, h, w = x.shape
    out = torch.empty_like(x)
    for i, sigma in enumerate(_uniform(n, 0.6, 2.0, g).tolist()):
        radius = math.ceil(3 * sigma)
        k = torch.arange(-radius, radius + 1, dtype=x.dtype)
        k = torch.exp(-0.5 * (k / sigma) ** 2)
        k = k / k.sum()
        frames = x[i].reshape(t * c, 1, h, w)
        frames = F.conv2d(
            F.pad(frames, (radius, radius, 0, 0), mode="replicate"), k.view(1, 1, 1, -1)
        )
        frames = F.conv2d(
            F.pad(frames, (0, 0, radius, radius), mode="replicate"), k.view(1, 1, -1, 1)
        )
        out[i] = frames.view(t, c, h, w)
    return out


def noise(x: Tensor, g: torch.Generator) -> Tensor:
    """Additive white Gaussian noise, std ~ U(0.02, 0.2) per clip, clipped to [0, 1]."""
    std = _uniform(x.shape[0], 0.02, 0.2, g).view(-1, 1, 1, 1, 1)
    return (x + std * torch.randn(x.shape, generator=g, dtype=x.dtype)).clamp(0, 1)


def ghost(x: Tensor, g: torch.Generator) -> Tensor:
    """Each P-frame blended with its predecessor, ``(1 - a) x_t + a x_{t-1}``, a ~ U(0.2, 0.6)
    (the double contours of a prediction averaged over uncertain motion)."""
    a = _uniform(x.shape[0], 0.2, 0.6, g).view(-1, 1, 1, 1, 1)
    out = x.clone()
    out[:, 1:] = (1 - a) * x[:, 1:] + a * x[:, :-1]
    return out


def freeze(x: Tensor, g: torch.Generator) -> Tensor:
    """From a random P-frame ``k`` on, repeat frame ``k - 1`` (realistic frames, no motion)."""
    out = x.clone()
    for i, k in enumerate(_later_start(x.shape[0], x.shape[1], g).tolist()):
        out[i, k:] = x[i, k - 1]
    return out


def shuffle(x: Tensor, g: torch.Generator) -> Tensor:
    """A random non-identity permutation of the frames (realistic frames, broken motion)."""
    n, t = x.shape[:2]
    out = x.clone()
    for i in range(n):
        perm = torch.randperm(t, generator=g)
        while t > 1 and bool((perm == torch.arange(t)).all()):
            perm = torch.randperm(t, generator=g)
        out[i] = x[i, perm]
    return out


def swap(x: Tensor, g: torch.Generator) -> Tensor:
    """From a random P-frame ``k`` on, show the frames of another clip of the batch (another
    digit at another place): realistic frames, broken identity and motion."""
    n = x.shape[0]
    if n < 2:
        raise ValueError("swap needs a batch of at least 2 clips")
    other = (torch.arange(n) + torch.randint(1, n, (n,), generator=g)) % n
    out = x.clone()
    for i, k in enumerate(_later_start(n, x.shape[1], g).tolist()):
        out[i, k:] = x[other[i], k:]
    return out


#: Degradations by name.
DEGRADATIONS: dict[str, Callable[[Tensor, torch.Generator], Tensor]] = {
    "blur": blur,
    "noise": noise,
    "ghost": ghost,
    "freeze": freeze,
    "shuffle": shuffle,
    "swap": swap,
}

#: Degradations that change single frames. The others only reorder, repeat or exchange real
#: frames, so every frame they produce is a real frame: a framewise (FMD) critic cannot tell
#: them from real clips and is not trained against them.
FRAME_DEGRADATIONS = ("blur", "noise", "ghost")

#: The identity swap along the same trajectory (rendered from the clips' digits and walks,
#: not computed from the frames).
IDENTITY = "identity"

#: Every name a reference set may hold.
REFERENCE_NAMES = (*DEGRADATIONS, IDENTITY)

#: ``identity_swap(rows, generator)``: identity-swap fakes of rows ``rows`` of the batch.
IdentitySwap = Callable[[Tensor, torch.Generator], Tensor]


def parse_reference(reference: str | Sequence[str] | None) -> tuple[str, ...]:
    """Degradation names from a comma-separated string or a list (``None``: all of
    :data:`REFERENCE_NAMES`)."""
    if reference is None:
        return REFERENCE_NAMES
    names = reference.split(",") if isinstance(reference, str) else list(reference)
    names = [n.strip() for n in names if n.strip()]
    unknown = [n for n in names if n not in REFERENCE_NAMES]
    if unknown or not names:
        raise ValueError(
            f"unknown reference degradation(s) {unknown or names}; choose from {REFERENCE_NAMES}"
        )
    return tuple(dict.fromkeys(names))


def degrade(
    x: Tensor,
    names: Sequence[str],
    generator: torch.Generator,
    identity_swap: IdentitySwap | None = None,
    weights: Mapping[str, float] | None = None,
    return_choice: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Apply one degradation, drawn from ``names``, to each clip of ``x``.

    Args:
        x: clips ``(N, T, C, H, W)`` in [0, 1], ``T >= 2``.
        names: names from :data:`REFERENCE_NAMES`.
        generator: source of every random choice.
        identity_swap: renders the ``"identity"`` fakes of given rows of ``x`` (e.g.
            ``ClipTrajectories.swap`` of the batch's clip indices); required when
            ``"identity"`` is in ``names``.
        weights: relative probability of each name (default 1 each).
        return_choice: also return which degradation each clip got.

    Returns:
        The degraded clips, same shape (``swap`` draws its replacement clips from ``x``);
        with ``return_choice``, ``(clips, choice)``: ``choice[i]`` indexes the parsed
        ``names`` for clip ``i``.

    Raises:
        ValueError: bad clips, names or weights, or ``"identity"`` without ``identity_swap``.
    """
    if not isinstance(x, Tensor) or x.dim() != 5 or x.shape[1] < 2:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"degrade expects clips (N, T >= 2, C, H, W), got {shape}")
    names = parse_reference(names)
    if IDENTITY in names and identity_swap is None:
        raise ValueError(
            "the 'identity' reference needs the clips' trajectories (identity_swap); "
            "render the clips with compressai_plf.eval.critic_clips.draw_trajectories"
        )
    w = torch.tensor([float((weights or {}).get(n, 1.0)) for n in names], dtype=torch.float64)
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError(
            f"weights must be >= 0 with a positive sum, got {dict(zip(names, w.tolist(), strict=True))}"
        )
    choice = torch.multinomial(w, x.shape[0], replacement=True, generator=generator)
    out = torch.empty_like(x)
    for k, name in enumerate(names):
        idx = (choice == k).nonzero().flatten()
        if idx.numel() == 0:
            continue
        if name == IDENTITY:
            out[idx] = identity_swap(idx, generator).to(x)
        elif name == "swap":  # needs other clips: draw them from the whole batch
            out[idx] = DEGRADATIONS[name](x, generator)[idx]
        else:
            out[idx] = DEGRADATIONS[name](x[idx], generator)
    return (out, choice) if return_choice else out
