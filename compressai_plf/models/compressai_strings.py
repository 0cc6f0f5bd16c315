"""CompressAI's nested ``(strings, shapes)`` form of coded clips, to and from :class:`CodedClip`.

``ScaleSpaceFlowPLF`` codes into typed records only (:mod:`.coded_clip`); ``compress`` and the
per-frame ``encode_keyframe``/``encode_inter`` hand them to CompressAI's tools in the form of
``ScaleSpaceFlow.compress``, and ``decompress``/``decode_keyframe``/``decode_inter`` read that
form back into records with the functions here. This module alone knows that layout:

* one entry per frame; a key frame's entry is the list of strings lists of its latent, the
  decoder shape ``(h, w)`` its shape; an inter frame's entry is
  ``{"motion": [...], "residual": [...]}``, its shape ``{"motion": (h, w), "residual": (h, w)}``;
* a strings list has one string per clip of the batch;
* hyperprior mode: a latent is ``[y_strings, z_strings]`` (rANS strings);
* fixed mode: a latent is ``[y_strings]``, each string the latent's quantisation indices
  packed by :func:`~.symbol_packing.pack_symbols`; the key frame's entry has a second list,
  ``seed_strings``: CompressAI's form has no other place for the dither seed, so it travels
  as a 4-byte big-endian string per clip (:func:`pack_seed`, :func:`unpack_seed`).

Clips coded in one batch share the fixed-rate dither stream (it is drawn for the whole
batch), so their records decode together; ``ScaleSpaceFlowPLF`` keeps such lists private.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

from .coded_clip import LATENTS, CodedClip, CodedFrame, CodedLatent
from .symbol_packing import pack_symbols, unpack_symbols

__all__ = [
    "SEED_BYTES",
    "clips_from_strings",
    "clips_to_strings",
    "frame_from_strings",
    "frame_to_strings",
    "pack_seed",
    "unpack_seed",
]

#: Bytes of the dither-seed string of a fixed-rate key frame.
SEED_BYTES = 4

#: Fixed mode: ``(planes, levels)`` of each latent by name (:data:`LATENTS`), what unpacking
#: its indices needs; hyperprior mode needs none (``None``).
Formats = Mapping[str, tuple[int, int]] | None


def pack_seed(seed: int) -> bytes:
    """The 4-byte string that carries a fixed-rate dither seed in CompressAI's form."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ValueError(f"a fixed-rate dither seed is an int in [0, 2**32), got {seed!r}")
    return struct.pack(">I", seed)


def unpack_seed(data: Any) -> int:
    """Inverse of :func:`pack_seed`; ``ValueError`` for anything but 4 bytes."""
    if not isinstance(data, (bytes, bytearray)) or len(data) != SEED_BYTES:
        got = f"{len(data)} bytes" if isinstance(data, (bytes, bytearray)) else type(data).__name__
        raise ValueError(
            f"fixed-rate keyframe seed string is damaged: {SEED_BYTES} bytes, got {got}"
        )
    return struct.unpack(">I", bytes(data))[0]


# ---------------------------------------------------------------------- records to strings
def _latent_strings(latents: Sequence[CodedLatent], rate_mode: str) -> list[list[bytes]]:
    if rate_mode == "fixed":
        return [[pack_symbols(lat.symbols, lat.levels) for lat in latents]]
    return [[lat.strings[0] for lat in latents], [lat.strings[1] for lat in latents]]


def frame_to_strings(
    frames: Sequence[CodedFrame], rate_mode: str, seed: int | None = None
) -> tuple[Any, Any]:
    """``(strings, shape)`` of one frame of a batch of clips (``frames``: that frame of each
    clip, all of one kind and shape); ``seed``: a fixed-rate key frame's dither seed."""
    kind, shape = frames[0].kind, tuple(frames[0].shape)
    if any(f.kind != kind or tuple(f.shape) != shape for f in frames):
        raise ValueError("the clips of a batch must have frames of one kind and shape")
    strings = {
        name: _latent_strings([f.latents[name] for f in frames], rate_mode)
        for name in LATENTS[kind]
    }
    if kind == "inter":
        return strings, {name: shape for name in LATENTS[kind]}
    key = strings["keyframe"]
    if rate_mode == "fixed":
        key.append([pack_seed(seed)] * len(frames))
    return key, shape


def clips_to_strings(clips: Sequence[CodedClip]) -> tuple[list, list]:
    """CompressAI's ``(strings, shapes)`` of the clips of one batch (as
    ``ScaleSpaceFlow.compress``: one entry per frame, one string per clip)."""
    first = clips[0]
    if any(c.rate_mode != first.rate_mode or c.seed != first.seed for c in clips):
        raise ValueError("the clips of a batch share one rate mode and dither seed")
    if any(len(c.frames) != len(first.frames) for c in clips):
        raise ValueError("the clips of a batch must have the same number of frames")
    strings, shapes = [], []
    for t in range(len(first.frames)):
        s, shape = frame_to_strings([c.frames[t] for c in clips], first.rate_mode, first.seed)
        strings.append(s)
        shapes.append(shape)
    return strings, shapes


# ---------------------------------------------------------------------- strings to records
def _string_lists(value: Any, count: int, what: str) -> list[list]:
    if not isinstance(value, (list, tuple)) or len(value) != count:
        raise ValueError(f"{what} must be a list of {count} strings list(s)")
    for strings in value:
        if not isinstance(strings, (list, tuple)) or not strings:
            raise ValueError(f"{what}: each strings list must be a non-empty list of bytes")
    if len({len(s) for s in value}) != 1:
        raise ValueError(f"{what}: every strings list must have one entry per clip of the batch")
    return [list(s) for s in value]


def _latents_from_strings(
    value: Any, shape: tuple[int, int], rate_mode: str, fmt: tuple[int, int] | None, what: str
) -> list[CodedLatent]:
    if rate_mode == "fixed":
        (y_strings,) = _string_lists(value, 1, f"{what} (fixed rate: [y_strings])")
        planes, levels = fmt
        count = planes * shape[0] * shape[1]
        out = []
        for s in y_strings:
            if not isinstance(s, (bytes, bytearray)):
                raise ValueError(f"{what} strings must be bytes, got {type(s).__name__}")
            symbols = unpack_symbols(bytes(s), count, levels).long()
            out.append(CodedLatent(symbols=symbols.view(planes, *shape), levels=levels))
        return out
    y_strings, z_strings = _string_lists(value, 2, f"{what} (hyperprior: [y_strings, z_strings])")
    return [CodedLatent(strings=(y, z)) for y, z in zip(y_strings, z_strings, strict=True)]


def frame_from_strings(
    kind: str, strings: Any, shape: Any, rate_mode: str, formats: Formats
) -> tuple[list[CodedFrame], int | None]:
    """One frame of a batch in CompressAI's form as ``(frames, seed)``: the frame of each clip
    and, for a fixed-rate key frame, the dither seed (else ``None``). ``shape`` must already
    be checked to be two positive ints (the caller bounds what it allocates)."""
    seed = None
    if kind == "key":
        if rate_mode == "fixed":
            if not isinstance(strings, (list, tuple)) or len(strings) != 2 or not strings[1]:
                raise ValueError("fixed-rate keyframe must carry [y_strings, seed_strings]")
            y_strings, seed_strings = strings
            if not isinstance(y_strings, (list, tuple)) or len(y_strings) != len(seed_strings):
                raise ValueError(
                    "fixed-rate keyframe must carry one y string and one seed string per clip"
                )
            seeds = {unpack_seed(s) for s in seed_strings}
            if len(seeds) != 1:
                raise ValueError("the seed strings of a batch differ: the clips share one seed")
            (seed,) = seeds
            strings = [y_strings]
        shapes = {"keyframe": shape}
        per_latent = {"keyframe": strings}
    else:
        if not isinstance(strings, Mapping) or not isinstance(shape, Mapping):
            raise TypeError(
                "a P-frame's strings and shape must be dicts keyed 'motion' and 'residual', got "
                f"{type(strings).__name__} and {type(shape).__name__}"
            )
        for name in LATENTS[kind]:
            if name not in strings or name not in shape:
                raise ValueError(f"P-frame strings lack the {name!r} latent")
        shapes = {name: tuple(shape[name]) for name in LATENTS[kind]}
        if len(set(shapes.values())) != 1:
            raise ValueError(f"a P-frame's latents share one decoder shape, got {shapes}")
        per_latent = {name: strings[name] for name in LATENTS[kind]}
    frame_shape = tuple(int(v) for v in next(iter(shapes.values())))
    latents = {
        name: _latents_from_strings(
            value, frame_shape, rate_mode, None if formats is None else formats[name], name
        )
        for name, value in per_latent.items()
    }
    clips = len(next(iter(latents.values())))
    if any(len(v) != clips for v in latents.values()):
        raise ValueError("every latent of a frame must have one string per clip of the batch")
    frames = [
        CodedFrame(kind, {name: latents[name][b] for name in LATENTS[kind]}, frame_shape)
        for b in range(clips)
    ]
    return frames, seed


def clips_from_strings(
    strings: Any, shapes: Any, rate_mode: str, formats: Formats
) -> list[CodedClip]:
    """The records of the clips of one batch in CompressAI's ``(strings, shapes)`` form
    (inverse of :func:`clips_to_strings`). ``shapes`` must already be checked to be pairs of
    positive ints (the caller bounds what it allocates)."""
    if not isinstance(strings, (list, tuple)) or not isinstance(shapes, (list, tuple)):
        raise TypeError("strings and shapes must be lists with one entry per frame")
    if len(strings) != len(shapes) or len(strings) == 0:
        raise ValueError(
            f"strings and shapes must have the same non-zero length, got "
            f"{len(strings)} and {len(shapes)}"
        )
    per_frame: list[list[CodedFrame]] = []
    seed = None
    for t, (s, shape) in enumerate(zip(strings, shapes, strict=True)):
        try:
            frames, frame_seed = frame_from_strings(
                "key" if t == 0 else "inter", s, shape, rate_mode, formats
            )
        except (ValueError, TypeError) as err:
            raise type(err)(f"frame {t}: {err}") from err
        if t == 0:
            seed = frame_seed
        elif len(frames) != len(per_frame[0]):
            raise ValueError(
                f"frame {t} has strings of {len(frames)} clips, frame 0 of {len(per_frame[0])}"
            )
        per_frame.append(frames)
    return [
        CodedClip(rate_mode, tuple(f[b] for f in per_frame), seed) for b in range(len(per_frame[0]))
    ]
