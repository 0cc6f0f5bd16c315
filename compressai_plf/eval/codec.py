"""The codec protocol of the evaluation loop: one clip in, bits and decoded frames per head out.

Every codec the package measures is an adapter of :class:`ClipCodec`: ``ssf_plf`` through the
coded-clip container (:class:`~compressai_plf.eval.container_codec.ContainerCodec`),
CompressAI video models such as ``ssf2020``
(:class:`~compressai_plf.eval.compressai_video.CompressAIVideoCodec`) and the x264/x265
anchors (:class:`~compressai_plf.eval.anchor_codec.AnchorCodec`). One loop,
:func:`~compressai_plf.eval.evaluate.evaluate_codec`, measures them all with one convention:
the rate is the bytes the codec wrote, the frame rate that of the clip set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from torch import Tensor

from .clips import EvalClip

__all__ = ["ClipCodec", "CodedResult"]


@dataclass
class CodedResult:
    """One coded and decoded clip.

    Attributes:
        decoded: head -> decoded frames ``(T, C, H, W)`` in [0, 1], the clip's size; a codec
            with one decoder reports it as ``"mse"`` (the reference head).
        frame_bits: information bits of each frame.
        bytes_written: every byte the codec wrote for the clip (container, stream or
            strings): the rate.
        payload_bits: the coded data only (no container header or checksum).
    """

    decoded: dict[str, Tensor]
    frame_bits: list[float]
    bytes_written: int
    payload_bits: float


class ClipCodec(Protocol):
    """A codec the evaluation loop can measure.

    Attributes:
        label: the rate point's label (the results' ``q`` entry).
        heads: the decoder heads :meth:`code` returns, the reference head ``"mse"`` first
            when there is one.
    """

    label: str
    heads: tuple[str, ...]

    def code(self, clip: EvalClip, index: int) -> CodedResult:
        """Code clip ``index`` of the set and decode it with every head."""
        ...
