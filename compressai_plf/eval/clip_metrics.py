"""Per-frame metrics of one decoded clip, and the networks they need.

:class:`MetricSuite` holds the optional networks (digit classifier, evaluation critics, LPIPS)
and records why a metric is unavailable instead of reporting a number for it. Values are
plain floats; NaN marks "not defined here" (e.g. the critics' W1 at the I-frame).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..metrics import (
    classifier_features,
    classify_frames,
    flow_difference_per_frame,
    load_digit_classifier,
    ms_ssim_per_frame,
    ms_ssim_window,
    mse_per_frame,
    psnr_per_frame,
)
from ..metrics.identity_statistics import identity_hits
from .eval_critic import EvalCritics

__all__ = ["MetricSuite", "build_metric_suite", "critics_record"]

NAN = float("nan")
#: Evaluation datasets a critics file measures, by the data it was built on: critics built
#: on natural clips measure natural video (YUV files), Moving MNIST ones Moving MNIST only.
CRITIC_DATASETS = {"mmnist": ("mmnist",), "natural": ("yuv",)}


@dataclass
class MetricSuite:
    """What to measure on each clip.

    Attributes:
        classifier: digit classifier (Moving MNIST only) for digit agreement, the identity
            statistics (:mod:`compressai_plf.metrics.identity_statistics`) and Fréchet
            distances, or ``None``.
        critics: frozen evaluation critics for ``w1-<plf>``, or ``None``.
        lpips: a ``FrozenLPIPS``-like module ``(x, y) -> (B,)``, or ``None``.
        ms_ssim: whether the frame size allows MS-SSIM.
        flow: whether to measure ``flow-diff`` (optical flow of every frame pair, the
            slowest of the network-free metrics).
        unavailable: metric name -> reason it is not reported.
        settings: what was used (paths, critic metadata) for the results file.
    """

    classifier: nn.Module | None = None
    critics: EvalCritics | None = None
    lpips: nn.Module | None = None
    ms_ssim: bool = True
    flow: bool = True
    unavailable: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @torch.no_grad()
    def per_frame(
        self, source: Tensor, recon: Tensor, labels: Tensor | None = None
    ) -> dict[str, list[float]]:
        """Per-frame metrics of one clip.

        Args:
            source: ``(1, T, C, H, W)`` source frames in [0, 1].
            recon: ``(1, T, C, H, W)`` decoded frames.
            labels: true digit labels of the clip ``(num_digits,)`` or ``None``.

        Returns:
            ``{metric: [value per frame]}``; ``flow-diff`` has ``T - 1`` entries (pair
            ``(t, t+1)``), every other list ``T``.
        """
        t, c = source.shape[1], source.shape[2]
        out: dict[str, list[float]] = {
            "mse": mse_per_frame(source, recon).tolist(),
            "psnr": psnr_per_frame(source, recon).tolist(),
        }
        if self.ms_ssim:
            try:
                out["ms-ssim"] = ms_ssim_per_frame(source, recon).tolist()
            except ValueError:  # a smaller sequence than the first one (yuv folders)
                out["ms-ssim"] = [NAN] * t
        if self.flow and t >= 2:
            out["flow-diff"] = flow_difference_per_frame(source, recon).tolist()
        if self.lpips is not None:
            device = next(self.lpips.parameters(), torch.empty(0)).device
            d = self.lpips(source[0].to(device), recon[0].clamp(0, 1).to(device))
            out["lpips"] = d.float().cpu().tolist()
        if self.critics is not None:
            for plf in self.critics.plfs:
                out[f"w1-{plf}"] = self.critics.w1_per_frame(plf, source, recon).tolist()
        if self.classifier is not None:
            src_labels = classify_frames(self.classifier, source)[0]
            identity, rec_labels = self.identity_per_frame(recon, labels)
            out["digit-agreement"] = (rec_labels[0] == src_labels[0]).double().tolist()
            out.update(identity)
        if c == 3:  # CompressAI's names for RGB data (mse-rgb on the 0..255 scale)
            out["mse-rgb"] = [v * 255.0**2 for v in out["mse"]]
            out["psnr-rgb"] = out["psnr"]
            if "ms-ssim" in out:
                out["ms-ssim-rgb"] = out["ms-ssim"]
        return out

    @torch.no_grad()
    def identity_per_frame(
        self, video: Tensor, labels: Tensor | None = None
    ) -> tuple[dict[str, list[float]], Tensor]:
        """Digit-identity statistics of one clip (needs the classifier) and its labels.

        Args:
            video: ``(1, T, C, H, W)`` decoded (or source) frames.
            labels: the clip's true digit labels; the statistics against the true digit
                (``digit-accuracy``, ``permanence``, ``correction``) need exactly one.

        Returns:
            ``({metric: [value per frame]}, predicted labels (1, T))``: ``digit-confidence``,
            ``confident``, ``self-consistency`` and, with one true digit, those of
            :func:`~compressai_plf.metrics.identity_statistics.identity_hits` (NaN where
            undefined).
        """
        if self.classifier is None:
            raise ValueError("identity statistics need a digit classifier")
        pred, conf = classify_frames(self.classifier, video)
        out = {"digit-confidence": conf[0].double().tolist()}
        if labels is not None and labels.numel() == 1:
            hits = identity_hits(pred, conf, labels.reshape(1))
        else:  # no single true digit: only the statistics that do not need it
            hits = identity_hits(pred, conf, pred[:, 0])
            hits = {k: hits[k] for k in ("self-consistency", "confident")}
        out.update({k: v[0].tolist() for k, v in hits.items()})
        return out, pred.cpu()

    @torch.no_grad()
    def features(self, video: Tensor) -> Tensor | None:
        """Classifier features ``(1, T, D)`` of a clip, or ``None`` without a classifier."""
        if self.classifier is None:
            return None
        return classifier_features(self.classifier, video).cpu()


#: Metrics reported only as scalars (aliases in CompressAI's naming).
SCALAR_ONLY = ("mse-rgb", "psnr-rgb", "ms-ssim-rgb")


def build_metric_suite(
    dataset: str,
    channels: int,
    height: int,
    width: int,
    classifier: str | os.PathLike | nn.Module | None = None,
    eval_critics: str | os.PathLike | EvalCritics | None = None,
    lpips: str | os.PathLike | nn.Module | bool | None = "auto",
    device: str | torch.device = "cpu",
) -> MetricSuite:
    """Load the optional networks and decide which metrics apply to these frames.

    Args:
        dataset: ``"mmnist"``, ``"kth"`` or ``"yuv"``.
        channels, height, width: frame geometry.
        classifier: digit classifier checkpoint or module (Moving MNIST only).
        eval_critics: evaluation-critics file or object.
        lpips: ``"auto"`` (AlexNet LPIPS when torchvision's weight file is in the torch hub
            cache, else unavailable), a weight-file path (must exist), a module, or
            ``None``/``False`` to skip.
        device: where the networks run.

    Raises:
        FileNotFoundError: an explicitly given file is missing.
        ValueError: a network does not apply to this dataset or frame size.
    """
    suite = MetricSuite()
    try:
        ms_ssim_window(height, width)
    except ValueError as err:
        suite.ms_ssim = False
        suite.unavailable["ms-ssim"] = str(err)

    if classifier is None:
        suite.unavailable["digit-agreement"] = "no digit classifier given (--classifier)"
        suite.unavailable["fd"] = "no digit classifier given (--classifier)"
    else:
        if dataset != "mmnist":
            raise ValueError(
                f"the digit classifier applies to Moving MNIST only, not to dataset {dataset!r}"
            )
        if isinstance(classifier, (str, os.PathLike)):
            suite.settings["classifier"] = str(classifier)
            classifier = load_digit_classifier(classifier)
        suite.classifier = classifier.eval().to(device)

    if eval_critics is None:
        suite.unavailable["w1"] = "no evaluation critics given (--eval-critics)"
    else:
        if isinstance(eval_critics, (str, os.PathLike)):
            suite.settings["eval_critics"] = str(eval_critics)
            eval_critics = EvalCritics.load(eval_critics)
        built_on = eval_critics.meta.get("dataset")
        if built_on is not None and dataset not in CRITIC_DATASETS.get(built_on, (built_on,)):
            raise ValueError(
                f"the evaluation critics were built on {built_on!r} clips; they cannot "
                f"measure {dataset!r} clips"
            )
        eval_critics.check_frames(channels, height, width)
        suite.critics = eval_critics.freeze().to(device)
        suite.settings["eval_critics_meta"] = critics_record(eval_critics)

    suite.lpips = _lpips(lpips, suite, device)
    return suite


def critics_record(critics: EvalCritics) -> dict[str, Any]:
    """What an evaluation records of its critics (``settings["eval_critics_meta"]``): how they
    were built, their validation W1s and the hash of their weights, which tells whether two
    evaluations' W1 values come from the same critics."""
    keys = ("dataset", "real_clips", "reference", "steps", "validation")
    return {**{k: critics.meta[k] for k in keys if k in critics.meta}, "sha256": critics.sha256()}


def _lpips(
    lpips: str | os.PathLike | nn.Module | bool | None, suite: MetricSuite, device
) -> nn.Module | None:
    if lpips is None or lpips is False:
        suite.unavailable["lpips"] = "disabled"
        return None
    if isinstance(lpips, nn.Module):
        return lpips.eval().to(device)
    from ..modules import FrozenLPIPS

    if lpips == "auto" or lpips is True:
        try:
            net = FrozenLPIPS(net="alex")
        except FileNotFoundError as err:
            suite.unavailable["lpips"] = str(err)
            return None
    else:
        if not Path(lpips).is_file():
            raise FileNotFoundError(f"LPIPS backbone weights not found: {lpips}")
        net = FrozenLPIPS(net="alex", weights=lpips)
    suite.settings["lpips"] = net.weights_path
    return net.to(device)
