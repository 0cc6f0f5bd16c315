"""The coded form of one clip, as ``ScaleSpaceFlowPLF.compress_clip`` produces it.

A typed record instead of CompressAI's nested string lists: per frame its kind, its named
latents (rANS strings in hyperprior mode, quantisation indices in fixed mode) and their
decoder shape, and the fixed-rate dither seed as a field. The model codes into this record
only: ``compress`` converts records to CompressAI's strings and ``decompress`` reads them back
(:mod:`.compressai_strings`, the one place that layout is known), ``compressai_plf.io``
serialises it (it alone knows the container payload layout), and
``ScaleSpaceFlowPLF.decompress_clip`` decodes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

__all__ = ["LATENTS", "CodedClip", "CodedFrame", "CodedLatent"]

#: The latents of each frame kind, in coding order (ScaleSpaceFlow's likelihood names).
LATENTS = {"key": ("keyframe",), "inter": ("motion", "residual")}


@dataclass(frozen=True)
class CodedLatent:
    """One coded latent of one frame.

    Attributes:
        strings: hyperprior mode: the ``(y, z)`` rANS strings.
        symbols: fixed mode: int64 quantisation indices ``(planes, h, w)``, each in
            ``0..levels-1``.
        levels: fixed mode: the quantiser's number of levels ``L``.
    """

    strings: tuple[bytes, ...] = ()
    symbols: Tensor | None = None
    levels: int = 0


@dataclass(frozen=True)
class CodedFrame:
    """One coded frame: ``kind`` ``"key"`` or ``"inter"``, its latents named as in
    :data:`LATENTS`, and the decoder shape ``(h, w)`` they share (z's in hyperprior mode, y's
    in fixed mode)."""

    kind: str
    latents: dict[str, CodedLatent]
    shape: tuple[int, int]

    def __post_init__(self) -> None:
        if self.kind not in LATENTS:
            raise ValueError(f"frame kind must be one of {tuple(LATENTS)}, got {self.kind!r}")
        if tuple(self.latents) != LATENTS[self.kind]:
            raise ValueError(
                f"a {self.kind} frame has latents {LATENTS[self.kind]}, got {tuple(self.latents)}"
            )


@dataclass(frozen=True)
class CodedClip:
    """One coded clip: a key frame, then inter frames.

    Attributes:
        rate_mode: ``"hyperprior"`` or ``"fixed"``.
        frames: the coded frames, in display order.
        seed: fixed mode: the dither seed shared by encoder and decoder; else ``None``.
    """

    rate_mode: str
    frames: tuple[CodedFrame, ...]
    seed: int | None = None

    def __post_init__(self) -> None:
        kinds = [f.kind for f in self.frames]
        if not kinds or kinds[0] != "key" or "key" in kinds[1:]:
            raise ValueError(f"a clip is one key frame then inter frames, got {kinds}")
        if (self.seed is None) != (self.rate_mode != "fixed"):
            raise ValueError("a fixed-rate clip carries a dither seed, a hyperprior clip none")
