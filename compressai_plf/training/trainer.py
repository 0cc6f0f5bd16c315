"""The training loop behind ``examples/train_video.py``.

Step-based (on-the-fly data has no natural epoch), with atomic periodic checkpoints, exact
resume, non-finite step skipping, a JSON-lines log, held-out evaluation and
``torch.distributed`` multi-process training.

Checkpoints keep CompressAI's ``examples/train_video.py`` layout (``epoch``, ``state_dict``,
``loss``, ``optimizer``, ``aux_optimizer``, ``lr_scheduler``) and add ``step``,
``stage_name``, ``trained_heads`` (the perceptual heads trained for the checkpoint's
bitstream, :func:`trained_heads`), ``bitstream_lmbda`` (the rate-distortion weight its
bitstream was trained with, :func:`bitstream_lmbda`), ``stage`` (critics and their optimiser),
``rng``, ``args``, ``best_loss`` and ``final``; ``checkpoint_best_loss.pth.tar`` is kept beside
the last one, as in CompressAI.
"""

from __future__ import annotations

import argparse
import inspect
import math
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
from compressai.registry import DATASETS, MODELS
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import default_collate
from tqdm import tqdm

from ..checkpoint import (
    load_checkpoint,
    remove_orphaned_tmp,
    save_atomic,
    state_dict_of,
    training_weights,
)
from ..models.fixed_rate_coder import FixedRateLatentCoder
from ..models.own_past_head import head_synthesis_starts
from ..results import json_ready
from .distributed import broadcast_parameters, init_from_env, is_distributed
from .jsonl_log import JsonlLog
from .rng_state import rng_state, set_rng_state
from .stages import make_stage
from .step_batches import StepBatches, _frames_of, seed_everything

CHECKPOINT_NAME = "checkpoint.pth.tar"
BEST_NAME = "checkpoint_best_loss.pth.tar"
LOG_NAME = "log.jsonl"
#: Stage state stored at the top level of a checkpoint, where CompressAI puts it.
TOP_LEVEL_STATE = ("optimizer", "aux_optimizer", "lr_scheduler")
#: What resume takes from the checkpoint's stored arguments: the model it holds.
MODEL_ARGS = ("model", "model_args", "channels")


class RunExistsError(FileExistsError):
    """The save folder already holds a run, and neither ``--resume`` nor ``--force`` was given."""


class HeadsForward(nn.Module):
    """``forward(frames, heads, iframe=None)`` -> ``model.forward_heads``: lets
    DistributedDataParallel wrap the multi-head pass (DDP only hooks ``forward``)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        frames: list[torch.Tensor],
        heads: tuple[str, ...],
        iframe: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        return self.model.forward_heads(frames, heads, iframe, **kwargs)


def build_model(args: Any) -> nn.Module:
    if args.model not in MODELS:
        raise ValueError(f"unknown model {args.model!r}; registered: {sorted(MODELS)}")
    return MODELS[args.model](**(args.model_args or {}))


def build_dataset(args: Any, split: str):
    if args.dataset not in DATASETS:
        raise ValueError(f"unknown dataset {args.dataset!r}; registered: {sorted(DATASETS)}")
    kwargs = dict(args.dataset_args or {})
    kwargs.setdefault("frames", args.frames)
    channels = getattr(args, "channels", None)
    if "channels" in inspect.signature(DATASETS[args.dataset]).parameters:
        if channels is not None:
            kwargs.setdefault("channels", channels)  # --channels reaches the data
    elif channels not in (None, 3):
        raise ValueError(
            f"--channels {channels}: dataset {args.dataset} gives RGB frames and has no "
            "channels option"
        )
    if args.dataset == "VideoClipFolder":
        from torchvision import transforms

        crop = transforms.RandomCrop if split == "train" else transforms.CenterCrop
        kwargs.setdefault(
            "transform", transforms.Compose([transforms.ToTensor(), crop(args.patch_size)])
        )
        kwargs.setdefault("rnd_interval", split == "train")
        kwargs.setdefault("rnd_temp_order", split == "train")
    split = kwargs.pop("split", split)  # e.g. {"split": "all"}: one set for both
    return DATASETS[args.dataset](root=args.data_root, split=split, **kwargs)


#: Stages that train the perceptual heads their ``plf`` option names.
HEAD_TRAINING_STAGES = ("plf", "universal")
#: Stages that keep the bitstream (the encoder side is frozen): heads an earlier stage trained
#: stay trained for it, so their checkpoints carry them on.
BITSTREAM_KEEPING_STAGES = ("iframe", "universal")


def heads_in_state(state: dict[str, Any]) -> set[str]:
    """Names of the decoder heads whose tensors a model state dict holds (``heads.<name>.``)."""
    return {k.split(".")[1] for k in state if k.startswith("heads.")}


def trained_heads(ckpt: dict[str, Any], state: dict[str, Any]) -> set[str]:
    """Perceptual heads of ``state`` that are trained for its bitstream: the checkpoint's
    ``trained_heads`` record where it has one (the heads its own stage trained, plus, in a
    stage that keeps the bitstream, those its ``--init`` source had trained); else those a
    ``plf`` or ``universal`` stage named; none for an ``mse`` stage (its perceptual heads are
    still at their random initialisation); every head present for a bare state dict."""
    present = heads_in_state(state)
    if "stage_name" not in ckpt:
        return present
    if "trained_heads" in ckpt:
        return present & set(ckpt["trained_heads"])
    if ckpt["stage_name"] in HEAD_TRAINING_STAGES:
        return present & set((ckpt.get("args") or {}).get("plf") or [])
    return set()


def heads_trained_after(stage: str, plf: Any, from_init: set[str]) -> list[str]:
    """The ``trained_heads`` record of a checkpoint of ``stage``: the heads it trains (``plf``
    in ``plf``/``universal`` stages) and, where the stage keeps the bitstream, the trained heads
    copied from its ``--init`` source (a stage that retrains the encoder side leaves those
    heads decoding a bitstream that no longer exists)."""
    own = set(plf or []) if stage in HEAD_TRAINING_STAGES else set()
    kept = from_init if stage in BITSTREAM_KEEPING_STAGES else set()
    return sorted(own | kept)


def bitstream_lmbda(stage: str, lmbda: float | None, from_init: float | None) -> float | None:
    """The ``bitstream_lmbda`` record of a checkpoint of ``stage``: the rate-distortion weight
    its bitstream was trained with, the ``--init`` source's record in a stage that keeps the
    bitstream, else the stage's own ``lmbda`` (``mse``, ``plf``, ``recon3d`` train the encoder
    side with it)."""
    return from_init if stage in BITSTREAM_KEEPING_STAGES else lmbda


def set_latent_pullback(model: nn.Module, strength: float) -> int:
    """Give every fixed-rate latent coder of ``model`` the pull-back ``strength``
    (``--latent-pullback``; :mod:`~compressai_plf.models.fixed_rate_coder`); returns how many.

    Raises:
        ValueError: ``strength > 0`` and the model has no fixed-rate coder.
    """
    coders = [m for m in model.modules() if isinstance(m, FixedRateLatentCoder)]
    if strength > 0 and not coders:
        raise ValueError("--latent-pullback needs a fixed-rate model (rate_mode 'fixed')")
    for coder in coders:
        coder.pullback = strength
    return len(coders)


def init_from_checkpoint(model: nn.Module, path: str) -> dict[str, Any]:
    """Start a stage from another stage's checkpoint: copy every matching tensor, and start
    perceptual heads the source did not train (absent, or untrained in an ``mse`` stage) as
    copies of its MMSE head when they share its architecture (``head_arch="residual"``: the
    MMSE decoder is a good starting point for any perceptual decoder on the same bitstream).
    Own-past heads keep their own initialisation (e.g. ``synthesis_start="mmse"``): an
    untrained head of the source, at its random initialisation, is never copied, nor is a
    trained head whose synthesis start differs from this model's (the same tensors would
    decode another frame); those are listed in ``not_copied_other_start``. So one universal
    run can train a head anew beside heads another run trained (``--plf`` naming it alone)."""
    ckpt = load_checkpoint(path)
    src = state_dict_of(ckpt, f"checkpoint {path}")
    trained = trained_heads(ckpt, src)
    # a head trained under another synthesis start decodes another frame with the same
    # tensors: it keeps this model's initialisation, as an untrained head does
    other_start = _heads_with_other_starts(model, src, trained)
    trained -= set(other_start)
    untrained = tuple(f"heads.{h}." for h in getattr(model, "heads", {}) if h not in trained)
    own = model.state_dict()
    copied = 0
    for key, value in src.items():
        if key == "_extra_state" or key not in own or not isinstance(value, torch.Tensor):
            continue
        if key.startswith(untrained):
            continue
        if own[key].shape == value.shape:
            own[key] = value
            copied += 1
    from_mse = 0
    for head, module in getattr(model, "heads", {}).items():
        if head in trained or getattr(module, "uses_own_past", False):
            continue
        for part in ("img_decoder", "context_net", "res_decoder"):
            for key in [k for k in own if k.startswith(f"heads.{head}.{part}.")]:
                mse_key = key[len(f"heads.{head}.") :]
                if mse_key in src and src[mse_key].shape == own[key].shape:
                    own[key] = src[mse_key]
                    from_mse += 1
    if copied == 0:
        raise ValueError(
            f"--init {path}: none of its {len(src)} tensors matches this model's "
            f"{len(own)} (names and shapes): another architecture or channel count?"
        )
    nn.Module.load_state_dict(model, own)
    return {
        "copied": copied,
        "of": len(own),
        "heads_from_mse": from_mse,
        "not_copied_other_start": other_start,
        "trained_heads": sorted(trained & set(getattr(model, "heads", {}))),
        "bitstream_lmbda": training_weights(ckpt)["lmbda"],
    }


def _heads_with_other_starts(
    model: nn.Module, src: dict[str, Any], trained: set[str]
) -> dict[str, tuple[str, str]]:
    """The trained heads of ``src`` whose synthesis start differs from this model's:
    ``{head: (theirs, ours)}``."""
    if "_extra_state" not in src or not hasattr(model, "perceptual_heads"):
        return {}
    saved = type(model).saved_config(src)
    heads = [h for h in saved.get("decoders", ()) if h != "mse"]
    theirs = head_synthesis_starts(saved["synthesis_start"], heads)
    ours = head_synthesis_starts(model.config["synthesis_start"], list(model.perceptual_heads))
    return {
        h: (theirs[h], ours[h])
        for h in sorted(trained & set(ours) & set(theirs))
        if theirs[h] != ours[h]
    }


def init_iframe_decoder(model: nn.Module, path: str) -> int:
    """Copy the shared perceptual I-frame decoder (``iframe_decoder.*``) of a checkpoint into
    ``model``: every P-frame rate of a family shares the one the ``iframe`` stage trained on
    the family's keyframe codec. Returns how many tensors were copied; refuses to copy none."""
    if getattr(model, "iframe_decoder", None) is None:
        raise ValueError("--init-iframe: this model has no shared perceptual I-frame decoder")
    src = state_dict_of(load_checkpoint(path), f"checkpoint {path}")
    # the same tensors mean another frame under another start (a residual on the MMSE frame)
    theirs = type(model).saved_config(src)["iframe_start"]
    if theirs != model.config["iframe_start"]:
        raise ValueError(
            f"--init-iframe {path}: its I-frame generator was trained with iframe_start="
            f"{theirs!r}, this model uses {model.config['iframe_start']!r}"
        )
    own = model.state_dict()
    matched = {
        k: v
        for k, v in src.items()
        if k.startswith("iframe_decoder.") and k in own and own[k].shape == v.shape
    }
    expected = [k for k in own if k.startswith("iframe_decoder.")]
    if len(matched) != len(expected):
        raise ValueError(
            f"{path} holds {len(matched)} of the {len(expected)} tensors of this model's shared "
            "perceptual I-frame decoder (different architecture, or none)"
        )
    own.update(matched)
    nn.Module.load_state_dict(model, own)
    return len(matched)


def init_critics(stage: Any, path: str) -> int:
    """Copy the critics of a checkpoint into ``stage`` where names and shapes match; returns
    how many tensors were copied, and refuses to copy none (a silent no-op would leave random
    critics)."""
    ckpt = load_checkpoint(path)
    src = (ckpt.get("stage") or {}).get("critics")
    if not isinstance(src, dict):
        raise ValueError(f"{path} holds no critics (a training checkpoint's stage state)")
    own = stage.critics.state_dict()
    matched = {k: v for k, v in src.items() if k in own and own[k].shape == v.shape}
    if not matched:
        raise ValueError(f"no critic in {path} matches this stage's critics {list(stage.critics)}")
    own.update(matched)
    stage.critics.load_state_dict(own)
    return len(matched)


def stage_state(ckpt: dict[str, Any]) -> dict[str, Any]:
    """The stage state of a checkpoint: CompressAI's top-level optimiser entries merged back
    into ``stage`` (checkpoints written before that layout hold them inside ``stage``)."""
    state = dict(ckpt.get("stage") or {})
    for key in TOP_LEVEL_STATE:
        if key in ckpt:
            state[key] = ckpt[key]
    return state


def reuse_model_args(args: Any, stored: dict[str, Any], path: Path) -> None:
    """Rebuild the model a resumed checkpoint holds: its stored ``model``, ``model_args`` and
    ``channels`` replace the defaults; a different value given explicitly is an error."""
    from .cli import build_parser

    defaults = build_parser().parse_args([])
    for name in MODEL_ARGS:
        if name not in stored:
            continue
        given, default = getattr(args, name, None), getattr(defaults, name, None)
        if name == "channels":
            default = int((getattr(defaults, "model_args", None) or {}).get("channels", 3))
            if getattr(args, "channels_derived", False):
                given = None  # derived from the data, not given: the checkpoint's wins
        if given not in (None, default) and not _same(
            json_ready(given, finite=False), stored[name]
        ):
            raise ValueError(
                f"--{name.replace('_', '-')} {given!r} differs from the one {path} was "
                f"trained with ({stored[name]!r}); resume takes the model from the checkpoint"
            )
        setattr(args, name, stored[name])


def _same(a: Any, b: Any) -> bool:
    """``a == b`` with NaN equal to NaN (an option left at NaN has not changed)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def claim_save_dir(save_dir: Path, force: bool, rank: int) -> None:
    """Refuse to write a new run over an existing one unless ``force`` (then its checkpoints
    and log are removed, so nothing of the old run is appended to)."""
    old = [save_dir / n for n in (CHECKPOINT_NAME, BEST_NAME, LOG_NAME)]
    found = [p.name for p in old if p.exists()]
    if not found:
        return
    if not force:
        raise RunExistsError(
            f"{save_dir} already holds a run ({', '.join(found)}); pass --resume to continue "
            "it or --force to start over"
        )
    if rank == 0:
        for p in old:
            p.unlink(missing_ok=True)


def train(args: Any) -> dict[str, Any]:
    """Run a training job described by ``args`` (see ``examples/train_video.py``)."""
    rank, world = init_from_env()
    save_dir = Path(args.save_dir)
    device = torch.device("cuda" if args.cuda and torch.cuda.is_available() else "cpu")
    ckpt_path, best_path = save_dir / CHECKPOINT_NAME, save_dir / BEST_NAME
    ckpt, resume_path = None, None
    if args.resume:
        resume_path = Path(args.resume) if isinstance(args.resume, str) else ckpt_path
        ckpt = load_checkpoint(resume_path, map_location=device)
        reuse_model_args(args, ckpt.get("args") or {}, resume_path)
    else:
        claim_save_dir(save_dir, getattr(args, "force", False), rank)
    if rank == 0:
        remove_orphaned_tmp(save_dir, (CHECKPOINT_NAME, BEST_NAME))
    seed_everything(args.seed)

    model = build_model(args).to(device)
    channels = getattr(model, "channels", None)
    if channels is not None and args.channels != channels:  # else frames fail deep in torch
        raise ValueError(
            f"--channels {args.channels} but the model codes {channels}-channel frames"
        )
    set_latent_pullback(model, getattr(args, "latent_pullback", 0.0) or 0.0)
    from_init: set[str] = set()
    init_lmbda = None  # the rate-distortion weight of the --init source's bitstream
    if args.init:
        info = init_from_checkpoint(model, args.init)
        from_init = set(info["trained_heads"])
        init_lmbda = info["bitstream_lmbda"]
        if rank == 0:
            print(
                f"initialised from {args.init}: copied {info['copied']} of the model's "
                f"{info['of']} tensors ({info['heads_from_mse']} head tensors from its MMSE head)"
            )
            for head, (theirs, ours) in info["not_copied_other_start"].items():
                print(
                    f"  head {head!r} not copied: trained with synthesis_start={theirs!r}, "
                    f"this model's starts at {ours!r} (kept at its initialisation)"
                )
    if getattr(args, "init_iframe", None):
        copied = init_iframe_decoder(model, args.init_iframe)
        if rank == 0:
            print(f"shared perceptual I-frame decoder from {args.init_iframe}: {copied} tensors")
    broadcast_parameters(model)
    forward = None
    if world > 1:
        ddp = DistributedDataParallel(HeadsForward(model), find_unused_parameters=True)
        forward = ddp
    stage = make_stage(args.stage, model, args, forward)
    if getattr(args, "init_critics", None):
        copied = init_critics(stage, args.init_critics)
        if rank == 0:
            print(f"critics initialised from {args.init_critics}: {copied} tensors")
    stage.critics.to(device)
    broadcast_parameters(stage.critics)

    train_set = build_dataset(args, "train")
    shared = getattr(args, "critic_batch", "fresh") == "shared"
    draws = args.critic_steps + 1 if len(stage.critics) and not shared else 1
    batches_cpu = StepBatches(
        train_set, args.batch_size, args.seed, draws, rank, world, getattr(args, "num_workers", 0)
    )
    if args.epochs:
        args.steps = args.epochs * batches_cpu.steps_per_epoch

    def batches(step: int, draw: int) -> list[torch.Tensor]:
        return [x.to(device) for x in batches_cpu(step, draw)]

    eval_frames = None
    if args.eval_interval:
        test_set = build_dataset(args, "test")
        n = min(args.eval_batch_size, len(test_set))
        eval_frames = [
            x.to(device) for x in default_collate([_frames_of(test_set[i]) for i in range(n)])
        ]

    log = JsonlLog(save_dir / LOG_NAME if rank == 0 else None)
    start, best_loss, last_loss = 0, math.inf, None
    if ckpt is not None:
        if ckpt.get("stage_name") != args.stage:
            raise ValueError(
                f"{resume_path} is a {ckpt.get('stage_name')!r} checkpoint, not {args.stage!r}"
            )
        model.load_state_dict(state_dict_of(ckpt, f"checkpoint {resume_path}"))
        stage.load_state_dict(stage_state(ckpt))
        set_rng_state(ckpt["rng"])
        start = int(ckpt["step"])
        from_init = set(ckpt.get("trained_heads", from_init))  # as the run first recorded it
        init_lmbda = ckpt.get("bitstream_lmbda", init_lmbda)
        best_loss = float(ckpt.get("best_loss", math.inf))
        last_loss = ckpt.get("loss")
        log.truncate(start)  # the steps after the checkpoint are replayed, not repeated
        if rank == 0:
            print(f"resumed from {resume_path} at step {start}")

    def save(step: int, path: Path, final: bool = False) -> None:
        if rank != 0:
            return
        state = stage.state_dict()
        top = {k: state.pop(k, None) for k in TOP_LEVEL_STATE}
        checkpoint = {
            "epoch": step // batches_cpu.steps_per_epoch,
            "state_dict": model.state_dict(),
            "loss": last_loss,
            **top,
            "step": step,
            "stage_name": args.stage,
            "trained_heads": heads_trained_after(args.stage, getattr(args, "plf", None), from_init),
            "bitstream_lmbda": bitstream_lmbda(
                args.stage, getattr(args, "lmbda", None), init_lmbda
            ),
            "stage": state,
            "rng": rng_state(),
            "args": json_ready(vars(args), finite=False),  # a torch file keeps inf/NaN
            "best_loss": best_loss,
            "final": final,
        }
        save_atomic(checkpoint, path)

    if start == 0 and getattr(args, "critic_warmup", 0) > 0:
        warm = stage.warm_up_critics(batches, args.critic_warmup)
        log.write(0, "critic_warmup", {"updates": args.critic_warmup, **warm})
        if rank == 0:
            print(f"critics warmed up: {args.critic_warmup} updates")

    t0 = time.time()
    last: dict[str, float] = {}
    best_now = False
    bar = tqdm(
        range(start, args.steps),
        initial=start,
        total=args.steps,
        disable=rank != 0,
        desc=f"{args.stage}",
        dynamic_ncols=True,
    )
    for step in bar:
        logs = stage.train_step(step, batches)
        done = step + 1
        if done % args.log_interval == 0 or done == args.steps:
            log.write(done, "train", logs)
            bar.set_postfix(loss=f"{logs['loss']:.4g}")
            last = logs
        best_now = False
        if eval_frames is not None and (done % args.eval_interval == 0 or done == args.steps):
            ev = stage.evaluate(eval_frames)
            log.write(done, "eval", ev)
            if stage.lr_scheduler is not None:
                stage.lr_scheduler.step(ev["loss"])
            last = {**last, **{f"eval.{k}": v for k, v in ev.items()}}
            last_loss = float(ev["loss"])
            best_now = last_loss < best_loss
            best_loss = min(best_loss, last_loss)
        if best_now and done != args.steps:
            save(done, best_path)
        if done % args.checkpoint_interval == 0 and done != args.steps:
            save(done, ckpt_path)
    batches_cpu.close()
    if hasattr(model, "update"):
        model.update(force=True)  # CDF tables, so the checkpoint codes real bitstreams
    save(args.steps, ckpt_path, final=True)
    if best_now:  # the final checkpoint is the best one: keep its updated CDF tables
        save(args.steps, best_path, final=True)
    if is_distributed():
        if args.save_rank_states and rank > 0:
            save_atomic(
                {"state_dict": model.state_dict(), "critics": stage.critics.state_dict()},
                save_dir / f"rank{rank}.pth.tar",
            )
        torch.distributed.barrier()
    summary = {
        "steps": args.steps,
        "seconds": time.time() - t0,
        "checkpoint": str(ckpt_path),
        "best_checkpoint": str(best_path) if best_path.is_file() else None,
        "skipped_nonfinite": stage.guard.total,
        **last,
    }
    return summary


def namespace(**kwargs: Any) -> argparse.Namespace:
    """Arguments with the defaults of ``examples/train_video.py`` (for programmatic use)."""
    from .cli import build_parser

    args = build_parser().parse_args([])
    for k, v in kwargs.items():
        setattr(args, k, v)
    return args
