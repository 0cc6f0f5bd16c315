"""A small digit classifier for 64x64 Moving-MNIST-like frames, used as a feature network.

Fréchet distances on features of a classifier the project trains itself are the usual offline
stand-in for FID on MNIST-like data (no ImageNet weights are needed). Build the weights with
``python -m compressai_plf.metrics.build_classifier --mnist-root DIR --out FILE``.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn
from compressai.registry import register_module
from torch import Tensor

from ..checkpoint import CheckpointError, load_checkpoint, state_dict_of
from ._video import VideoLike, as_video, to_gray

FRAME_SIZE = 64


def _conv(cin: int, cout: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    ]


@register_module("DigitClassifier")
class DigitClassifier(nn.Module):
    """CNN for (B, 1, 64, 64) frames in [0, 1]: five conv layers with batch norm, global max
    pooling, a ``feature_dim``-wide penultimate layer (the features for Fréchet distances)
    and ``num_classes`` logits.

    Global max pooling makes the classifier (nearly) invariant to where the digit is, which
    Moving MNIST frames need and which makes training fast. The features therefore describe
    the digit's appearance, not its position.

    Args:
        num_classes: number of output classes (10 digits).
        feature_dim: width of the penultimate (feature) layer.
        width: channels of the first conv layer (doubled twice in later layers).
    """

    def __init__(self, num_classes: int = 10, feature_dim: int = 64, width: int = 16):
        super().__init__()
        self.num_classes, self.feature_dim, self.width = num_classes, feature_dim, width
        w = width
        self.body = nn.Sequential(
            *_conv(1, w, 5, 2),  # 32x32
            *_conv(w, 2 * w, 3, 2),  # 16x16
            *_conv(2 * w, 2 * w, 3),
            nn.MaxPool2d(2),  # 8x8
            *_conv(2 * w, 4 * w, 3),
            *_conv(4 * w, 4 * w, 3),
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
            nn.Linear(4 * w, feature_dim),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Linear(feature_dim, num_classes)

    def _check(self, x: Tensor) -> None:
        if x.dim() != 4 or x.shape[1:] != (1, FRAME_SIZE, FRAME_SIZE):
            raise ValueError(
                f"DigitClassifier expects (B, 1, {FRAME_SIZE}, {FRAME_SIZE}) frames, "
                f"got {tuple(x.shape)}"
            )

    def features(self, x: Tensor) -> Tensor:
        """Penultimate-layer features, shape (B, feature_dim)."""
        self._check(x)
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        """Class logits, shape (B, num_classes)."""
        return self.head(self.features(x))

    def config(self) -> dict:
        return {
            "num_classes": self.num_classes,
            "feature_dim": self.feature_dim,
            "width": self.width,
        }


def load_digit_classifier(
    path: str | Path, map_location: str | torch.device = "cpu"
) -> DigitClassifier:
    """Load a checkpoint written by :mod:`compressai_plf.metrics.build_classifier`.

    The file holds only tensors and plain types and is read with ``weights_only=True``.
    The returned model is in eval mode with gradients disabled.

    Args:
        path: checkpoint file.
        map_location: device to load onto.
    """
    ckpt = load_checkpoint(
        path,
        map_location,
        what="digit classifier checkpoint",
        hint="build it with "
        "`python -m compressai_plf.metrics.build_classifier --mnist-root DIR --out FILE`",
    )
    model = DigitClassifier(**ckpt.get("config", {}))
    try:
        model.load_state_dict(state_dict_of(ckpt, f"digit classifier checkpoint {path}"))
    except RuntimeError as err:  # missing/unexpected keys or shapes: another network's file
        raise CheckpointError(f"{path}: not a digit classifier checkpoint: {err}") from err
    model.eval().requires_grad_(False)
    return model


@torch.no_grad()
def _apply_frames(fn, video: VideoLike, batch_size: int) -> Tensor:
    x = as_video(video)
    n, t = x.shape[:2]
    frames = to_gray(x.flatten(0, 1)).clamp(0, 1)
    out = torch.cat([fn(frames[i : i + batch_size]) for i in range(0, frames.shape[0], batch_size)])
    return out.view(n, t, -1)


def classifier_features(classifier: nn.Module, video: VideoLike, batch_size: int = 512) -> Tensor:
    """Per-frame features, shape (N, T, feature_dim), for
    :func:`~compressai_plf.metrics.frechet.frechet_distance_per_frame` and
    :func:`~compressai_plf.metrics.frechet.frechet_distance_pairs`.

    Args:
        classifier: a :class:`DigitClassifier` (or any module with ``features``), in eval mode.
        video: (N, T, C, H, W) frames in [0, 1] or a list of T (N, C, H, W); RGB is
            converted to luma.
        batch_size: frames per forward pass.
    """
    return _apply_frames(classifier.features, video, batch_size)


def classifier_predictions(
    classifier: nn.Module, video: VideoLike, batch_size: int = 512
) -> Tensor:
    """Predicted class of every frame, int64 shape (N, T)."""
    return _apply_frames(classifier, video, batch_size).argmax(-1)


def classify_frames(
    classifier: nn.Module, video: VideoLike, batch_size: int = 512
) -> tuple[Tensor, Tensor]:
    """Label and confidence of every frame: ``(labels, confidence)``, int64 and float (N, T).

    The confidence is the softmax probability of the label. A label alone hides whether the
    classifier saw a digit at all: on a blurry blob it must still name a class, but with the
    codec-artefact training of :mod:`compressai_plf.metrics.build_classifier` its confidence
    there is low (the realism gate of the evaluation counts frames with confidence >= 0.9).
    """
    prob = _apply_frames(classifier, video, batch_size).softmax(-1)
    confidence, labels = prob.max(-1)
    return labels, confidence
