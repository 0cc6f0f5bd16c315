"""Which registered datasets ``compressai_plf.eval`` can measure, and how each names its clips.

Evaluation builds every dataset through ``compressai.registry.DATASETS``, as the trainers do. A
dataset class offers itself to evaluation in its own file, with two decorators and one
classmethod, and evaluation needs no edit::

    @eval_dataset("mine")               # python -m compressai_plf.eval --dataset mine
    @register_dataset("MyDataset")      # CompressAI's registry (training: --dataset MyDataset)
    class MyDataset(Dataset):
        @classmethod
        def eval_split(cls, root, frames, max_clips, fps, **kwargs) -> EvalSplit:
            items = cls(root=root, split="test", frames=frames or 3, **kwargs)
            names = [f"mine-{k:05d}" for k in range(len(items))]
            return EvalSplit(items, names, [fps or 25.0] * len(names), "my test clips")

``eval_split`` is called on the class the registry holds under the registered name at call
time, with the evaluation options (``frames`` and ``fps`` are ``None`` when not given;
``max_clips`` is a hint, the clip list is cut to it afterwards anyway) and the user's dataset
options as keyword arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from compressai.registry import DATASETS

__all__ = ["EVAL_DATASETS", "EvalSplit", "eval_dataset", "eval_dataset_class", "eval_dataset_names"]

#: Evaluation name (``--dataset`` of ``python -m compressai_plf.eval``) -> name registered in
#: ``compressai.registry.DATASETS``; filled by :func:`eval_dataset`.
EVAL_DATASETS: dict[str, str] = {}

T = TypeVar("T")


@dataclass
class EvalSplit:
    """The evaluation clips of one dataset.

    Attributes:
        items: the dataset object; item ``k`` is a tuple of ``(C, H, W)`` frames in [0, 1], or
            ``(frames, labels)`` when ``labelled``.
        names: one name per clip (the per-sequence results' names).
        fps: frame rate per clip, for the bit rate in kbit/s.
        description: text for the results' description.
        labelled: items carry digit labels (``(frames, labels)``).
    """

    items: Sequence[Any]
    names: list[str]
    fps: list[float]
    description: str
    labelled: bool = False


def eval_dataset(name: str) -> Callable[[T], T]:
    """Class decorator: evaluate the registered dataset class under ``name``. Apply it above
    ``@register_dataset(...)``; the class must define the classmethod ``eval_split``.

    Raises:
        TypeError: the class is not in ``compressai.registry.DATASETS`` or has no
            ``eval_split``.
        ValueError: ``name`` already names another registered dataset.
    """

    def decorate(cls: T) -> T:
        registered = [k for k, v in DATASETS.items() if v is cls]
        if not registered:
            raise TypeError(
                f"{cls.__name__} is not registered; put @eval_dataset({name!r}) above "
                "@register_dataset(...)"
            )
        if not callable(getattr(cls, "eval_split", None)):
            raise TypeError(f"{cls.__name__} has no eval_split classmethod")
        if EVAL_DATASETS.get(name, registered[0]) != registered[0]:
            raise ValueError(f"evaluation dataset {name!r} is already {EVAL_DATASETS[name]}")
        EVAL_DATASETS[name] = registered[0]
        return cls

    return decorate


def eval_dataset_names() -> tuple[str, ...]:
    """The evaluation names of the registered datasets, in registration order."""
    return tuple(EVAL_DATASETS)


def eval_dataset_class(name: str) -> Any:
    """The class the registry holds now for evaluation dataset ``name``.

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    if name not in EVAL_DATASETS or EVAL_DATASETS[name] not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from {eval_dataset_names()}")
    return DATASETS[EVAL_DATASETS[name]]
