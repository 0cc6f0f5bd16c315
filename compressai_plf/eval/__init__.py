"""Evaluation of ``ssf_plf`` models from real bitstreams (``python -m compressai_plf.eval``).

Every clip is coded into a file with :mod:`compressai_plf.io`, decoded with every decoder
head, and measured (MSE, PSNR, MS-SSIM, temporal consistency, LPIPS when its weights are
present, W1 estimates with frozen evaluation critics, digit agreement and Fréchet distances
with the digit classifier). Results use the JSON layout of ``docs/evaluation.md``. The frozen
evaluation critics are built once with ``python -m compressai_plf.eval.build_eval_critics``.

One loop (:func:`evaluate_codec`) measures every codec through one protocol
(:class:`ClipCodec`): ``ssf_plf`` through the container (:class:`ContainerCodec`), CompressAI
video models (:class:`CompressAIVideoCodec`) and x264/x265 (:class:`AnchorCodec`); the
rate-distortion sweep (:func:`rd_sweep`) and the reproduction use it too.
"""

from ..datasets.eval_split import eval_dataset_names
from ..io import frame_bits
from .anchor_codec import AnchorCodec
from .clip_metrics import MetricSuite, build_metric_suite
from .clips import ClipSet, EvalClip, load_clips
from .codec import ClipCodec, CodedResult
from .compressai_video import CompressAIVideoCodec
from .container_codec import ContainerCodec
from .degradations import DEGRADATIONS, degrade
from .eval_critic import EvalCritics, load_eval_critics
from .evaluate import evaluate_codec, evaluate_model, evaluate_models
from .models import EvalModel, from_checkpoint, from_zoo
from .rd_sweep import anchor_rd_results, rd_sweep

__all__ = [
    "AnchorCodec",
    "ClipCodec",
    "CodedResult",
    "CompressAIVideoCodec",
    "ContainerCodec",
    "DEGRADATIONS",
    "ClipSet",
    "EvalClip",
    "EvalCritics",
    "MetricSuite",
    "EvalModel",
    "anchor_rd_results",
    "build_metric_suite",
    "degrade",
    "evaluate_codec",
    "evaluate_model",
    "eval_dataset_names",
    "evaluate_models",
    "frame_bits",
    "from_checkpoint",
    "from_zoo",
    "load_clips",
    "load_eval_critics",
    "rd_sweep",
]
