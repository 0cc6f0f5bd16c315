# Copyright (c) 2021-2024, InterDigital Communications, Inc
# All rights reserved.

# Redistribution and use in source and binary forms, with or without
# modification, are permitted (subject to the limitations in the disclaimer
# below) provided that the following conditions are met:

# * Redistributions of source code must retain the above copyright notice,
#   this list of conditions and the following disclaimer.
# * Redistributions in binary form must reproduce the above copyright notice,
#   this list of conditions and the following disclaimer in the documentation
#   and/or other materials provided with the distribution.
# * Neither the name of InterDigital Communications, Inc nor the names of its
#   contributors may be used to endorse or promote products derived from this
#   software without specific prior written permission.

# NO EXPRESS OR IMPLIED LICENSES TO ANY PARTY'S PATENT RIGHTS ARE GRANTED BY
# THIS LICENSE. THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND
# CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT
# NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A
# PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR
# CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL,
# EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO,
# PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS;
# OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY,
# WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR
# OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF
# ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.

# Adapted from CompressAI's examples/train_video.py (argument names and layout kept):
# registry-driven (model, criterion, dataset), PLF stages, recipes, exact resume.

"""Command line of ``examples/train_video.py``."""

from __future__ import annotations

import argparse
import inspect
import json
import math
from pathlib import Path
from typing import Any

from compressai.registry import DATASETS

from ..plfs import plf_names
from ..zoo.presets import architecture, expand_preset
from .stages import CRITIC_BATCHES, IFRAME_SOURCES, STAGES

DEFAULT_CRITIC_STEPS = {"mse": 5, "iframe": 5, "plf": 5, "universal": 5, "recon3d": 1}


def _json(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON: {err}") from err
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Train a video codec with compressai_plf objectives.")
    p.add_argument("--config", help="recipe JSON (e.g. zoo/*.json); command-line flags override it")
    p.add_argument(
        "-m", "--model", default="ssf_plf", help="registered model (default: %(default)s)"
    )
    p.add_argument("--model-args", type=_json, default={}, help="model constructor kwargs (JSON)")
    # CompressAI's -d/--dataset is the data folder: here -d is the folder (--data-root) and
    # --dataset the registered dataset class that reads it
    p.add_argument(
        "--dataset", default="MovingMNIST", help="registered dataset (default: %(default)s)"
    )
    p.add_argument(
        "-d",
        "--data-root",
        default=None,
        help="dataset folder, CompressAI's -d (MovingMNIST: the MNIST root)",
    )
    p.add_argument(
        "-n",
        "--num-workers",
        type=int,
        default=0,
        help="DataLoader workers making batches ahead of the steps; the batches do not depend "
        "on it (default: %(default)s, in the training process)",
    )
    p.add_argument(
        "--dataset-args", type=_json, default={}, help="dataset constructor kwargs (JSON)"
    )
    p.add_argument(
        "--stage", choices=STAGES, default="mse", help="training stage (default: %(default)s)"
    )
    p.add_argument(
        "--criterion",
        default="VideoRateDistortionLoss",
        help="registered rate-distortion criterion for the MMSE head",
    )
    p.add_argument(
        "--plf",
        nargs="*",
        default=[],
        choices=plf_names(),
        help="perception loss functions: heads to train (plf/universal) or to measure (mse)",
    )
    p.add_argument(
        "--lambda",
        dest="lmbda",
        type=float,
        default=1e-2,
        help="rate-distortion lambda of the MMSE head (default: %(default)s)",
    )
    p.add_argument("--lambda-mse", type=float, default=1.0, help="MSE weight of PLF heads")
    p.add_argument(
        "--lambda-p",
        type=float,
        default=0.04,
        help="perception weight (PLF critic term; LPIPS weight in recon3d)",
    )
    p.add_argument(
        "--plf-weights",
        type=_json,
        default={},
        help="per-PLF perception weights overriding --lambda-p for the heads named (JSON, "
        'e.g. \'{"jd": 0.5, "fmd": 0.1}\'; plf/universal stages): each head is trained with '
        "its own weight, the heads' critics and networks being separate",
    )
    p.add_argument("--lambda-q", type=float, default=1e-2, help="rate weight (recon3d)")
    p.add_argument("--lambda-adv", type=float, default=0.1, help="adversarial weight (recon3d)")
    p.add_argument(
        "--lambda-gp", type=float, default=10.0, help="gradient penalty weight (recon3d)"
    )
    p.add_argument("--disc-start", type=int, default=0, help="first adversarial step (recon3d)")
    p.add_argument("--lpips-weights", default=None, help="LPIPS backbone weights file (recon3d)")
    p.add_argument("--frames", type=int, default=3, help="frames per training clip")
    p.add_argument(
        "--patch-size",
        type=int,
        nargs="+",
        default=[64],
        help="training crop / frame size, H [W] (default: %(default)s)",
    )
    p.add_argument(
        "--channels",
        type=int,
        default=None,
        help="frame channels of the model and the dataset (default: the model's, else the "
        "dataset's own: 1 for MovingMNIST and KTH, 3 for RGB video)",
    )
    p.add_argument("--steps", type=int, default=1000, help="codec steps (default: %(default)s)")
    p.add_argument("-e", "--epochs", type=int, default=None, help="epochs (overrides --steps)")
    p.add_argument("--batch-size", type=int, default=16, help="batch size (default: %(default)s)")
    p.add_argument(
        "--test-batch-size",
        "--eval-batch-size",
        dest="eval_batch_size",
        type=int,
        default=64,
        help="held-out batch size (default: %(default)s)",
    )
    p.add_argument(
        "--micro-batches",
        type=int,
        default=1,
        help="split each codec step's batch into this many chunks with gradient accumulation "
        "(same update, lower peak memory; default: %(default)s)",
    )
    p.add_argument("--optimizer", choices=["adam", "rmsprop"], default="adam")
    p.add_argument("-lr", "--learning-rate", type=float, default=1e-4)
    p.add_argument(
        "--encoder-learning-rate",
        type=float,
        default=None,
        help="stage plf only: learning rate of the encoder side (encoders, latent coders, MMSE "
        "head), a pretrained code fine-tuned slower than the perceptual heads (default: "
        "--learning-rate)",
    )
    p.add_argument(
        "--detach-head-references",
        action="store_true",
        help="stage plf only: the perceptual heads read the MMSE head's frames and predictions "
        "without their graph, so their gradient reaches the encoder side only through the "
        "latents and the MMSE head learns from its own distortion alone",
    )
    p.add_argument(
        "--latent-pullback",
        type=float,
        default=0.0,
        help="fixed-rate models: strength of a pull on latents beyond |y| = 2, where tanh "
        "passes no gradient and a latent stops learning (the gradient of strength/2 * "
        "mean(relu(|y| - 2)^2) per coder; forward unchanged; default: %(default)s, off)",
    )
    p.add_argument("--aux-learning-rate", type=float, default=1e-3)
    p.add_argument("--critic-learning-rate", type=float, default=5e-5)
    p.add_argument(
        "--critic-steps",
        type=int,
        default=None,
        help="critic steps per codec step (default: 5; 1 for recon3d)",
    )
    p.add_argument(
        "--critic-batch",
        choices=CRITIC_BATCHES,
        default="fresh",
        help="critic updates each on a fresh batch, or all on the step's batch decoded once "
        "(shared; much cheaper) (default: %(default)s)",
    )
    p.add_argument(
        "--gp-every",
        type=int,
        default=1,
        help="lazy gradient penalty: apply it on every k-th critic update with weight k * 10 "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--critic-warmup",
        type=int,
        default=0,
        help="critic-only updates on the initial codec before the first codec update",
    )
    p.add_argument(
        "--init-iframe",
        default=None,
        help="copy the shared perceptual I-frame decoder from this checkpoint (after --init)",
    )
    p.add_argument(
        "--init-critics",
        default=None,
        help="start the critics from this checkpoint's critics (e.g. an earlier stage's)",
    )
    p.add_argument(
        "--cache-chain",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="universal stage: compute the frozen MMSE chain of a batch once and reuse it "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--iframe-source",
        choices=IFRAME_SOURCES,
        default="decoder",
        help="universal and plf stages: frame 0 the heads continue: the model's perceptual "
        "I-frame decoder, or exact posterior samples of the keyframe code (plf: with "
        "--freeze-keyframe) (default: %(default)s)",
    )
    p.add_argument(
        "--freeze-keyframe",
        action="store_true",
        help="mse/plf stages: keep the I-frame codec as initialised (one keyframe codec for "
        "every P-frame rate)",
    )
    p.add_argument("--critic-arch", choices=["dcgan", "3d"], default="dcgan")
    p.add_argument(
        "--critic-args",
        type=_json,
        default={},
        help="extra critic/discriminator constructor kwargs (JSON), e.g. widths",
    )
    p.add_argument(
        "--clip_max_norm", "--clip-max-norm", dest="clip_max_norm", type=float, default=1.0
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save-dir", default="runs/train", help="checkpoint and log folder")
    p.add_argument(
        "--save",
        action="store_true",
        default=True,
        help="accepted for CompressAI compatibility: checkpoints are always saved",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="start a new run in a SAVE_DIR that holds one (its checkpoints and log are removed)",
    )
    p.add_argument(
        "--init", default=None, help="start from this checkpoint's weights (other stage)"
    )
    p.add_argument(
        "--resume",
        "--checkpoint",
        dest="resume",
        nargs="?",
        const=True,
        default=None,
        help="resume from CKPT (default: SAVE_DIR/checkpoint.pth.tar)",
    )
    p.add_argument("--log-interval", type=int, default=10)
    p.add_argument("--eval-interval", type=int, default=200, help="0 disables held-out evaluation")
    p.add_argument("--checkpoint-interval", type=int, default=100)
    p.add_argument(
        "--max-nonfinite",
        type=int,
        default=10,
        help="stop after this many consecutive non-finite steps",
    )
    p.add_argument("--cuda", action="store_true", help="use CUDA")
    p.add_argument(
        "--save-rank-states",
        action="store_true",
        help="multi-process: ranks > 0 also save their final weights (rankN.pth.tar)",
    )
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse ``argv``; a ``--config`` recipe sets defaults that explicit flags override."""
    parser = build_parser()
    args, _ = parser.parse_known_args(argv)
    if args.config:
        recipe = load_recipe(args.config)
        dests = option_dests(parser)
        unknown = sorted(set(recipe) - set(dests))
        if unknown:
            raise SystemExit(f"error: recipe {args.config} has unknown keys {unknown}")
        parser.set_defaults(**{dests[k]: v for k, v in recipe.items()})
    args = parser.parse_args(argv)
    return finalize(args)


def option_dests(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Recipe key -> argument: every long option name (``lambda``, ``test_batch_size``) and
    every destination (``lmbda``, ``eval_batch_size``), dashes as underscores."""
    out: dict[str, str] = {}
    for action in parser._actions:
        if action.dest == "help":
            continue
        out[action.dest] = action.dest
        for opt in action.option_strings:
            if opt.startswith("--"):
                out[opt[2:].replace("-", "_")] = action.dest
    return out


def load_recipe(path: str | Path) -> dict[str, Any]:
    """The settings of a recipe file, its zoo preset resolved (:func:`expand_preset`)."""
    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"error: recipe not found: {path}")
    try:
        recipe = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SystemExit(f"error: recipe {path} is not a readable JSON file: {err}") from None
    if not isinstance(recipe, dict):
        raise SystemExit(f"error: recipe {path} must be a JSON object, not {type(recipe).__name__}")
    recipe.pop("_comment", None)
    recipe.pop("card", None)
    try:
        recipe = expand_preset(recipe)  # "preset": the zoo quality and family it starts from
    except ValueError as err:
        raise SystemExit(f"error: recipe {path}: {err}") from None
    return {k.replace("-", "_"): v for k, v in recipe.items()}


def dataset_channels(name: str) -> int:
    """The channel count a registered dataset gives by default: its ``channels`` argument's
    default (MovingMNIST, KTH: 1), else 3 (RGB video)."""
    cls = DATASETS.get(name)
    param = inspect.signature(cls).parameters.get("channels") if cls is not None else None
    if param is None or not isinstance(param.default, int):
        return 3
    return param.default


def finalize(args: argparse.Namespace) -> argparse.Namespace:
    """Derived defaults and checks."""
    size = args.patch_size if isinstance(args.patch_size, list) else [args.patch_size]
    if len(size) not in (1, 2):
        raise SystemExit("error: --patch-size takes H or H W")
    args.patch_size = size[0] if len(size) == 1 or size[0] == size[1] else tuple(size)
    if args.channels is None:
        # not given: the model's, else the data's; a resumed run takes the checkpoint's
        args.channels_derived = True
        model_args, data_args = args.model_args or {}, args.dataset_args or {}
        args.channels = int(
            model_args.get("channels")
            or data_args.get("channels")
            or dataset_channels(args.dataset)
        )
    if args.model == "ssf_plf" and not args.model_args and not args.resume:
        # no architecture given: the zoo's hyperprior one for the data (frames multiple of
        # 64), not ScaleSpaceFlow's 128/192 widths, which need 128-pixel multiples
        family = "mmnist" if args.channels == 1 else "natural"
        args.model_args = {**architecture(1, "hyperprior", family), "channels": args.channels}
    if args.critic_steps is None:
        args.critic_steps = DEFAULT_CRITIC_STEPS[args.stage]
    encoder_lr = getattr(args, "encoder_learning_rate", None)
    if encoder_lr is not None:
        if args.stage != "plf":
            raise SystemExit(
                "error: --encoder-learning-rate applies to stage 'plf' only (the stage that "
                f"trains the encoder side beside perceptual heads), not {args.stage!r}"
            )
        if not (math.isfinite(encoder_lr) and encoder_lr > 0):
            raise SystemExit(f"error: --encoder-learning-rate must be > 0, got {encoder_lr}")
    pullback = getattr(args, "latent_pullback", 0.0) or 0.0
    if not (math.isfinite(pullback) and pullback >= 0):
        raise SystemExit(f"error: --latent-pullback must be >= 0, got {pullback}")
    if getattr(args, "detach_head_references", False) and args.stage != "plf":
        raise SystemExit(
            f"error: --detach-head-references applies to stage 'plf' only, not {args.stage!r}"
        )
    if args.stage in ("plf", "universal") and not args.plf:
        raise SystemExit(f"error: stage {args.stage!r} needs --plf (jd, fmd and/or sa)")
    if args.stage == "iframe" and args.lambda_p < 0:
        raise SystemExit("error: --lambda-p must be >= 0")
    if args.num_workers < 0:
        raise SystemExit("error: --num-workers must be >= 0")
    if args.dataset not in DATASETS and Path(str(args.dataset)).exists():
        raise SystemExit(
            f"error: --dataset takes a registered dataset name, not a folder ({args.dataset}); "
            "pass the folder with -d/--data-root"
        )
    if args.critic_warmup < 0:
        raise SystemExit("error: --critic-warmup must be >= 0")
    if not isinstance(args.plf_weights, dict):
        raise SystemExit("error: --plf-weights must be a JSON object, e.g. '{\"jd\": 0.5}'")
    for name, value in args.plf_weights.items():
        if name not in args.plf:
            raise SystemExit(
                f"error: --plf-weights names {name!r}, which is not among the heads trained "
                f"(--plf {' '.join(args.plf) or 'is empty'})"
            )
        if isinstance(value, bool) or not (
            isinstance(value, (int, float)) and math.isfinite(value) and value >= 0
        ):
            raise SystemExit(f"error: --plf-weights[{name!r}] must be a finite number >= 0")
    # A NaN weight would make every step non-finite (each one skipped) rather than fail.
    for name in ("lmbda", "lambda_mse", "lambda_p", "lambda_q", "lambda_adv", "lambda_gp"):
        value = getattr(args, name)
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            option = "lambda" if name == "lmbda" else name.replace("_", "-")
            raise SystemExit(f"error: --{option} must be a finite number >= 0, got {value}")
    for name in (
        "steps",
        "batch_size",
        "log_interval",
        "checkpoint_interval",
        "micro_batches",
        "gp_every",
    ):
        if getattr(args, name) < 1:
            raise SystemExit(f"error: --{name.replace('_', '-')} must be >= 1")
    return args
