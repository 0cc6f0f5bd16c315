"""A classical low-delay-P anchor (x264, x265) as a :class:`~compressai_plf.eval.codec.ClipCodec`:
the rate is the elementary stream's bytes, parameter sets included."""

from __future__ import annotations

from ..anchors.low_delay_p import LowDelayPAnchor
from .clips import EvalClip
from .codec import CodedResult

__all__ = ["AnchorCodec"]


class AnchorCodec:
    """Code each clip as its own stream (its own intra frame and parameter sets).

    Args:
        anchor: the encoder at one quality, e.g. ``X264LowDelayP(quality=26)``.
        label: the rate point's label (default: the anchor's quality).
    """

    heads = ("mse",)

    def __init__(self, anchor: LowDelayPAnchor, label: str | int | None = None) -> None:
        self.anchor = anchor
        self.label = label if label is not None else getattr(anchor, "quality", anchor.name)

    def code(self, clip: EvalClip, index: int) -> CodedResult:
        run = self.anchor.encode_frames(clip.frames, clip.fps)
        if sum(run.frame_bits) != run.bits:
            raise RuntimeError(f"{self.anchor.name}: packet sizes do not add up to the stream size")
        return CodedResult(
            {"mse": run.recon}, [float(b) for b in run.frame_bits], len(run.bitstream), run.bits
        )
