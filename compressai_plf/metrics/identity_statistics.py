"""Digit-identity statistics that test the PLF paper's claims, per frame.

Error permanence (Salehkalaibar et al., NeurIPS 2023, https://arxiv.org/abs/2305.19301) is
about a decoder *keeping its own wrong first digit*: with a low-rate I-frame a realistic
decoder must often draw a wrong digit, and a PLF-JD decoder has to continue it, while PLF-FMD
(and PLF-SA, https://arxiv.org/abs/2502.10628) may return to the transmitted digit. Agreement
with the source alone cannot show that; these statistics compare each decoded frame with the
same decoder's frame 0 and condition on frame 0 being wrong. The realism statistics tell a
confidently drawn digit from a blob.

All inputs are the digit classifier's labels and confidences of decoded frames
(:func:`~compressai_plf.metrics.digit_classifier.classify_frames`), ``(N, T)``, and the true
digit of each clip, ``(N,)``.

Per clip and frame (:func:`identity_hits`; NaN where a statistic is not defined, so that a
NaN-skipping mean over clips gives the conditional share):

* ``digit-accuracy``: the frame's class is the source digit;
* ``self-consistency``: the frame's class is the class of the same decoder's frame 0;
* ``permanence``: defined on clips whose frame-0 class is wrong: the frame keeps that class;
* ``correction``: defined on the same clips: the frame's class is the source digit;
* ``confident``: the classifier's confidence is at least ``confident`` (0.9).

Over a set of clips (:func:`class_tv_distance`): the total-variation distance between the
histogram of predicted classes and that of the true classes at each frame.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "CONFIDENT",
    "IDENTITY_METRICS",
    "class_tv_distance",
    "identity_hits",
    "identity_summary",
]

#: Confidence from which a frame counts as a recognisable digit (the realism gate).
CONFIDENT = 0.9

#: Per-clip statistics of :func:`identity_hits`, in results-key spelling.
IDENTITY_METRICS = ("digit-accuracy", "self-consistency", "permanence", "correction", "confident")

#: Statistics whose clip value is the last frame's (the others: the mean over frames).
LAST_FRAME_METRICS = ("permanence", "correction")


def _check(labels: Tensor, confidence: Tensor | None, true: Tensor) -> Tensor:
    if labels.dim() != 2:
        raise ValueError(f"labels must be (N, T) classes, got shape {tuple(labels.shape)}")
    if confidence is not None and confidence.shape != labels.shape:
        raise ValueError(
            f"confidence {tuple(confidence.shape)} must match labels {tuple(labels.shape)}"
        )
    true = torch.as_tensor(true).reshape(-1).long().to(labels.device)
    if true.shape != (labels.shape[0],):
        raise ValueError(
            f"need one true digit per clip ({labels.shape[0]}), got {tuple(true.shape)}"
        )
    return true


def identity_hits(
    labels: Tensor, confidence: Tensor, true: Tensor, confident: float = CONFIDENT
) -> dict[str, Tensor]:
    """Per clip and frame, the statistics of :data:`IDENTITY_METRICS` as float64 ``(N, T)``
    tensors of 0/1, NaN where undefined (permanence and correction on clips whose frame 0 is
    right).

    Args:
        labels: predicted class of every decoded frame, ``(N, T)``.
        confidence: the classifier's probability of that class, ``(N, T)``.
        true: the source digit of each clip, ``(N,)``.
        confident: confidence threshold of ``confident``.
    """
    true = _check(labels, confidence, true)
    first = labels[:, :1]
    wrong = (first != true.view(-1, 1)).expand_as(labels)
    nan = torch.full(labels.shape, math.nan, dtype=torch.float64, device=labels.device)
    right = (labels == true.view(-1, 1)).double()
    return {
        "digit-accuracy": right,
        "self-consistency": (labels == first).double(),
        "permanence": torch.where(wrong, (labels == first).double(), nan),
        "correction": torch.where(wrong, right, nan),
        "confident": (confidence >= confident).double(),
    }


def class_tv_distance(labels: Tensor, true: Tensor, num_classes: int = 10) -> list[float]:
    """Total-variation distance ``0.5 * sum_k |p_k - q_k|`` between the histogram of predicted
    classes ``p`` (at each frame) and that of the true classes ``q``: 0 when the decoder draws
    each digit as often as the source shows it, 1 when they share no class.

    Args:
        labels: predicted classes ``(N, T)``.
        true: true digit of each clip ``(N,)``.
        num_classes: number of classes.

    Returns:
        One distance per frame (length T).
    """
    true = _check(labels, None, true)
    q = torch.bincount(true, minlength=num_classes).double() / true.numel()
    out = []
    for t in range(labels.shape[1]):
        p = torch.bincount(labels[:, t], minlength=num_classes).double() / labels.shape[0]
        out.append(float(0.5 * (p - q).abs().sum()))
    return out


def identity_summary(
    labels: Tensor, confidence: Tensor, true: Tensor, confident: float = CONFIDENT
) -> dict[str, list[float]]:
    """The set-level statistics per frame: the NaN-skipping mean over clips of each
    :func:`identity_hits` entry (NaN where no clip defines it) and ``class-tv``."""
    hits = identity_hits(labels, confidence, true, confident)
    out = {k: v.nanmean(0).tolist() for k, v in hits.items()}
    out["class-tv"] = class_tv_distance(labels, true)
    return out
