"""Evaluation of ``ssf_plf`` models from real bitstreams (``python -m compressai_plf.eval``).

Every clip is coded into a file with :mod:`compressai_plf.io`, decoded with every decoder
head, and measured (MSE, PSNR, MS-SSIM, temporal consistency, LPIPS when its weights are
present, W1 estimates with frozen evaluation critics, digit agreement and Fréchet distances
with the digit classifier). Results use the JSON layout of ``docs/evaluation.md``. The frozen
evaluation critics are built once with ``python -m compressai_plf.eval.build_eval_critics``.
"""

from ..io import frame_bits
from .clip_metrics import MetricSuite, build_metric_suite
from .clips import DATASETS, ClipSet, EvalClip, load_clips
from .degradations import DEGRADATIONS, degrade
from .eval_critic import EvalCritics, load_eval_critics
from .evaluate import evaluate_model, evaluate_models
from .models import EvalModel, from_checkpoint, from_zoo

__all__ = [
    "DATASETS",
    "DEGRADATIONS",
    "ClipSet",
    "EvalClip",
    "EvalCritics",
    "MetricSuite",
    "EvalModel",
    "build_metric_suite",
    "degrade",
    "evaluate_model",
    "evaluate_models",
    "frame_bits",
    "from_checkpoint",
    "from_zoo",
    "load_clips",
    "load_eval_critics",
]
