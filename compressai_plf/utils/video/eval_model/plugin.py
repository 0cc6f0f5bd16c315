"""CompressAI's video eval tool with this package's architectures and conventions.

CompressAI's tool (``compressai.utils.video.eval_model``) never imports plugins: its
architectures live in a dict inside its ``__main__`` module and pretrained mode reads
``compressai.zoo.video_models``. :func:`install` adds ``ssf_plf`` to both and changes what a
user of this package relies on, then :func:`main` runs CompressAI's own ``main``:

* checkpoints load on CPU-only machines (``map_location``), refuse pickled code
  (``weights_only=True``) and ``ssf_plf`` is rebuilt with its stored architecture;
* cached per-sequence results are keyed by the model's content (:func:`state_digest` of its
  state dict; why not the bitstream's ``weights_hash`` is said there), not only by the
  checkpoint's file name: two runs' ``checkpoint.pth.tar`` never share a cache entry, while
  re-evaluating the same weights reuses it;
* ``-d/--output_directory`` defaults to the positional OUTPUT (CompressAI writes the aggregate
  to ``/`` without it);
* frames follow ``python -m compressai_plf.eval``'s convention (docs/evaluation.md): RGB from
  the YUV 4:2:0 file is clipped to [0, 1] and replicate-padded at the bottom and right to the
  model's ``size_multiple`` (128 for models without one), and each P-frame is predicted from
  the unclipped reconstruction the decoder has (:class:`UnclampedReference`), so both tools
  code the same pixels into the same latents;
* MS-SSIM uses a window that fits frames under 161 px (the tool asserts otherwise);
* a gray (1-channel) model codes the luma plane of the YUV files: its per-sequence results
  are luma metrics (``psnr-y``, ``mse-y``, ``ms-ssim-y``) with a description saying so, and the
  aggregate JSON records ``"planes"`` (``"y"`` or ``"rgb"`` per entry of ``results["q"]``);
  a model of any other channel count is refused in one line before anything is coded;
* ``-a ssf_plf`` is the zoo's default (RGB natural-video) family, as ``ssf2020`` is;
  ``-a ssf_plf_mmnist`` and ``-a ssf_plf_mmnist_fixed`` name the Moving MNIST families
  (pretrained mode; in checkpoint mode all three read the architecture from the file).

CompressAI's own loop (``eval_model``) is kept rather than coding through the package's codec
protocol (:class:`~compressai_plf.eval.codec.ClipCodec` and
:func:`~compressai_plf.eval.evaluate.evaluate_codec`). This is CompressAI's published tool:
users put its JSON beside JSON the same tool wrote for CompressAI's models, so its numbers
must be the tool's own, for ``ssf_plf`` and for ``-a ssf2020`` alike:

* ``bitrate`` counts the tool's ``.bin`` file (its 13-byte header and, per frame, CompressAI's
  ``write_body`` layout around the strings). A ``ClipCodec`` writes its own bytes (the
  ``.plf`` container for ``ssf_plf``, bare strings for ``CompressAIVideoCodec``), so the
  same clips would get another ``bitrate``; ``--entropy-estimation`` (bits from the
  likelihoods, no bytes at all) has no ``ClipCodec`` counterpart;
* the per-sequence keys (``psnr-y/u/v``, ``psnr-yuv`` against the file's 4:2:0 planes,
  ``mse-rgb``/``psnr-rgb``/``ms-ssim-rgb`` on rounded 8-bit values) are computed inside that
  loop from the raw planes of ``RawVideoSequence``, while ``evaluate_codec`` measures the
  RGB clips of a :class:`~compressai_plf.eval.clips.ClipSet` with the package's metric suite;
* the tool measures the encoder's reconstruction (the MMSE head for ``ssf_plf``) without
  reading the file back; ``evaluate_codec`` decodes every head from what was written.

What the two loops share is the convention of the issue's "one way": the rate is counted
from bytes written (each tool's own file: ``filesize * 8 * framerate / frames / 1000`` here,
``file-bits * fps / frames / 1000`` in ``compressai_plf.eval``) and the frame rate is the one
the YUV file name states (both read it with CompressAI's
``framerate_to_fraction`` table, so ``29.97fps`` is 30000/1001 in both); the frames are
coded into the same latents (padding, clipping and the unclipped reference above). Tested:
on one padded clip the tool's ``bitrate`` equals ``compressai_plf.eval``'s
``bitrate-payload`` plus exactly the tool's header bytes at the same frame rate
(``tests/utils/video/test_eval_model.py``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import compressai.utils.video.eval_model.__main__ as _tool
import torch
import torch.nn as nn
from compressai.datasets.rawvideo import get_raw_video_file_info
from pytorch_msssim import ms_ssim
from torch import Tensor

import compressai_plf  # noqa: F401  (registers models and zoo entries)
from compressai_plf.checkpoint import load_checkpoint as load_file
from compressai_plf.checkpoint import state_dict_of
from compressai_plf.io.clip_frames import crop_frames, pad_frames
from compressai_plf.metrics.ms_ssim import ms_ssim_window
from compressai_plf.models import ScaleSpaceFlowPLF
from compressai_plf.utils.cli_errors import (
    check_readable_file,
    check_torch_file,
    check_writable_dir,
    fail,
    one_line_errors,
)
from compressai_plf.zoo import ssf_plf, video_models

__all__ = ["install", "load_checkpoint", "main", "state_digest"]

#: Zoo families under the tool's ``-a`` (its pretrained mode passes only quality and metric).
FAMILY_ENTRIES = {
    "ssf_plf_mmnist": functools.partial(ssf_plf, family="mmnist"),
    "ssf_plf_mmnist_fixed": functools.partial(ssf_plf, family="mmnist", rate_mode="fixed"),
}
ARCHITECTURES = dict.fromkeys(("ssf_plf", *FAMILY_ENTRIES), ScaleSpaceFlowPLF)
#: Size multiple of the model being evaluated (CompressAI's ``pad`` does not see the model).
_MULTIPLE: ContextVar[int] = ContextVar("size_multiple", default=128)
#: True while a gray model is evaluated: frames are the luma plane, metrics luma metrics.
_LUMA: ContextVar[bool] = ContextVar("luma", default=False)
_ORIGINAL = {
    name: getattr(_tool, name)
    for name in (
        "eval_model",
        "eval_model_entropy_estimation",
        "run_inference",
        "compute_metrics_for_frame",
        "load_pretrained",
    )
}
_convert_yuv420_to_rgb = _tool.convert_yuv420_to_rgb
#: Planes each evaluated entry coded, by the tool's run label, for the aggregate JSON.
_PLANES: dict[str, str] = {}


def coded_planes(net: nn.Module) -> str:
    """``"rgb"`` for a 3-channel model, ``"y"`` (the luma plane) for a gray one.

    Raises:
        ValueError: any other channel count (YUV files give RGB or luma frames only).
    """
    channels = int(getattr(net, "channels", 3))
    if channels not in (1, 3):
        raise ValueError(
            f"the model codes {channels}-channel frames; the eval tool codes RGB (3 channels) "
            "or, for a gray model, the luma plane (1 channel) of the YUV files"
        )
    return "y" if channels == 1 else "rgb"


def load_checkpoint(arch: str, no_update: bool, checkpoint_path: str) -> nn.Module:
    """Load a checkpoint for ``arch`` onto the CPU (CompressAI's loader semantics)."""
    install()
    state_dict = state_dict_of(load_file(checkpoint_path), str(checkpoint_path))
    if arch not in _tool.models:
        raise ValueError(f"unknown architecture {arch!r}; choose from {sorted(_tool.models)}")
    cls = _tool.models[arch]
    if hasattr(cls, "from_state_dict") and arch in ARCHITECTURES:
        net = cls.from_state_dict(state_dict)
    else:
        net = cls()
        net.load_state_dict(state_dict)
    coded_planes(net)  # refused before a .bin file is opened
    if not no_update:
        net.update(force=True)
    return net.eval()


def load_pretrained(model: str, metric: str, quality: int) -> nn.Module:
    """CompressAI's pretrained loader, with the channel check of :func:`load_checkpoint`."""
    install()
    net = _ORIGINAL["load_pretrained"](model, metric, quality)
    coded_planes(net)
    return net


def state_digest(net: nn.Module, length: int = 8) -> str:
    """Hex digest of a model's state dict (names, dtypes, shapes and bytes of every entry):
    the cache key of the tool's per-sequence results.

    This is deliberately not :func:`~compressai_plf.io.weights_hash.weights_hash`, the
    package's one *bitstream* identity, which answers another question ("may these weights
    read this stream?") and so leaves out what the cache must see:

    * CompressAI's own architectures (``-a ssf2020`` ...) go through this tool too; they have
      no ``config`` or ``encoder_side_modules`` for ``weights_hash`` to read;
    * the tool's numbers change with ``dither_seed`` in fixed mode (``encode_keyframe``
      starts the dither from the model's default seed), which ``weights_hash`` excludes
      because a container stores the seed it used; the seed is in the state dict
      (``_extra_state``), so two models that differ only there get two cache entries.

    The digest covers more than the tool measures (perceptual heads too): a retrained
    decoder re-runs the tool rather than reusing a result, never the reverse.
    """
    h = hashlib.sha256()
    for key, value in sorted(net.state_dict().items()):
        h.update(key.encode())
        if isinstance(value, Tensor):
            t = value.detach().cpu().contiguous().reshape(-1)
            h.update(f"{t.dtype}{tuple(value.shape)}".encode())
            h.update(t.view(torch.uint8).numpy().tobytes())
        else:
            h.update(repr(value).encode())
    return h.hexdigest()[:length]


def ms_ssim_fitting(x: Tensor, y: Tensor, data_range: float = 255, **kwargs) -> Tensor:
    """CompressAI's MS-SSIM call with a window that fits the frame: identical to the tool's
    value from 161 px on, and defined (instead of an AssertionError) for smaller frames."""
    kwargs.setdefault("win_size", ms_ssim_window(*x.shape[-2:]))
    return ms_ssim(x, y, data_range=data_range, **kwargs)


def yuv420_to_rgb_clipped(frame: Any, device: torch.device, max_val: int) -> Tensor:
    """CompressAI's YUV 4:2:0 -> RGB conversion, clipped to [0, 1] (the range a codec takes,
    and what :class:`compressai_plf.datasets.RawYUVFolder` gives ``compressai_plf.eval``);
    for a gray model the luma plane ``(1, 1, H, W)`` as stored (``RawYUVFolder(planes="y")``)."""
    if _LUMA.get():
        return _luma(frame[0], device, max_val)
    return _convert_yuv420_to_rgb(frame, device, max_val).clamp(0, 1)


def _luma(plane: Any, device: torch.device | str, max_val: int) -> Tensor:
    y = torch.as_tensor(plane.astype("float32") / max_val, device=device)
    return y.reshape(1, 1, *y.shape[-2:])


def compute_metrics_for_frame(
    org_frame: Any, rec_frame: Tensor, device: str = "cpu", max_val: int = 255
) -> dict[str, Any]:
    """CompressAI's per-frame metrics; for a gray model the luma ones, computed as the tool
    computes ``psnr-y`` (8-bit rounded values): ``psnr-y``, ``mse-y``, ``ms-ssim-y``."""
    if not _LUMA.get():
        return _ORIGINAL["compute_metrics_for_frame"](org_frame, rec_frame, device, max_val)
    org = (_luma(org_frame[0], device, max_val) * max_val).clamp(0, max_val).round()
    rec = (rec_frame * max_val).clamp(0, max_val).round()
    mse = (org - rec).pow(2).mean()
    return {
        "psnr-y": 20 * torch.log10(torch.tensor(float(max_val))) - 10 * torch.log10(mse),
        "mse-y": mse,
        "ms-ssim-y": ms_ssim_fitting(org, rec, data_range=max_val),
    }


def pad(x: Tensor, p: int | None = None) -> tuple[Tensor, tuple[int, int]]:
    """Replicate-pad at the bottom and right to the model's size multiple (``p`` ignored:
    CompressAI passes its own 128); returns the frame and its original ``(H, W)``."""
    del p
    return pad_frames([x], _MULTIPLE.get())[0], tuple(x.shape[-2:])


def crop(x: Tensor, size: tuple[int, int]) -> Tensor:
    return crop_frames([x], *size)[0]


class UnclampedReference(nn.Module):
    """Predict each P-frame from the reconstruction the decoder has.

    CompressAI's loop clips each reconstruction to [0, 1] for its metrics and then passes
    the clipped frame as the next reference, whereas the model's ``decompress`` (and
    ``compressai_plf.eval``) predicts from the unclipped one: the bitstream would not decode
    to what was measured. This wrapper keeps the unclipped reconstruction and uses it when
    the tool hands back its clipped copy.
    """

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self._ref: Tensor | None = None

    def _reference(self, x_ref: Tensor) -> Tensor:
        ref = self._ref
        if ref is not None and ref.shape == x_ref.shape and torch.equal(ref.clamp(0, 1), x_ref):
            return ref
        return x_ref

    def _keep(self, out: tuple[Tensor, Any]) -> tuple[Tensor, Any]:
        self._ref = out[0]
        return out

    def encode_keyframe(self, x: Tensor) -> tuple[Tensor, Any]:
        return self._keep(self.net.encode_keyframe(x))

    def encode_inter(self, x_cur: Tensor, x_ref: Tensor) -> tuple[Tensor, Any]:
        return self._keep(self.net.encode_inter(x_cur, self._reference(x_ref)))

    def forward_keyframe(self, x: Tensor) -> tuple[Tensor, Any]:
        return self._keep(self.net.forward_keyframe(x))

    def forward_inter(self, x_cur: Tensor, x_ref: Tensor) -> tuple[Tensor, Any]:
        return self._keep(self.net.forward_inter(x_cur, self._reference(x_ref)))


def _with_conventions(name: str):
    def run(net: nn.Module, *args: Any, **kwargs: Any) -> dict[str, Any]:
        token = _MULTIPLE.set(int(getattr(net, "size_multiple", 128)))
        luma = _LUMA.set(coded_planes(net) == "y")
        try:
            return _ORIGINAL[name](UnclampedReference(net), *args, **kwargs)
        except BaseException:
            if name == "eval_model" and len(args) >= 2:  # (sequence, binpath, ...)
                Path(args[1]).unlink(missing_ok=True)  # no partial .bin after a failure
            raise
        finally:
            _MULTIPLE.reset(token)
            _LUMA.reset(luma)

    run.__name__ = name
    return run


def run_inference(filepaths, inputdir, net, outputdir, *args: Any, **kwargs: Any):
    """CompressAI's ``run_inference`` with the cache key extended by :func:`state_digest`
    (and, for a gray model, by ``luma``, with a description saying what was coded)."""
    planes = coded_planes(net)
    label = kwargs.get("trained_net", "")
    _PLANES[label] = planes
    kwargs["trained_net"] = f"{label}-{state_digest(net)}" + ("-luma" if planes == "y" else "")
    if planes == "y":
        kwargs["description"] = f"{kwargs.get('description', '')}; luma plane, 1-channel model"
    return _ORIGINAL["run_inference"](filepaths, inputdir, net, outputdir, *args, **kwargs)


def install() -> None:
    """Add this package's architectures, loader and conventions to CompressAI's tool module."""
    _tool.models.update(ARCHITECTURES)
    _tool.pretrained_models.update(video_models)
    _tool.pretrained_models.update(FAMILY_ENTRIES)
    _tool.load_checkpoint = load_checkpoint
    _tool.load_pretrained = load_pretrained
    _tool.compute_metrics_for_frame = compute_metrics_for_frame
    _tool.ms_ssim = ms_ssim_fitting
    _tool.convert_yuv420_to_rgb = yuv420_to_rgb_clipped
    _tool.pad, _tool.crop = pad, crop
    for name in ("eval_model", "eval_model_entropy_estimation"):
        setattr(_tool, name, _with_conventions(name))
    _tool.run_inference = run_inference


def with_output_directory(argv: list[str]) -> list[str]:
    """``argv`` with ``-d OUTPUT`` added when no output directory is given."""
    args = _tool.create_parser().parse_args(argv)
    return argv if args.output_directory else [*argv, "-d", args.output]


def check_sequences(dataset: str) -> None:
    """Every raw video under ``dataset`` is named ``..._WxH_Rfps_420...`` and holds whole 4:2:0 frames
    of that size (CompressAI fails with ``KeyError: 'bitdepth2'`` or a numpy dtype error)."""
    root = Path(dataset)
    if not root.is_dir():
        raise fail(f"dataset: not a directory: {root}")
    files = _tool.collect_videos(dataset)
    if not files:
        raise fail(f"dataset: no raw video files (.yuv, .rgb, ...) under {root}")
    for path in files:
        try:
            info = get_raw_video_file_info(Path(path).name)
        except (KeyError, ValueError):  # CompressAI's parser fails on names without a size
            info = {}
        if not all(info.get(k) for k in ("width", "height", "framerate", "format")):
            raise fail(
                f"{path}: the name must give the frame size, rate and format as CompressAI's "
                "tool reads them, e.g. name_416x240_30fps_420_8bit.yuv"
            )
        check_readable_file(path, "sequence")
        depth = int(info.get("bitdepth") or 8)
        frame = info["width"] * info["height"] * 3 // 2 * (2 if depth > 8 else 1)
        size = Path(path).stat().st_size
        if size == 0 or size % frame:
            raise fail(
                f"{path}: {size} bytes is not a whole number of {info['width']}x{info['height']} "
                f"{depth}-bit 4:2:0 frames ({frame} bytes each): wrong size in the name?"
            )


def main(argv: list[str] | None = None) -> None:
    install()
    with one_line_errors():
        argv = sys.argv[1:] if argv is None else list(argv)
        args = _tool.create_parser().parse_args(argv)
        if getattr(args, "source", None):  # else CompressAI prints its usage
            check_sequences(args.dataset)
            check_writable_dir(args.output_directory or args.output, "output directory")
            for path in getattr(args, "paths", None) or []:
                check_torch_file(path, "checkpoint")
            argv = with_output_directory(argv)
        _PLANES.clear()
        _tool.main(argv)
        if getattr(args, "source", None):
            record_planes(_tool.create_parser().parse_args(argv))


def aggregate_path(args: Any) -> Path:
    """Where CompressAI's ``main`` wrote the aggregate JSON (its own naming)."""
    coder = "entropy-estimation" if args.entropy_estimation else args.entropy_coder
    name = args.output_file or f"{args.architecture}-{coder}"
    return Path(f"{args.output_directory}/{name}").with_suffix(".json")


def record_planes(args: Any) -> None:
    """Add ``"planes"`` (``"rgb"`` or ``"y"`` per ``results["q"]`` entry) to the aggregate
    JSON: a gray model's numbers are luma numbers."""
    path = aggregate_path(args)
    data = json.loads(path.read_text())
    data["planes"] = [_PLANES.get(q, "rgb") for q in data["results"].get("q", [])]
    path.write_text(json.dumps(data, indent=2))
