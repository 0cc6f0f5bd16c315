"""``ssf_plf`` as a :class:`~compressai_plf.eval.codec.ClipCodec`: every clip is written to
a coded-clip file (:func:`compressai_plf.io.write_clip`) and that file is decoded with every
head in one pass (:func:`compressai_plf.io.read_clip_heads`)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..io import frame_bits, read_clip_heads, weights_hash, write_clip
from ..models.ssf_plf import ScaleSpaceFlowPLF
from ..plfs import head_names
from .clips import EvalClip
from .codec import CodedResult

__all__ = ["ContainerCodec", "safe_name"]


def safe_name(name: str) -> str:
    """File-name-safe form of a clip or model label."""
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", name).strip("_") or "clip"


class ContainerCodec:
    """Code clips with a ``ScaleSpaceFlowPLF`` into real container files.

    Args:
        model: the codec (updated, eval mode).
        label: the rate point's label.
        heads: decoder heads (default: every head of the model).
        bitstream_dir: keep the coded clips there; ``None``: a temporary folder, each file
            deleted once decoded (call :meth:`close` when done).
        iframe_sampler: ``(model, frame0 (1, C, H, W), dither seed, clip index) -> frame``
            whose frame every perceptual head shows as frame 0 and continues (e.g.
            :func:`~compressai_plf.eval.evaluate.posterior_iframe_decoder`).
    """

    def __init__(
        self,
        model: ScaleSpaceFlowPLF,
        label: str,
        heads: Sequence[str] | None = None,
        bitstream_dir: str | os.PathLike | None = None,
        iframe_sampler: Any = None,
    ) -> None:
        self.model, self.label = model.eval(), label
        self.heads = resolve_heads(model, heads, label)
        self.iframe_sampler = iframe_sampler
        self.digest = weights_hash(model)  # once per model: every clip is coded and read with it
        self._tmp = None
        if bitstream_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="plf-eval-")
            self.folder = Path(self._tmp.name)
        else:
            self.folder = Path(bitstream_dir)
            self.folder.mkdir(parents=True, exist_ok=True)

    def code(self, clip: EvalClip, index: int) -> CodedResult:
        model, x = self.model, clip.frames
        if x.shape[1] != model.channels:
            raise ValueError(
                f"model {self.label!r} codes {model.channels}-channel frames, clip {clip.name} "
                f"has {x.shape[1]} (for gray datasets pass dataset_kwargs={{'channels': 3}})"
            )
        path = self.folder / f"{safe_name(clip.name)}.plf"
        info = write_clip(path, model, x, digest=self.digest)
        written = path.stat().st_size  # bits counted from what was written
        if written != info.file_bytes:
            raise RuntimeError(f"{path}: {written} bytes on disk, header says {info}")
        iframe = None
        if self.iframe_sampler is not None:
            iframe = self.iframe_sampler(model, x[:1], info.seed, index)
        # one MMSE chain for all heads
        decoded = read_clip_heads(path, model, self.heads, iframe, digest=self.digest)
        if self._tmp is not None:
            path.unlink()
        return CodedResult(
            {h: torch.cat(f).cpu().clamp(0, 1) for h, f in decoded.items()},
            frame_bits(model, info),
            written,
            info.payload_bits,
        )

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


def resolve_heads(
    model: ScaleSpaceFlowPLF, heads: Sequence[str] | None, label: str
) -> tuple[str, ...]:
    """The heads to decode, in the standard order; every one must be the model's."""
    if heads is None:
        return tuple(model.decoders)
    missing = [h for h in heads if h not in model.decoders]
    if missing:
        raise ValueError(f"model {label!r} has decoder heads {list(model.decoders)}, not {missing}")
    known = head_names()
    return tuple([h for h in known if h in heads] + [h for h in heads if h not in known])
