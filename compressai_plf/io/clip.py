"""Write and read one coded clip: ``write_clip``, ``read_clip`` and their in-memory forms.

A clip is coded by a ``ScaleSpaceFlowPLF`` (``compressai_plf.models``) and stored in the
container of ``container.py`` (specified in ``docs/bitstream.md``). Reading checks, before any
entropy decoding: magic, length, checksum (header and payload), version, architecture, rate
mode and the encoder-side weights hash, then that every shape and length agrees with the model.
Damaged data is therefore never handed to CompressAI's rANS decoder, which does not check its
input; every rejection is a :class:`~compressai_plf.io.errors.BitstreamError` naming the
problem.
"""

from __future__ import annotations

import os
import stat
import struct
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from compressai.registry import MODELS
from torch import Tensor

from ..models.coded_clip import LATENTS, CodedClip, CodedFrame, CodedLatent
from ..models.ssf_plf import ScaleSpaceFlowPLF
from ..models.symbol_packing import pack_runs, packed_bits, packed_bits_estimate, unpack_runs
from .clip_frames import check_as_given, clip_frames, crop_frames, pad_frames, padded_size
from .container import (
    CRC_BYTES,
    HASH_BYTES,
    MAGIC,
    MAX_FILE_BYTES,
    PREFIX_BYTES,
    ClipInfo,
    pack_clip,
    parse_clip,
)
from .errors import CorruptClipError, ModelMismatchError, NotAClipError, TruncatedClipError
from .weights_hash import weights_hash

PathLike = str | os.PathLike


# ---------------------------------------------------------------------- checks
def _check_model(model: object) -> str:
    """Registered architecture name of ``model``; TypeError for anything unsupported."""
    if not isinstance(model, ScaleSpaceFlowPLF):
        raise TypeError(
            f"model must be a ScaleSpaceFlowPLF (registered 'ssf_plf'), got {type(model).__name__}"
        )
    for name, cls in MODELS.items():
        if cls is type(model):
            return name
    raise TypeError(f"model class {type(model).__name__} is not in compressai.registry.MODELS")


def _check_decoder(model: ScaleSpaceFlowPLF, decoder: object) -> None:
    if not isinstance(decoder, str) or decoder not in model.decoders:
        raise ValueError(f"unknown decoder head {decoder!r}; this model has {list(model.decoders)}")


def _check_path(path: object) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory, expected a clip file")
    return path


def _model_place(model: ScaleSpaceFlowPLF) -> tuple[torch.device, torch.dtype]:
    p = next(model.parameters())
    return p.device, p.dtype


def latent_size(model: ScaleSpaceFlowPLF, height: int, width: int) -> tuple[int, int]:
    """Decoder shape of a ``height x width`` frame: z's (hyperprior) or y's (fixed)."""
    ph, pw = padded_size(height, width, model.size_multiple)
    depth = model.stages + (model.hyper_stages if model.rate_mode == "hyperprior" else 0)
    return ph >> depth, pw >> depth


def _coders(model: ScaleSpaceFlowPLF, kind: str) -> list:
    """The latent coders of a frame kind, in the payload's order (:data:`LATENTS`)."""
    by_name = {
        "keyframe": model.keyframe_coder,
        "motion": model.motion_coder,
        "residual": model.residual_coder,
    }
    return [by_name[name] for name in LATENTS[kind]]


def _kinds(frames: int) -> list[str]:
    return ["key"] + ["inter"] * (frames - 1)


def _fixed_layout(model: ScaleSpaceFlowPLF, frames: int, latent: tuple[int, int]):
    """Runs ``(count, levels)`` of a fixed-rate payload: every latent of every frame, in
    coding order."""
    area = latent[0] * latent[1]
    return [(c.planes * area, c.levels) for kind in _kinds(frames) for c in _coders(model, kind)]


def frame_bits(model: ScaleSpaceFlowPLF, info: ClipInfo) -> list[float]:
    """Payload bits of each frame of a coded clip.

    Hyperprior mode: 8 x the bytes of the frame's rANS strings. Fixed mode: the information
    content ``sum log2 L`` of the frame's quantization indices; the clip's ``payload_bits``
    is their sum rounded up once per clip (equal to it when every ``L`` is a power of two).
    """
    if info.rate_mode == "hyperprior":
        lengths = iter(info.string_lengths)  # (y, z) per latent, in payload order
        return [
            8.0 * sum(next(lengths) for _ in range(2 * len(LATENTS[kind])))
            for kind in _kinds(info.frames)
        ]
    return [
        sum(c.bits((1, c.planes, *info.latent_size)) for c in _coders(model, kind))
        for kind in _kinds(info.frames)
    ]


# ---------------------------------------------------------------------- encoding
def encode_clip(
    model: ScaleSpaceFlowPLF,
    frames: Tensor | Sequence[Tensor],
    seed: int | None = None,
    digest: bytes | None = None,
) -> bytes:
    """Code one clip into container bytes (see :func:`write_clip`)."""
    arch = _check_model(model)
    if seed is not None:
        if model.rate_mode != "fixed":
            raise ValueError("seed applies to rate_mode='fixed' only (hyperprior has no dither)")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            raise ValueError(f"dither seed must be an int in [0, 2**32), got {seed!r}")
    clip = clip_frames(frames)
    check_as_given(model.channels, clip)  # first, so errors describe the caller's frames
    height, width = clip[0].shape[-2:]
    device, dtype = _model_place(model)
    padded = pad_frames([x.to(device=device, dtype=dtype) for x in clip], model.size_multiple)
    with torch.no_grad():
        coded = model.compress_clip(padded, seed=seed)  # re-checks the padded, cast frames
    latent = latent_size(model, height, width)
    if any(f.shape != latent for f in coded.frames):  # guards this module against model changes
        raise RuntimeError(f"model returned latent shapes {[f.shape for f in coded.frames]}")
    latents = [f.latents[name] for f in coded.frames for name in LATENTS[f.kind]]
    if model.rate_mode == "hyperprior":
        parts = [string for lat in latents for string in lat.strings]
        payload, lengths = b"".join(parts), tuple(len(p) for p in parts)
        bits = 8 * len(payload)
    else:
        layout = _fixed_layout(model, len(clip), latent)
        runs = [(lat.symbols.numpy().reshape(-1), lat.levels) for lat in latents]
        payload, lengths, bits = pack_runs(runs), (), packed_bits(layout)
    info = ClipInfo(
        arch=arch,
        weights_hash="",
        rate_mode=model.rate_mode,
        channels=model.channels,
        frames=len(clip),
        height=height,
        width=width,
        latent_size=latent,
        seed=coded.seed,
        payload_bits=bits,
        string_lengths=lengths,
    )
    return pack_clip(info, digest or weights_hash(model), payload)


# ---------------------------------------------------------------------- decoding
def _check_identity(
    info: ClipInfo, model: ScaleSpaceFlowPLF, arch: str, digest: bytes | None
) -> None:
    if info.arch != arch:
        raise ModelMismatchError(
            f"bitstream was encoded by architecture {info.arch!r}, this model is {arch!r}"
        )
    if info.rate_mode != model.rate_mode:
        raise ModelMismatchError(
            f"bitstream uses rate mode {info.rate_mode!r}, this model uses {model.rate_mode!r}"
        )
    if info.channels != model.channels:
        raise ModelMismatchError(
            f"bitstream has {info.channels}-channel frames, this model codes {model.channels}"
        )
    ours = (digest or weights_hash(model))[:HASH_BYTES].hex()
    if info.weights_hash != ours:
        raise ModelMismatchError(
            f"bitstream was encoded with weights {info.weights_hash}, this model has {ours}"
        )


def _coded_clip(info: ClipInfo, payload: bytes, model: ScaleSpaceFlowPLF) -> CodedClip:
    """The :class:`CodedClip` of a verified container's payload (the payload layout is this
    module's: every latent of every frame in coding order)."""
    latent = latent_size(model, info.height, info.width)
    if info.latent_size != latent:
        raise CorruptClipError(
            f"header latent size {info.latent_size} does not match {latent}, the size this "
            f"model gives {info.height}x{info.width} frames"
        )
    kinds = _kinds(info.frames)
    if info.rate_mode == "hyperprior":
        parts, pos = [], 0
        for n in info.string_lengths:
            parts.append(payload[pos : pos + n])
            pos += n
        if any(len(p) == 0 for p in parts):
            raise CorruptClipError("an entropy-coded string is empty")
        pairs = iter(zip(parts[0::2], parts[1::2], strict=True))
        coded = [CodedLatent(strings=next(pairs)) for kind in kinds for _ in LATENTS[kind]]
    else:
        # Per-frame estimate first: a header declaring 2**20 frames over a few bytes is
        # refused before a 2**21-run layout (or a big integer) is built.
        area = latent[0] * latent[1]
        key, inter = (
            packed_bits_estimate([(c.planes * area, c.levels) for c in _coders(model, kind)])
            for kind in ("key", "inter")
        )
        estimate = key + (info.frames - 1) * inter
        if abs(estimate - info.payload_bits) > 1 + 1e-9 * estimate:
            raise CorruptClipError(
                f"header says {info.payload_bits} payload bits, {info.frames} frames of this "
                f"model need about {estimate:.0f}"
            )
        layout = _fixed_layout(model, info.frames, latent)
        if info.payload_bits != packed_bits(layout):
            raise CorruptClipError(
                f"header says {info.payload_bits} payload bits, the model's layout needs "
                f"{packed_bits(layout)}"
            )
        try:
            runs = unpack_runs(payload, layout)
        except ValueError as err:
            raise CorruptClipError(f"fixed-rate payload is damaged: {err}") from err
        coders = [c for kind in kinds for c in _coders(model, kind)]
        coded = [
            CodedLatent(
                symbols=torch.from_numpy(np.ascontiguousarray(r, dtype=np.int64)).view(
                    c.planes, *latent
                ),
                levels=c.levels,
            )
            for r, c in zip(runs, coders, strict=True)
        ]
    latents = iter(coded)
    frames = tuple(
        CodedFrame(kind, {name: next(latents) for name in LATENTS[kind]}, latent) for kind in kinds
    )
    return CodedClip(info.rate_mode, frames, info.seed)


def decode_clip(data: bytes, model: ScaleSpaceFlowPLF, decoder: str = "mse") -> list[Tensor]:
    """Decode container bytes (see :func:`read_clip`)."""
    return decode_clip_heads(data, model, (decoder,))[decoder]


def decode_clip_heads(
    data: bytes,
    model: ScaleSpaceFlowPLF,
    decoders: Sequence[str] | None = None,
    iframe: Tensor | None = None,
    digest: bytes | None = None,
) -> dict[str, list[Tensor]]:
    """Decode container bytes with several heads at once (see :func:`read_clip_heads`)."""
    arch = _check_model(model)
    names = tuple(model.decoders if decoders is None else decoders)
    for name in names:
        _check_decoder(model, name)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    info, payload = parse_clip(data)
    _check_identity(info, model, arch, digest)
    coded = _coded_clip(info, payload, model)
    try:
        with torch.no_grad():
            frames = model.decompress_clip(coded, names, iframe=iframe)
    except (ValueError, RuntimeError) as err:
        # Unreachable for data this module wrote (the checksum passed): the header and
        # payload were forged consistently. Report it as damage rather than a decoder error.
        raise CorruptClipError(f"payload does not decode with this model: {err}") from err
    # Displayed frames lie in [0, 1], as the eval tools show them; a forged payload can decode
    # to any value (e.g. -1.7e6).
    return {
        name: [x.clamp_(0.0, 1.0) for x in crop_frames(f, info.height, info.width)]
        for name, f in frames.items()
    }


def inspect_clip(source: PathLike | bytes) -> ClipInfo:
    """Verify a clip's envelope (magic, length, checksum, version) and return its header."""
    data = source if isinstance(source, (bytes, bytearray)) else _read(_check_path(source))
    return parse_clip(data)[0]


# ---------------------------------------------------------------------- files
def _read(path: Path) -> bytes:
    """The file's bytes, read only up to the length its header declares.

    Only regular files are read (a FIFO could block forever, a device never end); a foreign
    file is refused after 4 bytes, and a file shorter than its declared length before its
    payload is read, so no header can make the reader allocate more than the file holds.
    """
    # O_NONBLOCK: opening a FIFO without a writer would otherwise block before the check.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # FileNotFoundError names the path
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotAClipError(f"{path} is not a regular file (a pipe, device or socket)")
        os.set_blocking(fd, True)
        head = f.read(PREFIX_BYTES)
        if len(head) < PREFIX_BYTES or not head.startswith(MAGIC):
            parse_clip(head)  # raises NotAClipError (foreign) or TruncatedClipError (short)
            raise TruncatedClipError(f"clip is truncated: only {len(head)} bytes")
        (total,) = struct.unpack_from(">I", head, len(MAGIC) + 1)
        if st.st_size < total:
            raise TruncatedClipError(
                f"clip is truncated (or its length field is damaged): {st.st_size} bytes, "
                f"header declares {total}"
            )
        if total > MAX_FILE_BYTES or total < PREFIX_BYTES + CRC_BYTES:
            raise CorruptClipError(f"clip header declares an impossible length {total}")
        data = head + _read_exactly(f, total - len(head))
        if st.st_size > total:
            parse_clip(data)  # damage is reported as damage (checksum) first
            raise CorruptClipError(
                f"clip has {st.st_size - total} unexpected bytes after its declared end ({total})"
            )
        return data


def _read_exactly(f, n: int, chunk: int = 1 << 24) -> bytes:
    """``n`` bytes in bounded reads; a file that shrank meanwhile is truncated."""
    out = bytearray()
    while len(out) < n:
        block = f.read(min(chunk, n - len(out)))
        if not block:
            raise TruncatedClipError(f"clip is truncated: ended after {len(out)} of {n} bytes")
        out += block
    return bytes(out)


def write_clip(
    path: PathLike,
    model: ScaleSpaceFlowPLF,
    frames: Tensor | Sequence[Tensor],
    seed: int | None = None,
    digest: bytes | None = None,
) -> ClipInfo:
    """Code one clip with ``model`` and write it to ``path``.

    Frames of any size are accepted: they are padded to ``model.size_multiple`` (replicating
    the border) and the original size is stored so :func:`read_clip` crops them back. The file
    is written to a temporary name and renamed, so ``path`` never holds a partial clip.

    Args:
        path: output file (its directory must exist).
        model: a ``ScaleSpaceFlowPLF`` (hyperprior mode: after ``model.update()``).
        frames: one clip (batch size 1) with values in [0, 1]: a list of ``(C, H, W)`` or
            ``(1, C, H, W)`` tensors, a ``(T, C, H, W)`` or a ``(1, T, C, H, W)`` tensor.
        seed: dither seed in ``[0, 2**32)`` (fixed mode only; default ``model.dither_seed``).
        digest: ``weights_hash(model)`` when the caller has it (a loop over clips of one
            model hashes its weights once, not once per clip and direction).

    Returns:
        The clip's :class:`ClipInfo`: ``file_bits`` counts every bit written,
        ``payload_bits`` the coded latents only.
    """
    path = _check_path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"directory {path.parent} does not exist")
    data = encode_clip(model, frames, seed, digest)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return parse_clip(data)[0]


def read_clip(path: PathLike, model: ScaleSpaceFlowPLF, decoder: str = "mse") -> list[Tensor]:
    """Decode the clip at ``path`` with ``model``'s decoder head ``decoder``.

    Returns:
        The frames as a list of ``(1, C, H, W)`` tensors at the clip's original size.

    Raises:
        NotAClipError, TruncatedClipError, CorruptClipError, UnsupportedVersionError,
            ModelMismatchError: the file cannot be decoded by this model (all are
            ``BitstreamError``, a ``ValueError``); nothing damaged is ever decoded.
        TypeError, ValueError: a bad ``model``, ``decoder`` or ``path``.
        FileNotFoundError: no file at ``path``.
    """
    _check_model(model)
    _check_decoder(model, decoder)
    return decode_clip(_read(_check_path(path)), model, decoder)


def read_clip_heads(
    path: PathLike,
    model: ScaleSpaceFlowPLF,
    decoders: Sequence[str] | None = None,
    iframe: Tensor | None = None,
    digest: bytes | None = None,
) -> dict[str, list[Tensor]]:
    """Decode the clip at ``path`` with several decoder heads (default: every head of
    ``model``) in one pass; ``{head: frames}``, each as :func:`read_clip` returns them.
    The latents and the MMSE chain (the motion reference of every head) are decoded once.
    ``iframe`` (a ``(1, C, H, W)`` frame at the coded size) replaces every perceptual head's
    frame 0, which the head then continues (e.g. a posterior sample of the keyframe code,
    :mod:`compressai_plf.eval.posterior_iframe`). ``digest``: as in :func:`write_clip`.

    Raises: as :func:`read_clip`.
    """
    _check_model(model)
    return decode_clip_heads(_read(_check_path(path)), model, decoders, iframe, digest)


def encoded_bits(path: PathLike) -> int:
    """Bits on disk of the clip at ``path`` (verified first); for bpp divide by
    ``frames * height * width`` of :func:`inspect_clip`, or use ``ClipInfo.bpp()``."""
    return inspect_clip(path).file_bits
