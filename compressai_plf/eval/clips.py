"""Evaluation clips, read from the datasets registered for evaluation.

Each clip is one "sequence" of the results (CompressAI's eval tool writes one result per
sequence): it is coded into one bitstream with an I-frame first.

Evaluation builds its datasets through ``compressai.registry.DATASETS``, as the trainers do:
a dataset class marked with :func:`~compressai_plf.datasets.eval_split.eval_dataset` names its
evaluation clips, their frame rate and description in its ``eval_split`` classmethod, so a
new dataset is one file under :mod:`compressai_plf.datasets` and this module needs no edit.
The registered ones:

============  ================================================  =====================  =========
``dataset``   clips                                             name                   frame rate
============  ================================================  =====================  =========
``mmnist``    ``MovingMNIST(split="test")``: MNIST t10k digits  ``mmnist-00042``       30 (nominal)
``kth``       ``KTH(split="test")``: persons 21-25              ``<video stem>@<start>``  25
``yuv``       every ``*.yuv`` of the folder, RGB                ``<file stem>[@<start>]`` from the name
============  ================================================  =====================  =========

Moving MNIST has no frame rate; the bit rate in kbit/s assumes the nominal 30 Hz (bits per
pixel and bits per frame are the meaningful units there).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..datasets.eval_split import EvalSplit, eval_dataset_class

__all__ = ["ClipSet", "EvalClip", "clips_for_channels", "load_clips"]


@dataclass
class EvalClip:
    """One evaluation clip.

    Attributes:
        name: sequence name in the per-sequence results.
        frames: ``(T, C, H, W)`` float frames in [0, 1].
        fps: frame rate for the bit rate in kbit/s.
        labels: digit labels ``(num_digits,)`` (Moving MNIST), else ``None``.
    """

    name: str
    frames: Tensor
    fps: float
    labels: Tensor | None = None


class ClipSet:
    """Indexable set of :class:`EvalClip` over one dataset (clips are built on access).

    Args:
        dataset: the evaluation dataset's name, e.g. ``"mmnist"``, ``"kth"`` or ``"yuv"``
            (for the results and the metric suite).
        items: the underlying dataset object.
        names: one name per clip.
        fps: frame rate per clip.
        description: text for the results' description.
        planes: what the frames hold when it is not the data's own form (``"y"``: the luma
            plane of YUV files, for a gray model), else ``None``.
        labelled: items are ``(frames, labels)`` (Moving MNIST's digit labels).
    """

    def __init__(
        self,
        dataset: str,
        items: Any,
        names: list[str],
        fps: list[float],
        description: str = "",
        planes: str | None = None,
        labelled: bool = False,
    ) -> None:
        self.dataset, self.items, self.names, self.fps = dataset, items, names, fps
        self.description, self.planes, self.labelled = description, planes, labelled

    @classmethod
    def from_frames(
        cls, clips: Tensor, fps: float, dataset: str = "frames", description: str = ""
    ) -> ClipSet:
        """Clips already in memory, ``(N, T, C, H, W)`` in [0, 1], named ``clip-00000``...,
        all at ``fps`` frames per second."""
        if not isinstance(clips, Tensor) or clips.dim() != 5:
            raise ValueError("clips must be a (N, T, C, H, W) tensor in [0, 1]")
        n = clips.shape[0]
        names = [f"clip-{k:05d}" for k in range(n)]
        return cls(dataset, clips, names, [float(fps)] * n, description or f"{n} clips")

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> EvalClip:
        if not 0 <= index < len(self):
            raise IndexError(f"clip {index} out of range ({len(self)} clips)")
        item, labels = self.items[index], None
        if self.labelled:  # e.g. MovingMNIST(return_labels=True): (frames, labels)
            item, labels = item
        frames = torch.stack(list(item)).float()
        return EvalClip(self.names[index], frames, self.fps[index], labels)

    def __iter__(self) -> Iterator[EvalClip]:
        for i in range(len(self)):
            yield self[i]


def clips_for_channels(clips: ClipSet, channels: int) -> ClipSet:
    """The clips as a model of ``channels`` channels codes them: unchanged when the channels
    agree; for a gray (1-channel) model on RGB clips whose dataset has a ``luma()`` view (YUV
    files: :meth:`~compressai_plf.datasets.RawYUVFolder.luma`), their luma plane
    (``planes="y"``).

    Raises:
        ValueError: any other channel mismatch (naming both counts).
    """
    have = int(clips[0].frames.shape[1])
    if have == channels:
        return clips
    luma = getattr(clips.items, "luma", None)
    if channels == 1 and have == 3 and callable(luma):
        desc = f"{clips.description}, luma plane (1-channel model)"
        return ClipSet(
            clips.dataset, luma(), clips.names, clips.fps, desc, planes="y", labelled=clips.labelled
        )
    raise ValueError(
        f"the model codes {channels}-channel frames, the {clips.dataset} clips have {have} "
        "channels (only a gray model on YUV files is adapted: it codes the luma plane)"
    )


def load_clips(
    dataset: str,
    data_root: str | os.PathLike | None = None,
    frames: int | None = None,
    max_clips: int | None = None,
    fps: float | None = None,
    dataset_kwargs: Mapping[str, Any] | None = None,
) -> ClipSet:
    """Open the evaluation clips of ``dataset``, built through ``compressai.registry.DATASETS``
    by the registered class's ``eval_split``
    (:mod:`compressai_plf.datasets.eval_split`).

    Args:
        dataset: an evaluation name (``eval_dataset_names()`` of
            :mod:`compressai_plf.datasets.eval_split`, read when called, so a dataset
            registered later is included): ``"mmnist"``, ``"kth"``, ``"yuv"``.
        data_root: MNIST root (``mmnist``), KTH folder (``kth``) or folder of ``.yuv`` files
            (``yuv``); ``None`` uses ``$PLF_DATA_ROOT/mnist`` or ``/kth`` (not for ``yuv``).
        frames: clip length. Default 3 for ``mmnist`` and ``kth``; for ``yuv`` the whole
            sequence (one clip per file) unless given.
        max_clips: evaluate only the first ``max_clips`` clips.
        fps: frame rate for kbit/s (default: 30 nominal for Moving MNIST, 25 for KTH, the
            file name's rate for YUV).
        dataset_kwargs: extra keyword arguments of the dataset class (e.g. KTH ``persons``,
            ``scenarios``; YUV ``max_frames``, ``stride``; Moving MNIST ``seed``).

    Raises:
        ValueError: unknown dataset or bad options.
        FileNotFoundError: the data is missing (the message names what was looked for).
    """
    cls = eval_dataset_class(dataset)
    if max_clips is not None and (not isinstance(max_clips, int) or max_clips < 1):
        raise ValueError(f"max_clips must be a positive integer, got {max_clips!r}")
    if frames is not None and (not isinstance(frames, int) or frames < 1):
        raise ValueError(f"frames must be a positive integer, got {frames!r}")
    split = cls.eval_split(data_root, frames, max_clips, fps, **dict(dataset_kwargs or {}))
    if not isinstance(split, EvalSplit):
        raise TypeError(
            f"{cls.__name__}.eval_split must return an EvalSplit, got {type(split).__name__}"
        )
    names, rates = list(split.names), [float(r) for r in split.fps]
    if len(names) != len(rates) or len(names) > len(split.items):
        raise ValueError(
            f"{cls.__name__}.eval_split gave {len(names)} names, {len(rates)} frame rates and "
            f"{len(split.items)} clips: one name and one rate per clip"
        )
    if max_clips is not None and max_clips < len(names):
        names, rates = names[:max_clips], rates[:max_clips]
    return ClipSet(dataset, split.items, names, rates, split.description, labelled=split.labelled)
