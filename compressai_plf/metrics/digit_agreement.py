"""Digit agreement: does the reconstruction still show the source's digit?

At low I-frame rates a PLF-JD decoder may draw a realistic but wrong digit and keep it in all
later frames (error permanence, https://arxiv.org/abs/2305.19301); PLF-FMD can correct it
frame by frame. The share of reconstructed frames a digit classifier labels as the source digit,
per frame index, measures this directly.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torch import Tensor

from ._video import VideoLike, as_video_pair, check_reduction
from .digit_classifier import classifier_predictions


def digit_agreement_per_frame(
    classifier: nn.Module,
    source: VideoLike,
    recon: VideoLike,
    labels: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Share of reconstructed frames labelled as the source digit, per frame index.

    Args:
        classifier: digit classifier in eval mode (e.g. from
            :func:`~compressai_plf.metrics.digit_classifier.load_digit_classifier`).
        source: source frames in [0, 1], (N, T, C, H, W) or a list of T (N, C, H, W).
        recon: reconstructed frames, same shape.
        labels: true digit of each clip, shape (N,). When ``None``, the classifier's label of
            the source frame at the same index is the reference.
        reduction: ``"mean"`` returns the agreement rate per frame, shape (T,); ``"none"``
            returns a float (N, T) tensor of 0/1 hits.
    """
    check_reduction(reduction)
    x, x_hat = as_video_pair(source, recon)
    pred = classifier_predictions(classifier, x_hat)
    if labels is None:
        ref = classifier_predictions(classifier, x)
    else:
        labels = torch.as_tensor(labels)
        if labels.shape != (x.shape[0],):
            raise ValueError(f"labels must have shape ({x.shape[0]},), got {tuple(labels.shape)}")
        ref = labels.to(pred.device).long().view(-1, 1).expand_as(pred)
    hits = (pred == ref).float()
    return hits.mean(dim=0) if reduction == "mean" else hits
