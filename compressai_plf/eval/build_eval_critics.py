"""Train the frozen evaluation critics once and save them.

Usage::

    python -m compressai_plf.eval.build_eval_critics --data-root MNIST_ROOT --out FILE
        [--dataset mmnist|natural]
        [--reference blur,noise,ghost,freeze,shuffle,swap,identity] [--plf jd,fmd,sa] [--frames 3]
        [--steps 500] [--identity-weight 6] [--batch-size 16] [--lr 1e-3] [--widths 32,64,128,256]
        [--clips 4000] [--val-clips 500] [--seed 0] [--threads N] [--download]
        [--margin-cap C] [--json FILE]

One :class:`~compressai_plf.modules.PLFCritic` per PLF (``dcgan`` architecture, 1 channel,
64x64, ``--frames`` frames) is trained with WGAN-GP (Gulrajani et al.,
https://arxiv.org/abs/1704.00028; the losses of
:meth:`compressai_plf.losses.PLFLoss.critic_loss`) to separate held-out real Moving MNIST clips
(:mod:`compressai_plf.eval.critic_clips`: 4000 of the MNIST training digits 55000..59999) from
a reference set of degraded versions of the same clips (:mod:`compressai_plf.eval.degradations`).
The FMD critic is trained only against the degradations that change single frames. The critics
are then validated on clips of the other 1000 reserved digits (W1 estimate per degradation)
and saved with that metadata; the file loads with ``weights_only=True``.

``--dataset natural`` builds RGB critics for natural video instead: real clips are 64x64
crops of a natural training folder (``--data-root``, written by ``python -m
compressai_plf.datasets.natural_septuplets``; :mod:`compressai_plf.eval.natural_critic_clips`),
validated on its held-out septuplets; the reference set has no ``identity`` (a Moving MNIST
digit swap) and the file is marked ``patches``: it measures YUV clips of any size at least
64x64, patch by patch.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from tqdm import tqdm

from ..losses.plf import PLFLoss, critic_score
from ..plfs import get_plf, plf_names
from ..results import write_json
from .critic_clips import (
    RESERVED_DIGITS,
    VALIDATION_DIGITS,
    draw_trajectories,
    load_reserved_digits,
    split_reserved,
)
from .degradations import (
    FRAME_DEGRADATIONS,
    IDENTITY,
    REFERENCE_NAMES,
    IdentitySwap,
    degrade,
    parse_reference,
)
from .eval_critic import EvalCritics
from .identity_swap import ClipTrajectories
from .natural_critic_clips import natural_critic_clips

__all__ = [
    "critic_loss_by_kind",
    "critic_references",
    "main",
    "train_eval_critics",
    "validate_eval_critics",
]

#: Real data the critics can be built on.
CRITIC_DATA = ("mmnist", "natural")
#: Crop size of the natural-video critics.
NATURAL_CROP = 64

DEFAULT_WIDTHS = (32, 64, 128, 256)
#: Relative probability of the identity swap among the fakes (each other degradation: 1).
#: Identity is the hardest difference to learn (both sides are real frames with real
#: motion), so the critics see it more often.
IDENTITY_WEIGHT = 6.0
#: Default margin cap of the natural-video critics (``--margin-cap``). With one loss over the
#: mixture of fakes, natural critics learnt "more high-frequency energy is fake" from noise
#: (W1 10) and rated blurred clips *more* real than real ones (W1 -0.5 JD, -1.1 FMD, 500 steps;
#: docs/eval_command.md); a capped margin per kind of fake stops paying for noise at the cap.
NATURAL_MARGIN_CAP = 1.0


def critic_references(plf: str, reference: Sequence[str]) -> tuple[str, ...]:
    """Degradations the ``plf`` critic is trained against: FMD sees single frames, so it only
    gets the ones that change frames (the others produce real frames)."""
    names = parse_reference(reference)
    if get_plf(plf).stacked_frames(1) == 1:  # a critic of single frames (FMD)
        names = tuple(n for n in names if n in FRAME_DEGRADATIONS)
        if not names:
            raise ValueError(
                f"the FMD critic needs at least one per-frame degradation {FRAME_DEGRADATIONS} "
                "in the reference set"
            )
    return names


def _parse_plfs(plfs: str | Sequence[str] | None) -> tuple[str, ...]:
    if plfs is None:
        return plf_names()
    names = plfs.split(",") if isinstance(plfs, str) else list(plfs)
    names = [n.strip().lower() for n in names if n.strip()]
    bad = [n for n in names if n not in plf_names()]
    if bad or not names:
        raise ValueError(f"unknown PLF(s) {bad or names}; choose from {plf_names()}")
    return tuple(dict.fromkeys(names))


def train_eval_critics(
    clips: Tensor,
    reference: str | Sequence[str] | None = None,
    plfs: str | Sequence[str] | None = None,
    steps: int = 300,
    batch_size: int = 16,
    lr: float = 1e-3,
    widths: Sequence[int] = DEFAULT_WIDTHS,
    gp_weight: float = 10.0,
    seed: int = 0,
    progress: bool = True,
    trajectories: ClipTrajectories | None = None,
    identity_weight: float = IDENTITY_WEIGHT,
    margin_cap: float | None = None,
) -> tuple[EvalCritics, dict[str, Any]]:
    """Train one critic per PLF on real ``clips`` against their degraded versions.

    Args:
        clips: real clips ``(N, T, C, H, W)`` in [0, 1] (``N >= 2``, ``T >= 2``).
        reference: degradation names (default: all of :data:`REFERENCE_NAMES`, without
            ``"identity"`` when no ``trajectories`` are given).
        plfs: PLFs to build critics for (default: every registered PLF).
        steps: optimiser steps (each trains every critic on one batch).
        batch_size: clips per step.
        lr: Adam learning rate (betas 0.5, 0.9 as in WGAN-GP).
        widths: DCGAN critic widths.
        gp_weight: WGAN-GP weight.
        seed: seed of batches, degradations, interpolates and initial weights.
        progress: show a progress bar.
        trajectories: the digits and walks ``clips`` were rendered from
            (:func:`~compressai_plf.eval.critic_clips.draw_trajectories`), for the
            ``"identity"`` fakes.
        identity_weight: relative probability of ``"identity"`` among a critic's fakes.
        margin_cap: ``None``: one WGAN-GP loss over the batch's mixture of fakes. A value:
            one loss per kind of fake in the batch (weighted by its share of the batch), each
            margin counted up to ``margin_cap`` (``PLFLoss.critic_loss``), so that the critic
            keeps learning the kinds it does not separate yet.

    Returns:
        ``(critics, log)``: the frozen critics and the last step's W1 estimates per PLF.
    """
    if not isinstance(clips, Tensor) or clips.dim() != 5 or clips.shape[1] < 2:
        raise ValueError("clips must be a (N, T >= 2, C, H, W) tensor")
    n, t, c, h, w = clips.shape
    if n < 2:
        raise ValueError("need at least 2 real clips")
    if steps < 1 or batch_size < 2:
        raise ValueError(f"need steps >= 1 and batch_size >= 2, got {steps}, {batch_size}")
    if margin_cap is not None and not margin_cap > 0:  # NaN included
        raise ValueError(f"margin_cap must be positive (or None: no cap), got {margin_cap}")
    plfs = _parse_plfs(plfs)
    names = parse_reference(reference)
    if reference is None and trajectories is None:  # identity swaps need the trajectories
        names = tuple(n for n in names if n != IDENTITY)
    refs = {p: critic_references(p, names) for p in plfs}
    if trajectories is not None and len(trajectories) != n:
        raise ValueError(f"{len(trajectories)} trajectories for {n} clips")
    weights = {IDENTITY: identity_weight}
    torch.manual_seed(seed)  # initial weights and the WGAN-GP interpolates
    gen = torch.Generator().manual_seed(seed)
    base = {"num_frames": t, "channels": c, "image_size": [h, w], "arch": "dcgan"}
    configs = {p: {**base, "widths": list(widths), "spectral_layers": 3} for p in plfs}
    critics = EvalCritics(configs)
    modules = critics.critics
    for m in modules.values():
        m.train().requires_grad_(True)
    params = [q for m in modules.values() for q in m.parameters()]
    opt = torch.optim.Adam(params, lr=lr, betas=(0.5, 0.9))
    losses = {p: PLFLoss(plf={p: 0.0}, gp_weight=gp_weight) for p in plfs}
    log: dict[str, Any] = {}
    bar = tqdm(range(steps), desc="eval critics", disable=not progress, file=sys.stderr)
    for _ in bar:
        idx = torch.randint(0, n, (batch_size,), generator=gen)
        real = clips[idx]
        total = 0.0
        for p in plfs:
            fake, choice = degrade(
                real, refs[p], gen, _swapper(trajectories, idx), weights, return_choice=True
            )
            loss, w1 = critic_loss_by_kind(
                losses[p],
                p,
                modules[p],
                real,
                fake,
                None if margin_cap is None else choice,
                margin_cap,
            )
            total = total + loss
            log[f"{p}_w1"] = w1
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        bar.set_postfix({k: f"{v:.3f}" for k, v in log.items()})
    critics.freeze()
    critics.meta.update({"reference": {p: list(r) for p, r in refs.items()}})
    return critics, log


def critic_loss_by_kind(
    loss: PLFLoss,
    plf: str,
    critic: nn.Module,
    real: Tensor,
    fake: Tensor,
    kinds: Tensor | None = None,
    margin_cap: float | None = None,
) -> tuple[Tensor, float]:
    """The ``plf`` critic's training loss on real clips and their degraded versions, and its
    W1 estimate on the batch.

    ``kinds`` ``None``: one WGAN-GP loss over the batch. Else ``kinds[i]`` names the kind of
    fake of clip ``i`` (``degrade(..., return_choice=True)``): one loss per kind, weighted by
    its share of the batch, each with its score margin counted up to ``margin_cap``
    (``PLFLoss.critic_loss``). The W1 estimate is the share-weighted mean of the kinds'
    uncapped margins, i.e. the batch's.
    """
    if kinds is None:
        groups = [(slice(None), 1.0)]
    else:
        groups = [(kinds == k, int((kinds == k).sum()) / len(kinds)) for k in kinds.unique()]
    total, w1 = 0.0, 0.0
    for rows, share in groups:
        out = loss.critic_loss(
            list(fake[rows].unbind(1)),
            list(real[rows].unbind(1)),
            {plf: critic},
            margin_cap=margin_cap,
        )
        total = total + share * out["loss"]
        w1 += share * float(out[f"{plf}_w1"])
    return total, w1


def _swapper(trajectories: ClipTrajectories | None, clips: Tensor) -> IdentitySwap | None:
    """Identity-swap fakes of batch rows, for a batch of clip indices ``clips``."""
    if trajectories is None:
        return None
    return lambda rows, g: trajectories.swap(clips[rows], g)


@torch.no_grad()
def _real_scores(critics: EvalCritics, plf: str, clips: Tensor) -> Tensor:
    """Critic score of each real clip (its JD/FMD/SA real stacks), averaged over the frames
    the critic measures."""
    frames = list(clips.unbind(1))
    critic = critics.critics[plf]
    vals = [
        critic_score(critic, get_plf(plf).critic_inputs(frames, frames, j)[0], j)
        for j in critic.frames
        if j < len(frames)
    ]
    return torch.stack(vals, 1).mean(1).double()


def _se(x: Tensor) -> float:
    return float(x.std() / x.numel() ** 0.5) if x.numel() > 1 else 0.0


def validate_eval_critics(
    critics: EvalCritics,
    clips: Tensor,
    reference: str | Sequence[str] | None = None,
    seed: int = 1,
    train_clips: Tensor | None = None,
    trajectories: ClipTrajectories | None = None,
) -> dict[str, Any]:
    """W1 estimates of frozen critics on held-out clips against each degradation
    (``"identity"`` needs the clips' ``trajectories``; without them it is skipped).

    Returns, per PLF: ``{degradation: {"w1": mean, "se": standard error over clips}}`` and,
    when ``train_clips`` is given, ``"generalisation_gap"`` (same fields): mean score of
    training reals minus mean score of held-out reals (near 0, within a few standard errors,
    when the critic did not memorise its clips).
    """
    names = parse_reference(reference)
    if trajectories is None:
        names = tuple(n for n in names if n != IDENTITY)
    swapper = _swapper(trajectories, torch.arange(clips.shape[0]))
    out: dict[str, Any] = {}
    for plf in critics.plfs:
        table: dict[str, Any] = {}
        for name in names:
            gen = torch.Generator().manual_seed(seed)
            fake = degrade(clips, [name], gen, swapper)
            per_clip = critics.w1_per_frame(plf, clips, fake, reduction="none")
            per_clip = per_clip.nanmean(1)  # the frames this critic measures (others NaN)
            table[name] = {"w1": float(per_clip.mean()), "se": _se(per_clip)}
        if train_clips is not None:
            seen, unseen = (
                _real_scores(critics, plf, train_clips),
                _real_scores(critics, plf, clips),
            )
            table["generalisation_gap"] = {
                "w1": float(seen.mean() - unseen.mean()),
                "se": (_se(seen) ** 2 + _se(unseen) ** 2) ** 0.5,
            }
        out[plf] = table
    return out


def _own_digits(traj: ClipTrajectories) -> Tensor:
    """Every frame of every clip shows the clip's own digit (the real clips)."""
    return traj.clip_digits.view(-1, 1).repeat(1, traj.paths.shape[1])


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m compressai_plf.eval.build_eval_critics",
        description="Train frozen JD/FMD/SA evaluation critics on held-out Moving MNIST clips "
        "or natural RGB video crops.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--data-root",
        required=True,
        help="MNIST root (holding MNIST/raw), or the natural training folder (--dataset natural)",
    )
    p.add_argument("--dataset", choices=CRITIC_DATA, default="mmnist", help="real data")
    p.add_argument("--out", required=True, help="output file (.pt)")
    p.add_argument(
        "--reference",
        default=None,
        help=f"comma-separated degradations from {REFERENCE_NAMES} (default: all; natural: "
        "all but identity)",
    )
    p.add_argument(
        "--identity-weight",
        type=float,
        default=IDENTITY_WEIGHT,
        help="relative probability of the identity swap among the fakes (others: 1 each)",
    )
    p.add_argument(
        "--margin-cap",
        type=float,
        default=None,
        help="one loss per kind of fake, each score margin counted up to this value; 0: one "
        f"loss over the mixture (when not given: 0 for mmnist, {NATURAL_MARGIN_CAP} for natural)",
    )
    p.add_argument("--plf", default=",".join(plf_names()), help="critics to build")
    p.add_argument("--frames", type=int, default=3, help="frames per clip (critics per P-frame)")
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--widths", default=",".join(map(str, DEFAULT_WIDTHS)), help="critic widths")
    p.add_argument("--clips", type=int, default=4000, help="real training clips")
    p.add_argument("--val-clips", type=int, default=500, help="held-out validation clips")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    p.add_argument("--download", action="store_true", help="download MNIST if missing")
    p.add_argument("--json", help="also write the build record (validation table) here")
    p.add_argument("--no-progress", action="store_true")
    return p


def _mmnist_clips(args: argparse.Namespace) -> tuple[Any, ...]:
    """Training and validation clips of the reserved MNIST digits, their trajectories and the
    record of where they come from."""
    digits, labels = load_reserved_digits(args.data_root, download=args.download)
    train_idx, val_idx = split_reserved(len(digits), VALIDATION_DIGITS, seed=args.seed)
    traj = draw_trajectories(
        digits[train_idx], labels[train_idx], args.clips, args.frames, args.seed
    )
    val_traj = draw_trajectories(
        digits[val_idx], labels[val_idx], args.val_clips, args.frames, args.seed + 1
    )
    clips, val = (t.render(torch.arange(len(t)), _own_digits(t)) for t in (traj, val_traj))
    lo, hi = RESERVED_DIGITS
    record = {
        "source": "MNIST training digits",
        "reserved_digits": [lo, hi],
        "validation_digits": VALIDATION_DIGITS,
        "split": f"split_reserved({hi - lo}, {VALIDATION_DIGITS}, seed={args.seed})",
    }
    return clips, val, traj, val_traj, record


def _natural_clips(args: argparse.Namespace) -> tuple[Any, ...]:
    """64x64 crops of the natural training folder's train and test septuplets."""
    clips = natural_critic_clips(
        args.data_root, "train", args.clips, args.frames, NATURAL_CROP, args.seed
    )
    val = natural_critic_clips(
        args.data_root, "test", args.val_clips, args.frames, NATURAL_CROP, args.seed + 1
    )
    record = {
        "source": f"{NATURAL_CROP}x{NATURAL_CROP} crops of natural RGB septuplets",
        "folder": str(args.data_root),
        "split": "train.list (training), test.list (validation)",
    }
    return clips, val, None, None, record


def main(argv: list[str] | None = None) -> EvalCritics:
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    natural = args.dataset == "natural"
    try:
        widths = tuple(int(w) for w in args.widths.split(","))
        default = [n for n in REFERENCE_NAMES if not (natural and n == IDENTITY)]
        reference = parse_reference(args.reference or default)
        if natural and IDENTITY in reference:
            raise ValueError("the identity swap needs Moving MNIST trajectories")
        cap = args.margin_cap
        if cap is None:
            cap = NATURAL_MARGIN_CAP if natural else 0.0
        if not cap >= 0:  # NaN included
            raise ValueError(f"--margin-cap must be >= 0 (0: no cap), got {cap}")
        clips, val, traj, val_traj, record = (_natural_clips if natural else _mmnist_clips)(args)
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f"error: {err}") from err
    start = time.time()
    critics, last = train_eval_critics(
        clips,
        reference,
        args.plf,
        args.steps,
        args.batch_size,
        args.lr,
        widths,
        seed=args.seed,
        progress=not args.no_progress,
        trajectories=traj,
        identity_weight=args.identity_weight,
        margin_cap=cap or None,
    )
    train_seconds = time.time() - start
    validation = validate_eval_critics(
        critics,
        val,
        reference,
        seed=args.seed + 2,
        train_clips=clips[: args.val_clips],
        trajectories=val_traj,
    )
    critics.meta.update(
        {
            "dataset": args.dataset,
            **({"patches": True} if natural else {}),
            "real_clips": {
                **record,
                "clips": args.clips,
                "val_clips": args.val_clips,
                "seed": args.seed,
            },
            "frames": args.frames,
            "steps": args.steps,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "optimizer": "Adam(betas=(0.5, 0.9))",
            "gp_weight": 10.0,
            "identity_weight": args.identity_weight,
            "margin_cap": cap or None,
            "seed": args.seed,
            "train_seconds": round(train_seconds, 1),
            "last_step_w1": last,
            "validation": validation,
        }
    )
    critics.save(args.out)
    if args.json:
        write_json(critics.meta, args.json)
    print(f"trained in {train_seconds:.0f} s, saved to {args.out}")
    for plf, table in validation.items():
        cells = ", ".join(f"{k} {v['w1']:.3f} ± {v['se']:.3f}" for k, v in table.items())
        print(f"  {plf}: W1 on held-out clips: {cells}")
    return critics


if __name__ == "__main__":
    main()
