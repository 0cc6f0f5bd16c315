"""ScaleSpaceFlow with conditional residual coding and decoder heads chosen at decode time.

Extends CompressAI's ``ScaleSpaceFlow`` (Agustsson et al., "Scale-space flow for end-to-end
optimized video compression", CVPR 2020) for the perception-loss-function study of
Salehkalaibar et al., "On the choice of perception loss function for learned video
compression", NeurIPS 2023, https://arxiv.org/abs/2305.19301, and its self-adaptive follow-up,
https://arxiv.org/abs/2502.10628.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import torch
import torch.nn as nn
from compressai.models.video.google import ScaleSpaceFlow
from compressai.registry import register_model
from torch import Tensor

from ..plfs import head_names
from .coded_clip import LATENTS, CodedClip, CodedFrame, CodedLatent
from .compressai_strings import (
    clips_from_strings,
    clips_to_strings,
    frame_from_strings,
    frame_to_strings,
)
from .decoder_head import DecoderHead
from .fixed_rate_coder import FixedRateLatentCoder
from .frame_geometry import check_frame_geometry, check_frame_values
from .hyperprior_coder import HyperpriorLatentCoder
from .iframe_generator import SYNTHESIS_STARTS, PerceptualIFrameDecoder
from .own_past_head import OwnPastHead, head_synthesis_starts
from .transforms import analysis_transform, synthesis_transform

RATE_MODES = ("hyperprior", "fixed")
HEAD_ARCHS = ("own_past", "residual")
IFRAME_MODES = ("shared", "per_head", "mmse")
# Largest frame decompress() decodes (pixels per frame; io.container.MAX_FRAME_PIXELS, the
# container's limit, is the same): bounds what a forged shape can make the decoder allocate.
MAX_DECODE_PIXELS = 1 << 24
# Decoder-side options that models saved before they existed had implicitly: per-head
# residual heads (x_pred + correction) with per-head I-frame decoders.
LEGACY_CONFIG = {
    "head_arch": "residual",
    "perceptual_iframe": "per_head",
    "iframe_planes": None,
    "synthesis_start": "none",
    "iframe_start": "none",
}


@dataclass
class MMSEChain:
    """What every decoder head of one coded clip shares: the keyframe latent, per P-frame the
    motion latent, the decoded motion field, the MMSE prediction and the residual latent, the
    MMSE head's frames (the motion references), the likelihoods, and optionally a frame 0
    that replaces the perceptual heads' I-frame."""

    y_hat: Tensor
    mmse: list[Tensor]
    iframe: Tensor | None = None
    y_motion: list[Tensor] = field(default_factory=list)
    motion: list[Tensor] = field(default_factory=list)
    x_pred: list[Tensor] = field(default_factory=list)
    y_res: list[Tensor] = field(default_factory=list)
    likelihoods: list[dict[str, Any]] = field(default_factory=list)
    # The shared perceptual I-frame, decoded on first use (it is frozen and detached).
    shared_iframe: Tensor | None = None

    def add_inter(
        self, y_motion: Tensor, motion: Tensor, x_pred: Tensor, y_res: Tensor, x_mmse: Tensor
    ) -> None:
        self.y_motion.append(y_motion)
        self.motion.append(motion)
        self.x_pred.append(x_pred)
        self.y_res.append(y_res)
        self.mmse.append(x_mmse)

    def batch_slice(self, lo: int, hi: int) -> MMSEChain:
        """The chain of clips ``lo:hi`` of the batch (for micro-batches)."""

        def cut(value: Any) -> Any:
            if isinstance(value, Tensor):
                return value[lo:hi]
            if isinstance(value, dict):
                return {k: cut(v) for k, v in value.items()}
            if isinstance(value, list):
                return [cut(v) for v in value]
            return value

        return MMSEChain(
            **{f.name: cut(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]
        )

    def with_detached_references(self) -> MMSEChain:
        """The chain with the MMSE head's frames and predictions detached, the latents and
        the decoded motion not: perceptual heads decoded from it send their gradient to the
        encoder side only through what the bitstream carries, never into the MMSE head."""
        return replace(
            self, mmse=[x.detach() for x in self.mmse], x_pred=[x.detach() for x in self.x_pred]
        )


@register_model("ssf_plf")
class ScaleSpaceFlowPLF(ScaleSpaceFlow):
    r"""ScaleSpaceFlow with conditional residual coding and perceptual decoder heads.

    Differences from CompressAI's ``ScaleSpaceFlow``:

    * **Conditional residual coding** (Brand, Seiler, Kaup, https://arxiv.org/abs/2307.12864):
      the residual encoder sees ``cat(x - x_pred, x_pred)``; the decoder outputs
      ``x_pred + g_s(y_res_hat, y_motion_hat, context)`` with ``context`` computed at the
      decoder from ``x_pred`` and the previously displayed frame.
    * **Decoder heads** chosen at decode time over one bitstream: ``"mse"`` (always present)
      and any of ``"jd"``, ``"fmd"``, ``"sa"``. Motion is estimated against the MMSE
      reconstruction of the previous frame, as in the PLF paper's code; the selected head's
      output is displayed and conditions that head's next frame.
    * **Two rate modes**: ``"hyperprior"`` (entropy bottleneck + Gaussian conditional, rANS)
      and ``"fixed"`` (an ``L``-level dithered scalar quantizer on [-1, 1], fixed-length
      code, dither seed carried in the keyframe's bitstream: the PLF paper's regime).
    * **Perceptual heads that continue their own past** (``head_arch="own_past"``,
      :class:`~compressai_plf.models.own_past_head.OwnPastHead`): the decoded motion also warps
      the head's own previous frame, and the output, in [0, 1], mixes it with the MMSE
      prediction and a synthesised image. ``"residual"`` is the older ``x_pred + correction``
      head (:class:`~compressai_plf.models.decoder_head.DecoderHead`).
    * **One shared perceptual I-frame decoder** (``perceptual_iframe="shared"``,
      ``iframe_decoder``, :class:`~compressai_plf.models.iframe_generator.PerceptualIFrameDecoder`):
      every perceptual head shows and continues the same frame 0 (the paper's recipe; trained
      by the ``iframe`` stage, detached everywhere else); ``"per_head"`` gives each head its own;
      ``"mmse"`` has none: the perceptual heads continue the MMSE I-frame, or a frame 0 given
      at decode time (``iframe=``, e.g. an exact posterior sample of the keyframe code).
    * **Configurable widths and depth**, and flow in **pixel units** (so a model trained on
      crops warps correctly at other sizes, CompressAI issue #307).

    Sub-module names and the output contract of ``ScaleSpaceFlow`` are kept: ``img_encoder``,
    ``img_decoder``, ``img_hyperprior``, ``res_encoder``, ``res_decoder``, ``res_hyperprior``,
    ``motion_encoder``, ``motion_decoder``, ``motion_hyperprior`` (the ``*_hyperprior``
    modules are the latent coders of the selected rate mode, fixed-rate ones in fixed mode:
    read them as ``keyframe_coder``, ``motion_coder``, ``residual_coder``), plus
    ``context_net`` (MMSE head), ``heads`` (the perceptual heads only, read it as
    ``perceptual_heads``; ``decoders`` names every head, ``"mse"`` included) and
    ``iframe_decoder`` (shared perceptual I-frame decoder).

    Args:
        channels: image channels (3 for RGB, 1 for Moving MNIST).
        mid_planes: width of the image-domain transforms (128 in ScaleSpaceFlow).
        latent_planes: default latent channels (192 in ScaleSpaceFlow).
        keyframe_planes, motion_planes, residual_planes: per-latent channels (default
            ``latent_planes``).
        hyper_planes: width of the hyperprior (hyperprior mode).
        context_planes: width of the decoder-side context network.
        stages: stride-2 stages from frames to latents (4 in ScaleSpaceFlow; 6 takes a 64x64
            frame to a 1x1 latent).
        hyper_stages: stride-2 stages from latents to hyper-latents (hyperprior mode).
        num_levels, sigma0, scale_field_shift: scale-space warp options of ScaleSpaceFlow.
        rate_mode: ``"hyperprior"`` or ``"fixed"``.
        levels: quantization levels of the motion and residual latents (fixed mode).
        keyframe_levels: quantization levels of the keyframe latent (default ``levels``).
        decoders: names of the decoder heads; ``"mse"`` is always included.
        dither_seed: dither seed used by eval-mode ``forward`` and by ``compress`` when no
            seed is given (fixed mode).
        head_arch: perceptual head architecture, ``"own_past"`` or ``"residual"`` (the MMSE
            head is always the residual one: it defines the bitstream).
        perceptual_iframe: ``"shared"`` (one ``iframe_decoder`` for every perceptual head),
            ``"per_head"`` or ``"mmse"`` (no I-frame generator: the heads continue the MMSE
            I-frame unless a frame 0 is given).
        iframe_planes: width of the perceptual I-frame generator(s) at the latent resolution
            (halved at each upsampling stage; default ``4 * mid_planes``;
            ``head_arch="own_past"`` only).
        synthesis_start: where an own-past head's synthesis starts: ``"none"`` (from its
            own networks alone), ``"mmse"`` (a residual in logit space on the MMSE
            prediction, so an untrained head starts near the MMSE frame), ``"mmse_frame"``
            (the same on the MMSE head's decoded frame, which carries the residual) or
            ``"own"`` (on the head's own warped past: it starts as that continuation); see
            :class:`~compressai_plf.models.own_past_head.OwnPastHead`). One start for every
            head, or a mapping naming one per perceptual head, e.g. ``{"jd": "mmse", "fmd":
            "mmse_frame"}`` (:func:`~compressai_plf.models.own_past_head.
            head_synthesis_starts`).
        iframe_start: where the shared perceptual I-frame generator starts: ``"none"``
            (from a dark frame) or ``"mmse"`` (a residual in logit space on the MMSE
            I-frame; see :class:`~compressai_plf.models.iframe_generator.
            PerceptualIFrameDecoder`). Decode-time, like ``synthesis_start``.
    """

    def __init__(
        self,
        channels: int = 3,
        mid_planes: int = 128,
        latent_planes: int = 192,
        keyframe_planes: int | None = None,
        motion_planes: int | None = None,
        residual_planes: int | None = None,
        hyper_planes: int = 192,
        context_planes: int = 64,
        stages: int = 4,
        hyper_stages: int = 3,
        num_levels: int = 5,
        sigma0: float = 1.5,
        scale_field_shift: float = 1.0,
        rate_mode: str = "hyperprior",
        levels: int = 2,
        keyframe_levels: int | None = None,
        decoders: Sequence[str] = ("mse",),
        dither_seed: int = 0,
        head_arch: str = "own_past",
        perceptual_iframe: str = "shared",
        iframe_planes: int | None = None,
        synthesis_start: str | Mapping[str, str] = "none",
        iframe_start: str = "none",
    ) -> None:
        # Skip ScaleSpaceFlow.__init__ (it builds fixed-width 3-channel networks), keep its
        # methods and the CompressionModel base.
        nn.Module.__init__(self)
        decoders = _normalise_heads(decoders)
        if rate_mode not in RATE_MODES:
            raise ValueError(f"rate_mode must be one of {RATE_MODES}, got {rate_mode!r}")
        for name, value in (
            ("channels", channels),
            ("mid_planes", mid_planes),
            ("latent_planes", latent_planes),
            ("hyper_planes", hyper_planes),
            ("context_planes", context_planes),
            ("stages", stages),
            ("num_levels", num_levels),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if not math.isfinite(sigma0) or sigma0 <= 0:
            raise ValueError(f"sigma0 must be a finite number > 0, got {sigma0!r}")
        _check_seed(dither_seed, "dither_seed")
        keyframe_planes = keyframe_planes or latent_planes
        motion_planes = motion_planes or latent_planes
        residual_planes = residual_planes or latent_planes
        keyframe_levels = keyframe_levels or levels
        if head_arch not in HEAD_ARCHS:
            raise ValueError(f"head_arch must be one of {HEAD_ARCHS}, got {head_arch!r}")
        if perceptual_iframe not in IFRAME_MODES:
            raise ValueError(
                f"perceptual_iframe must be one of {IFRAME_MODES}, got {perceptual_iframe!r}"
            )
        if head_arch == "residual" and perceptual_iframe != "per_head":
            raise ValueError(
                f"perceptual_iframe={perceptual_iframe!r} needs head_arch='own_past' (residual "
                "heads decode their own I-frames)"
            )
        starts = head_synthesis_starts(synthesis_start, [h for h in decoders if h != "mse"])
        if not isinstance(synthesis_start, str):
            # one start for every head is stored as that start (so it compares equal to the
            # string form); several as plain JSON in the heads' order
            distinct = set(starts.values()) or {"none"}
            if len(distinct) == 1:
                synthesis_start = distinct.pop()
            else:
                synthesis_start = {h: starts[h] for h in decoders if h != "mse"}
        if head_arch == "residual" and synthesis_start != "none":  # stored, meaning nothing
            raise ValueError(
                f"synthesis_start={synthesis_start!r} needs head_arch='own_past' (residual heads "
                "have no synthesis start)"
            )
        if iframe_start not in SYNTHESIS_STARTS:
            raise ValueError(
                f"iframe_start must be one of {SYNTHESIS_STARTS}, got {iframe_start!r}"
            )
        if head_arch == "own_past":
            iframe_planes = int(iframe_planes or 4 * mid_planes)
            if iframe_planes < 1:
                raise ValueError(f"iframe_planes must be >= 1, got {iframe_planes}")
        else:
            iframe_planes = None
        # Stored with the weights (``_extra_state``) so a checkpoint rebuilds this exact
        # architecture and a mismatch is reported by name, not as a torch shape error.
        self._config = {
            "channels": channels,
            "mid_planes": mid_planes,
            "latent_planes": latent_planes,
            "keyframe_planes": keyframe_planes,
            "motion_planes": motion_planes,
            "residual_planes": residual_planes,
            "hyper_planes": hyper_planes,
            "context_planes": context_planes,
            "stages": stages,
            "hyper_stages": hyper_stages,
            "num_levels": num_levels,
            "sigma0": float(sigma0),
            "scale_field_shift": float(scale_field_shift),
            "rate_mode": rate_mode,
            "levels": levels,
            "keyframe_levels": keyframe_levels,
            "decoders": decoders,
            "dither_seed": int(dither_seed),
            "head_arch": head_arch,
            "perceptual_iframe": perceptual_iframe,
            "iframe_planes": iframe_planes,
            "synthesis_start": synthesis_start,
            "iframe_start": iframe_start,
        }
        self.channels = channels
        self.stages = stages
        self.hyper_stages = hyper_stages
        self.rate_mode = rate_mode
        self.dither_seed = int(dither_seed)
        self.sigma0 = sigma0
        self.num_levels = num_levels
        self.scale_field_shift = scale_field_shift

        def coder(planes: int, lv: int) -> nn.Module:
            if rate_mode == "fixed":
                return FixedRateLatentCoder(planes, lv)
            return HyperpriorLatentCoder(planes, hyper_planes, hyper_stages)

        self.img_encoder = analysis_transform(channels, mid_planes, keyframe_planes, stages)
        self.img_hyperprior = coder(keyframe_planes, keyframe_levels)
        self.motion_encoder = analysis_transform(2 * channels, mid_planes, motion_planes, stages)
        self.motion_hyperprior = coder(motion_planes, levels)
        self.motion_decoder = synthesis_transform(motion_planes, mid_planes, 3, stages)
        self.res_encoder = analysis_transform(2 * channels, mid_planes, residual_planes, stages)
        self.res_hyperprior = coder(residual_planes, levels)

        widths = (
            channels,
            mid_planes,
            keyframe_planes,
            motion_planes,
            residual_planes,
            context_planes,
            stages,
        )

        def head(name: str) -> nn.Module:
            if head_arch == "residual":
                return DecoderHead(*widths)
            own_iframe = iframe_planes if perceptual_iframe == "per_head" else None
            return OwnPastHead(*widths, iframe_planes=own_iframe, synthesis_start=starts[name])

        # The MMSE head's networks sit at the top level under ScaleSpaceFlow's names; the
        # DecoderHead object only groups them (it is not registered twice in the state dict).
        mse = DecoderHead(*widths)
        self.img_decoder = mse.img_decoder
        self.context_net = mse.context_net
        self.res_decoder = mse.res_decoder
        object.__setattr__(self, "_mse_head", mse)
        # Registered as ``heads``: the state-dict prefix (``heads.jd....``) of shipped weights,
        # checkpoints and the trainer's key mapping. Read it as ``perceptual_heads``.
        self.heads = nn.ModuleDict({name: head(name) for name in decoders if name != "mse"})
        if perceptual_iframe == "shared" and len(self.perceptual_heads):
            self.iframe_decoder = PerceptualIFrameDecoder(
                keyframe_planes, iframe_planes, channels, stages, start=iframe_start
            )
        else:
            self.iframe_decoder = None
            if iframe_start != "none":  # it would be stored, and silently mean nothing
                raise ValueError(
                    f"iframe_start={iframe_start!r} needs a shared perceptual I-frame decoder "
                    "(perceptual_iframe='shared' and at least one perceptual head)"
                )

    # ------------------------------------------------------------------ configuration
    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this architecture (a copy: changing it does
        not change the model)."""
        return _copied(self._config)

    @property
    def decoders(self) -> tuple[str, ...]:
        """Names of every decoder head, ``"mse"`` first; :meth:`head` returns any of them by
        name. Only the perceptual ones have networks in :attr:`perceptual_heads`."""
        return self._config["decoders"]

    @property
    def perceptual_heads(self) -> nn.ModuleDict:
        """The perceptual heads' networks by name: every name of :attr:`decoders` but
        ``"mse"`` (the MMSE head's networks sit at the top level under ScaleSpaceFlow's
        names). The module is registered as ``heads``, the state-dict prefix of shipped
        weights and checkpoints (``heads.jd....``), which this accessor leaves unchanged."""
        return self.heads

    # ScaleSpaceFlow's ``*_hyperprior`` names are kept for its state-dict keys, but in fixed
    # mode they hold fixed-rate coders: the package's code reads them by what they are.
    @property
    def keyframe_coder(self) -> nn.Module:
        """The I-frame latent coder of the rate mode (``img_hyperprior``)."""
        return self.img_hyperprior

    @property
    def motion_coder(self) -> nn.Module:
        """The motion latent coder of the rate mode (``motion_hyperprior``)."""
        return self.motion_hyperprior

    @property
    def residual_coder(self) -> nn.Module:
        """The residual latent coder of the rate mode (``res_hyperprior``)."""
        return self.res_hyperprior

    @property
    def size_multiple(self) -> int:
        """Frame height and width must be multiples of this."""
        depth = self.stages + (self.hyper_stages if self.rate_mode == "hyperprior" else 0)
        return max(2**depth, 2 ** (self.num_levels - 1))

    def get_extra_state(self) -> dict[str, Any]:
        return {"config": {**_copied(self._config), "decoders": list(self._config["decoders"])}}

    def set_extra_state(self, state: Any) -> None:
        saved = _with_legacy_defaults(state.get("config", {}) if isinstance(state, dict) else {})
        saved["decoders"] = tuple(saved.get("decoders", ()))
        diff = {
            k: (saved.get(k), self._config[k])
            for k in self._config
            if k != "dither_seed" and saved.get(k) != self._config[k]
        }
        if diff:
            details = ", ".join(
                f"{k}: checkpoint {a!r} vs model {b!r}" for k, (a, b) in diff.items()
            )
            raise ValueError(
                "checkpoint was saved from a different ssf_plf architecture "
                f"({details}); build the model with ScaleSpaceFlowPLF.from_state_dict()"
            )

    @classmethod
    def from_state_dict(cls, state_dict: dict[str, Any]) -> ScaleSpaceFlowPLF:
        """Return a new model with the architecture and weights stored in ``state_dict``.

        Gaussian conditional CDF tables that a zoo file leaves out are rebuilt from their
        ``scale_table`` (:mod:`compressai_plf.zoo.gaussian_tables`).
        """
        # imported here: compressai_plf.zoo imports this module
        from ..zoo.gaussian_tables import restore_gaussian_tables

        net = cls(**cls.saved_config(state_dict))
        net.load_state_dict(restore_gaussian_tables(state_dict))
        return net

    @staticmethod
    def saved_config(state_dict: dict[str, Any]) -> dict[str, Any]:
        """The architecture record a state dict stores (``_extra_state``), completed with the
        options older files had implicitly.

        Raises:
            ValueError: the state dict was not saved from ``ScaleSpaceFlowPLF``.
        """
        extra = state_dict.get("_extra_state")
        if not isinstance(extra, dict) or "config" not in extra:
            raise ValueError(
                "state dict has no ssf_plf architecture record ('_extra_state'); it was not "
                "saved from ScaleSpaceFlowPLF"
            )
        return _with_legacy_defaults(extra["config"])

    def with_decoders(
        self, decoders: Iterable[str] | None = None, perceptual_iframe: str | None = None
    ) -> ScaleSpaceFlowPLF:
        """A copy with a subset of the decoder heads and/or another ``perceptual_iframe``
        mode (``"mmse"`` leaves a shared I-frame generator out), weights copied. The encoder
        side is unchanged, so the copy reads this model's bitstreams (decoder-side options
        are outside :func:`~compressai_plf.io.weights_hash`); e.g. a zoo file that ships only
        the heads a family trained.

        Raises:
            ValueError: a head this model lacks, or a mode whose networks it does not have.
        """
        config = self.config
        if decoders is not None:
            names = _normalise_heads(decoders)  # "mse" always in
            missing = [h for h in names if h not in self.decoders]
            if missing:
                raise ValueError(f"this model has heads {list(self.decoders)}, not {missing}")
            config["decoders"] = names
            kept = [h for h in names if h != "mse"]
            if not isinstance(config["synthesis_start"], str):
                config["synthesis_start"] = {h: config["synthesis_start"][h] for h in kept}
        if perceptual_iframe is not None:
            config["perceptual_iframe"] = perceptual_iframe
        if config["perceptual_iframe"] != "shared" or tuple(config["decoders"]) == ("mse",):
            config["iframe_start"] = "none"  # no shared generator left to start anywhere
        what = f"this model (the copy's perceptual_iframe={config['perceptual_iframe']!r})"
        return self._rebuilt(config, self.state_dict(), what)

    def _rebuilt(
        self, config: dict[str, Any], source: Mapping[str, Any], what: str
    ) -> ScaleSpaceFlowPLF:
        """A new model of ``config`` with its weights from ``source`` (key by key), on this
        model's device and dtype and in its train/eval mode.

        Raises:
            ValueError: ``source`` lacks a key of the new model or holds it at another shape.
        """
        net = type(self)(**config)
        target = net.state_dict()
        wrong = sorted(
            k
            for k, v in target.items()
            if k != "_extra_state"
            and (k not in source or (torch.is_tensor(v) and source[k].shape != v.shape))
        )
        if wrong:
            more = " ..." if len(wrong) > 3 else ""
            raise ValueError(f"{what} has no weights that fit {wrong[:3]}{more}")
        state = {k: source[k] for k in target if k != "_extra_state"}
        net.load_state_dict({**state, "_extra_state": target["_extra_state"]})
        return net.to(next(self.parameters())).train(self.training)

    def with_head(self, name: str, other: ScaleSpaceFlowPLF) -> ScaleSpaceFlowPLF:
        """A copy whose perceptual head ``name`` is ``other``'s (added if this model lacks
        it), with that head's synthesis start: universal heads trained in separate runs on
        one frozen encoder side assembled into one model (e.g. a zoo file's JD head from one
        run and its FMD head from another).

        Raises:
            ValueError: ``name`` is ``"mse"`` or not a head of ``other``; the two models code
                different bitstreams (their heads were trained on other encoder sides); or
                the head's networks differ in architecture.
        """
        # imported here: compressai_plf.io imports this module
        from ..io.weights_hash import weights_hash

        if name == "mse" or name not in other.decoders:
            raise ValueError(f"{name!r} is not a perceptual head of the other model")
        if weights_hash(self) != weights_hash(other):
            raise ValueError(
                f"head {name!r} comes from a model that codes other bitstreams (different "
                "encoder-side weights): it was trained on another encoder side"
            )
        config = self.config
        perceptual = [h for h in self.decoders if h != "mse"]
        kept = perceptual + ([name] if name not in perceptual else [])
        starts = head_synthesis_starts(config["synthesis_start"], perceptual)
        theirs_all = [h for h in other.decoders if h != "mse"]
        starts[name] = head_synthesis_starts(other.config["synthesis_start"], theirs_all)[name]
        config["decoders"] = _normalise_heads(["mse", *kept])
        config["synthesis_start"] = starts
        prefix = f"heads.{name}."
        mine = {k: v for k, v in self.state_dict().items() if not k.startswith(prefix)}
        theirs = {k: v for k, v in other.state_dict().items() if k.startswith(prefix)}
        return self._rebuilt(config, {**mine, **theirs}, f"head {name!r} of the other model")

    # ------------------------------------------------------------------ heads
    def head(self, name: str) -> DecoderHead:
        """The decoder head called ``name``."""
        if name == "mse":
            return self._mse_head
        if name not in self.perceptual_heads:
            raise ValueError(f"unknown decoder head {name!r}; this model has {list(self.decoders)}")
        return self.perceptual_heads[name]

    def encoder_side_modules(self) -> list[nn.Module]:
        """Everything that determines the bitstream: encoders, motion decoder, latent coders
        (entropy models) and the MMSE head, whose output is the encoder's motion reference."""
        return [
            self.img_encoder,
            self.img_hyperprior,
            self.motion_encoder,
            self.motion_hyperprior,
            self.motion_decoder,
            self.res_encoder,
            self.res_hyperprior,
            self.img_decoder,
            self.context_net,
            self.res_decoder,
        ]

    def freeze_encoder_side(self) -> list[nn.Parameter]:
        """Freeze :meth:`encoder_side_modules` (and the shared perceptual I-frame decoder) for
        universal-decoder training.

        The bitstream (and the MMSE reconstruction) then stays exactly as it is, and only the
        perceptual heads' P-frame decoders learn: the universality setting of the PLF paper.
        Returns the parameters that remain trainable.
        """
        for module in self.encoder_side_modules():
            module.requires_grad_(False)
        if self.iframe_decoder is not None:
            self.iframe_decoder.requires_grad_(False)
        return [p for p in self.perceptual_heads.parameters() if p.requires_grad]

    def keyframe_modules(self) -> list[nn.Module]:
        """The I-frame codec: keyframe encoder, latent coder, MMSE decoder and the shared
        perceptual I-frame decoder (when there is one)."""
        modules = [self.img_encoder, self.img_hyperprior, self.img_decoder]
        return modules + ([self.iframe_decoder] if self.iframe_decoder is not None else [])

    def freeze_keyframe_codec(self) -> None:
        """Freeze :meth:`keyframe_modules`: every P-frame rate then shares one I-frame codec
        (train the P-frame coders of a family from one keyframe checkpoint)."""
        for module in self.keyframe_modules():
            module.requires_grad_(False)

    def aux_loss(self) -> list[Tensor]:
        """Auxiliary (quantile) losses, one per latent coder with an entropy bottleneck."""
        return [
            m.aux_loss()
            for m in (self.img_hyperprior, self.motion_hyperprior, self.res_hyperprior)
            if isinstance(m, HyperpriorLatentCoder)
        ]

    # ------------------------------------------------------------------ input checks
    def check_frames(self, frames: Any) -> list[Tensor]:
        """Validate a clip: a non-empty list of ``(B, C, H, W)`` float tensors in [0, 1]."""
        if isinstance(frames, Tensor) and frames.dim() == 5:
            raise TypeError(
                "frames must be a list of (B, C, H, W) tensors, got one 5-D tensor; "
                "use list(x.unbind(1)) for a (B, T, C, H, W) clip"
            )
        if not isinstance(frames, (list, tuple)) or len(frames) == 0:
            raise TypeError("frames must be a non-empty list of (B, C, H, W) tensors")
        first = frames[0]
        for i, x in enumerate(frames):
            self.check_frame(x, f"frame {i}")
            if x.shape != first.shape:
                raise ValueError(
                    f"frame {i} has shape {tuple(x.shape)}, frame 0 has {tuple(first.shape)}"
                )
            check_frame_values(x, f"frame {i}")
        return list(frames)

    def check_frame(self, x: Any, name: str = "frame") -> Tensor:
        """One frame's channels, size and dtype (:func:`check_frame_geometry`); the check
        every per-frame coding call runs first. Values are not checked: a reference frame
        is the decoder's unclipped reconstruction."""
        weights = next(self.parameters()).dtype
        return check_frame_geometry(x, self.channels, self.size_multiple, weights, name)

    # ------------------------------------------------------------------ prediction
    def forward_prediction(self, x_ref: Tensor, motion_info: Tensor) -> Tensor:
        """Warp ``x_ref`` with a flow in **pixels** (channels 0, 1) and a scale field."""
        flow, scale_field = motion_info[:, :2], motion_info[:, 2:]
        h, w = x_ref.shape[-2:]
        # grid_sample spans the image with [-1, 1] (align_corners=False): 2/size per pixel.
        to_grid = flow.new_tensor([2.0 / w, 2.0 / h]).view(1, 2, 1, 1)
        volume = self.gaussian_volume(x_ref, self.sigma0, self.num_levels)
        return self.warp_volume(volume, flow * to_grid, scale_field)

    def _predict(self, x_ref: Tensor, y_motion_hat: Tensor) -> Tensor:
        return self.forward_prediction(x_ref, self.motion_decoder(y_motion_hat))

    # ------------------------------------------------------------------ dither (fixed mode)
    def _fixed_coders(self) -> list[FixedRateLatentCoder]:
        return [m for m in self.modules() if isinstance(m, FixedRateLatentCoder)]

    def _reset_dither(self, seed: int | None) -> None:
        """Seed the dither stream shared by all fixed-rate coders (None: global RNG)."""
        generator = None if seed is None else torch.Generator().manual_seed(int(seed))
        for m in self._fixed_coders():
            m.generator = generator

    # ------------------------------------------------------------------ training forward
    def forward(self, frames: list[Tensor], decoder: str = "mse") -> dict[str, Any]:
        """Code a clip and return ``{"x_hat": [frames], "likelihoods": [...]}`` for one head.

        ``likelihoods`` follows ScaleSpaceFlow: ``[{"keyframe": {"y", "z"}}, {"motion":
        {...}, "residual": {...}}, ...]``. In fixed mode the likelihoods are the constant
        ``1/L`` per latent, so ``-log2`` of them sums to the exact bit count.
        """
        out = self.forward_heads(frames, (decoder,))
        return {"x_hat": out["x_hat"][decoder], "likelihoods": out["likelihoods"]}

    def forward_heads(
        self,
        frames: list[Tensor],
        heads: Iterable[str] | None = None,
        iframe: Tensor | None = None,
        detach_references: bool = False,
    ) -> dict[str, Any]:
        """One pass over the shared encoder side, decoding with several heads at once.

        Returns ``{"x_hat": {head: [frames]}, "likelihoods": [...]}``; ``heads=None`` means
        every head. The MMSE chain is always computed (it is the motion reference).
        ``iframe``, a ``(B, C, H, W)`` frame in [0, 1], replaces the perceptual heads' frame 0
        (e.g. a posterior sample of the keyframe code); they all show and continue it.
        ``detach_references``: the perceptual heads read the MMSE frames and predictions
        without their graph (:meth:`MMSEChain.with_detached_references`; end-to-end training
        in which only the MMSE head's own loss trains the MMSE head). Values are unchanged.
        """
        names = self._head_names(heads)
        chain = self.mmse_chain(frames, iframe)
        if not detach_references:
            return {"x_hat": self.decode_heads(chain, names), "likelihoods": chain.likelihoods}
        shown = self.decode_heads(chain.with_detached_references(), names)
        if "mse" in shown:
            shown["mse"] = list(chain.mmse)  # the MMSE head keeps its graph
        return {"x_hat": shown, "likelihoods": chain.likelihoods}

    def _head_names(self, heads: Iterable[str] | None) -> tuple[str, ...]:
        names = self.decoders if heads is None else _normalise_heads(heads, keep_order=True)
        for name in names:
            self.head(name)
        return names

    def mmse_chain(self, frames: list[Tensor], iframe: Tensor | None = None) -> MMSEChain:
        """Encode a clip and run the MMSE decoder: everything every head shares.

        In universal training the encoder side is frozen, so the chain of a batch can be
        computed once (under ``torch.no_grad()``) and decoded by the heads many times
        (:meth:`decode_heads`), e.g. by several critic steps and the codec step.
        """
        frames = self.check_frames(frames)
        if iframe is not None:
            iframe = self._check_iframe(iframe, frames[0])
        self._reset_dither(None if self.training else self.dither_seed)
        try:
            y_hat, key_lik = self.img_hyperprior(self.img_encoder(frames[0]))
            chain = MMSEChain(y_hat=y_hat, mmse=[self.img_decoder(y_hat)], iframe=iframe)
            chain.likelihoods.append({"keyframe": key_lik})
            # Only the keyframe reference is detached, as in ScaleSpaceFlow.
            x_ref = chain.mmse[0].detach()
            for x_cur in frames[1:]:
                y_motion_hat, motion_lik = self.motion_hyperprior(
                    self.motion_encoder(torch.cat((x_cur, x_ref), dim=1))
                )
                motion = self.motion_decoder(y_motion_hat)
                x_pred = self.forward_prediction(x_ref, motion)
                y_res_hat, res_lik = self.res_hyperprior(
                    self.res_encoder(torch.cat((x_cur - x_pred, x_pred), dim=1))
                )
                x_ref = self._mse_head.decode_inter(y_res_hat, y_motion_hat, x_pred, chain.mmse[-1])
                chain.add_inter(y_motion_hat, motion, x_pred, y_res_hat, x_ref)
                chain.likelihoods.append({"motion": motion_lik, "residual": res_lik})
        finally:
            self._reset_dither(None)
        return chain

    def decode_heads(self, chain: MMSEChain, heads: Iterable[str]) -> dict[str, list[Tensor]]:
        """Every head's displayed frames from an :class:`MMSEChain` (``"mse"``: the chain's
        own frames). A perceptual head warps its own previous frame with the decoded motion
        (``head_arch="own_past"``) and starts from the chain's given frame 0 if it has one,
        else from the shared perceptual I-frame, the MMSE I-frame (``perceptual_iframe=
        "mmse"``) or its own I-frame decoder (``"per_head"``)."""
        names = self._head_names(heads)
        out: dict[str, list[Tensor]] = {}
        for name in names:
            if name == "mse":
                out[name] = list(chain.mmse)
                continue
            head = self.head(name)
            if chain.iframe is not None:
                first = chain.iframe
            elif self._config["perceptual_iframe"] == "mmse":
                first = chain.mmse[0].detach()
            elif self.iframe_decoder is not None:
                # Trained by the ``iframe`` stage only: every P-frame head continues the same
                # detached frame 0 (the PLF paper's recipe), decoded once per chain.
                if chain.shared_iframe is None:
                    chain.shared_iframe = self.perceptual_keyframe(
                        chain.y_hat, chain.mmse[0]
                    ).detach()
                first = chain.shared_iframe
            else:
                first = head.decode_keyframe(chain.y_hat)
            shown = [first]
            for t in range(len(chain.x_pred)):
                prev = shown[-1]
                args = (chain.y_res[t], chain.y_motion[t], chain.x_pred[t], prev)
                if head.uses_own_past:
                    own = self.forward_prediction(prev, chain.motion[t])
                    shown.append(head.decode_inter(*args, own, x_mmse=chain.mmse[t + 1]))
                else:
                    shown.append(head.decode_inter(*args, None))
            out[name] = shown
        return out

    def perceptual_keyframe(self, y_hat: Tensor, x_mmse: Tensor | None = None) -> Tensor:
        """Frame 0 of the perceptual heads from the keyframe latent, with the shared perceptual
        I-frame decoder (the ``iframe`` stage trains it). ``x_mmse``, the MMSE decoder's frame
        of ``y_hat`` when the caller already has it, saves decoding it again
        (``iframe_start="mmse"`` only)."""
        if self.iframe_decoder is None:
            raise ValueError(
                "this model has no shared perceptual I-frame decoder (perceptual_iframe="
                f"{self._config['perceptual_iframe']!r}, heads {list(self.decoders)})"
            )
        if self.iframe_decoder.start == "mmse":
            return self.iframe_decoder(y_hat, self.img_decoder(y_hat) if x_mmse is None else x_mmse)
        return self.iframe_decoder(y_hat)

    def forward_keyframe_heads(self, x: Tensor) -> dict[str, Any]:
        """Code a keyframe batch ``x`` and decode it with the MMSE and the shared perceptual
        I-frame decoders: ``{"x_hat": {"mse": ..., "iframe": ...}, "likelihoods": ...}``."""
        x = self.check_frames([x])[0]
        self._reset_dither(None if self.training else self.dither_seed)
        try:
            y_hat, key_lik = self.img_hyperprior(self.img_encoder(x))
        finally:
            self._reset_dither(None)
        x_mmse = self.img_decoder(y_hat)
        return {
            "x_hat": {"mse": x_mmse, "iframe": self.perceptual_keyframe(y_hat, x_mmse)},
            "likelihoods": [{"keyframe": key_lik}],
        }

    def _check_iframe(self, iframe: Any, like: Tensor) -> Tensor:
        if not isinstance(iframe, Tensor) or iframe.shape != like.shape:
            shape = tuple(iframe.shape) if isinstance(iframe, Tensor) else type(iframe).__name__
            raise ValueError(
                f"iframe must be a tensor shaped like frame 0 {tuple(like.shape)}, got {shape}"
            )
        return self.check_frames([iframe])[0]

    # ------------------------------------------------------------------ ScaleSpaceFlow API
    def forward_keyframe(self, x: Tensor) -> tuple[Tensor, dict[str, Any]]:
        self.check_frame(x)
        y_hat, likelihoods = self.img_hyperprior(self.img_encoder(x))
        return self.img_decoder(y_hat), {"keyframe": likelihoods}

    def forward_inter(self, x_cur: Tensor, x_ref: Tensor) -> tuple[Tensor, dict[str, Any]]:
        """MMSE-head P-frame step (``x_ref`` is both motion reference and displayed frame)."""
        self.check_frame(x_cur, "x_cur")
        self.check_frame(x_ref, "x_ref")
        y_motion_hat, motion_lik = self.motion_hyperprior(
            self.motion_encoder(torch.cat((x_cur, x_ref), dim=1))
        )
        x_pred = self._predict(x_ref, y_motion_hat)
        y_res_hat, res_lik = self.res_hyperprior(
            self.res_encoder(torch.cat((x_cur - x_pred, x_pred), dim=1))
        )
        x_rec = self._mse_head.decode_inter(y_res_hat, y_motion_hat, x_pred, x_ref)
        return x_rec, {"motion": motion_lik, "residual": res_lik}

    def _start_dither(self, seed: int | None) -> int | None:
        """Fixed mode: (re)start the dither stream from ``seed`` (default
        ``self.dither_seed``) and return it; hyperprior mode: ``None``."""
        if self.rate_mode != "fixed":
            return None
        seed = self.dither_seed if seed is None else _check_seed(seed, "seed")
        self._reset_dither(seed)
        return seed

    def _inter_step(self, code: Any, x_cur: Tensor, x_ref: Tensor) -> tuple[Tensor, Any, Any]:
        """Code a P-frame's motion and residual with ``code(coder, y) -> (y_hat, coded)``
        against the MMSE reconstruction ``x_ref``; returns the MMSE reconstruction (the next
        motion reference) and the two coded latents."""
        y_motion_hat, motion = code(
            self.motion_hyperprior, self.motion_encoder(torch.cat((x_cur, x_ref), dim=1))
        )
        x_pred = self._predict(x_ref, y_motion_hat)
        y_res_hat, residual = code(
            self.res_hyperprior, self.res_encoder(torch.cat((x_cur - x_pred, x_pred), dim=1))
        )
        return self._mse_head.decode_inter(y_res_hat, y_motion_hat, x_pred, x_ref), motion, residual

    # ------------------------------------------------------------------ coding
    # One encode path: the latents of a batch are coded into CodedClip records
    # (_code_keyframe, _code_inter, _encode_clips); CompressAI's (strings, shapes) form is
    # only a conversion of them (compressai_strings.py). One decode path: records, read
    # back from that form when it is given, are decoded by _decode_clips.
    def _code_latents(
        self, coder: nn.Module, y: Tensor
    ) -> tuple[Tensor, tuple[list[CodedLatent], tuple[int, int]]]:
        """``(y_hat, (coded latent of each clip of the batch, decoder shape))``."""
        if isinstance(coder, FixedRateLatentCoder):
            y_hat, k = coder.encode_indices(y)
            latents = [CodedLatent(symbols=k[b], levels=coder.levels) for b in range(len(k))]
            shape = y.shape[-2:]
        else:
            y_hat, out = coder.compress(y)
            y_strings, z_strings = out["strings"]
            latents = [
                CodedLatent(strings=(ys, zs)) for ys, zs in zip(y_strings, z_strings, strict=True)
            ]
            shape = out["shape"]
        return y_hat, (latents, (int(shape[0]), int(shape[1])))

    def _code_keyframe(
        self, x: Tensor, seed: int | None
    ) -> tuple[Tensor, list[CodedFrame], int | None]:
        """Code a keyframe batch: ``(MMSE reconstruction, coded frame of each clip, seed)``;
        in fixed mode this (re)starts the dither stream from ``seed`` (default
        ``self.dither_seed``), the seed returned."""
        self.check_frame(x)
        seed = self._start_dither(seed)
        y_hat, (latents, shape) = self._code_latents(self.img_hyperprior, self.img_encoder(x))
        frames = [CodedFrame("key", {"keyframe": latent}, shape) for latent in latents]
        return self.img_decoder(y_hat), frames, seed

    def _code_inter(self, x_cur: Tensor, x_ref: Tensor) -> tuple[Tensor, list[CodedFrame]]:
        """Code a P-frame batch against the MMSE reconstruction ``x_ref``: ``(MMSE
        reconstruction, the next motion reference; coded frame of each clip)``."""
        self.check_frame(x_cur, "x_cur")
        self.check_frame(x_ref, "x_ref")
        x_rec, (motion, shape), (residual, _) = self._inter_step(self._code_latents, x_cur, x_ref)
        frames = [
            CodedFrame("inter", {"motion": m, "residual": r}, shape)
            for m, r in zip(motion, residual, strict=True)
        ]
        return x_rec, frames

    def _encode_clips(self, frames: list[Tensor], seed: int | None) -> list[CodedClip]:
        """Code checked ``frames`` (a batch of clips) into one :class:`CodedClip` per clip.
        The clips of a batch share the fixed-rate dither stream: their records decode
        together (:meth:`_decode_clips`), which is why this list stays private."""
        try:
            x_ref, key, seed = self._code_keyframe(frames[0], seed)
            coded = [key]
            for x in frames[1:]:
                x_ref, inter = self._code_inter(x, x_ref)
                coded.append(inter)
        finally:
            self._reset_dither(None)
        return [
            CodedClip(self.rate_mode, tuple(f[b] for f in coded), seed) for b in range(len(key))
        ]

    def encode_keyframe(self, x: Tensor, seed: int | None = None) -> tuple[Tensor, dict[str, Any]]:
        """Code a keyframe in CompressAI's form (ScaleSpaceFlow's signature); in fixed mode
        this (re)starts the dither stream from ``seed`` (default ``self.dither_seed``) and the
        keyframe's strings carry the seed (:mod:`.compressai_strings`)."""
        x_rec, frames, seed = self._code_keyframe(x, seed)
        strings, shape = frame_to_strings(frames, self.rate_mode, seed)
        return x_rec, {"strings": strings, "shape": shape}

    def encode_inter(self, x_cur: Tensor, x_ref: Tensor) -> tuple[Tensor, dict[str, Any]]:
        """Code a P-frame against the MMSE reconstruction ``x_ref``; returns the MMSE
        reconstruction (the next motion reference) and ScaleSpaceFlow's strings/shape dict."""
        x_rec, frames = self._code_inter(x_cur, x_ref)
        strings, shape = frame_to_strings(frames, self.rate_mode)
        return x_rec, {"strings": strings, "shape": shape}

    def compress_clip(self, frames: list[Tensor], seed: int | None = None) -> CodedClip:
        """Encode one clip (batch size 1) into a :class:`CodedClip`, the typed form
        ``compressai_plf.io`` writes; :meth:`compress` is the same record in CompressAI's
        form."""
        self._check_compress_seed(seed)
        frames = self.check_frames(frames)
        if frames[0].shape[0] != 1:
            raise ValueError(
                f"compress_clip codes one clip (batch size 1), got {frames[0].shape[0]}; "
                "use compress() for batches"
            )
        return self._encode_clips(frames, seed)[0]

    def compress(self, frames: list[Tensor], seed: int | None = None) -> tuple[list, list]:
        """Encode a batch of clips: ``(strings, shapes)`` per frame, as
        ``ScaleSpaceFlow.compress`` (one string per clip): the :class:`CodedClip` records of
        :meth:`compress_clip`, converted by :func:`~.compressai_strings.clips_to_strings`.
        ``seed`` is the dither seed of fixed mode; hyperprior streams carry no dither, so a
        seed there is a ``ValueError`` (it would be silently ignored)."""
        self._check_compress_seed(seed)
        frames = self.check_frames(frames)
        return clips_to_strings(self._encode_clips(frames, seed))

    def _check_compress_seed(self, seed: Any) -> None:
        if seed is not None:
            if self.rate_mode != "fixed":
                raise ValueError(
                    "seed applies to rate_mode='fixed' only: hyperprior streams carry no dither"
                )
            _check_seed(seed, "seed")

    def _latent_formats(self) -> dict[str, tuple[int, int]] | None:
        """Fixed mode: ``(planes, levels)`` of each latent, to read packed indices."""
        if self.rate_mode != "fixed":
            return None
        return {name: (c.planes, c.levels) for name, c in self._coders_by_latent().items()}

    def _coders_by_latent(self) -> dict[str, nn.Module]:
        return {
            "keyframe": self.img_hyperprior,
            "motion": self.motion_hyperprior,
            "residual": self.res_hyperprior,
        }

    def decode_keyframe(
        self, strings: list, shape: tuple[int, int], decoder: str = "mse"
    ) -> Tensor:
        """Decode a keyframe in CompressAI's form with the head ``decoder``; in fixed mode
        this (re)starts the dither stream from the seed its strings carry."""
        self._check_shapes([shape])
        frames, seed = frame_from_strings(
            "key", strings, shape, self.rate_mode, self._latent_formats()
        )
        if seed is not None:
            self._reset_dither(seed)
        (y_hat,) = self._decode_frame_latents(frames)
        if decoder != "mse" and self.iframe_decoder is not None:
            self.head(decoder)
            return self.perceptual_keyframe(y_hat)
        if self._config["perceptual_iframe"] == "mmse":
            self.head(decoder)  # an unknown head is still an error
            decoder = "mse"
        return self.head(decoder).decode_keyframe(y_hat)

    def decode_inter(self, x_ref: Tensor, strings: dict, shapes: dict) -> Tensor:
        """MMSE-head P-frame decoding (ScaleSpaceFlow's signature)."""
        self.check_frame(x_ref, "x_ref")
        self._check_shapes([shapes], keyframe_first=False)
        frames, _ = frame_from_strings(
            "inter", strings, shapes, self.rate_mode, self._latent_formats()
        )
        y_motion_hat, y_res_hat = self._decode_frame_latents(frames)
        x_pred = self._predict(x_ref, y_motion_hat)
        return self._mse_head.decode_inter(y_res_hat, y_motion_hat, x_pred, x_ref)

    def decompress(self, strings: list, shapes: list, decoder: str = "mse") -> list[Tensor]:
        """Decode a clip with the head ``decoder`` (any head, same bitstream)."""
        return self.decompress_heads(strings, shapes, (decoder,))[decoder]

    def decompress_heads(
        self,
        strings: list,
        shapes: list,
        decoders: Iterable[str] | None = None,
        iframe: Tensor | None = None,
    ) -> dict[str, list[Tensor]]:
        """Decode a batch of clips in CompressAI's form with several heads (default: all) in
        one pass: the strings are read back into :class:`CodedClip` records
        (:func:`~.compressai_strings.clips_from_strings`) and decoded as
        :meth:`decompress_clip` decodes one. The latents and the MMSE chain, every head's
        motion reference, are decoded once; each head's frames are exactly what
        :meth:`decompress` returns for it. ``iframe`` replaces the perceptual heads' frame 0,
        as in :meth:`forward_heads`."""
        names = self._decode_names(decoders)
        if isinstance(shapes, (list, tuple)):
            self._check_shapes(shapes)  # before anything is unpacked at these shapes
        clips = clips_from_strings(strings, shapes, self.rate_mode, self._latent_formats())
        return self._decode_clips(clips, names, iframe)

    def decompress_clip(
        self,
        coded: CodedClip,
        decoders: Iterable[str] | None = None,
        iframe: Tensor | None = None,
    ) -> dict[str, list[Tensor]]:
        """Decode a :class:`CodedClip` with several heads (default: all) in one pass."""
        names = self._decode_names(decoders)
        if not isinstance(coded, CodedClip):
            raise TypeError(f"coded must be a CodedClip, got {type(coded).__name__}")
        return self._decode_clips([coded], names, iframe)

    def _decode_clips(
        self, clips: Sequence[CodedClip], names: tuple[str, ...], iframe: Tensor | None
    ) -> dict[str, list[Tensor]]:
        """The one decoder of coded clips: the records of one batch (they share the dither
        stream) decoded together, as a batch, with the heads ``names``."""
        first = clips[0]
        for coded in clips:
            if coded.rate_mode != self.rate_mode:
                raise ValueError(
                    f"clip coded in rate mode {coded.rate_mode!r}, this model uses "
                    f"{self.rate_mode!r}"
                )
            if coded.seed != first.seed or [f.shape for f in coded.frames] != [
                f.shape for f in first.frames
            ]:
                raise ValueError("the clips of a batch share one dither seed and frame shapes")
        self._check_shapes([f.shape for f in first.frames])
        try:
            if first.seed is not None:
                self._reset_dither(_check_seed(first.seed, "seed"))
            # the dithers are drawn in coding order: keyframe, then motion, residual per frame
            per_frame = list(zip(*(coded.frames for coded in clips), strict=True))
            (y_hat,) = self._decode_frame_latents(per_frame[0])
            inter = [self._decode_frame_latents(frames) for frames in per_frame[1:]]
        finally:
            self._reset_dither(None)
        return self._decode_chain(y_hat, inter, names, iframe)

    def _decode_frame_latents(self, frames: Sequence[CodedFrame]) -> tuple[Tensor, ...]:
        """The decoded latents (:data:`LATENTS` order) of one frame of each clip of a batch."""
        coders = self._coders_by_latent()
        return tuple(
            self._decode_latents(coders[name], [f.latents[name] for f in frames], frames[0].shape)
            for name in LATENTS[frames[0].kind]
        )

    def _decode_latents(
        self, coder: nn.Module, latents: list[CodedLatent], shape: tuple[int, int]
    ) -> Tensor:
        if isinstance(coder, FixedRateLatentCoder):
            for latent in latents:
                symbols = latent.symbols
                if symbols is None or tuple(symbols.shape) != (coder.planes, *shape):
                    got = None if symbols is None else tuple(symbols.shape)
                    raise ValueError(f"expected symbols {(coder.planes, *shape)}, got {got}")
                if latent.levels != coder.levels:
                    raise ValueError(
                        f"symbols of {latent.levels} levels, the coder has {coder.levels}"
                    )
            return coder.decode_indices(torch.stack([latent.symbols for latent in latents]))
        if any(len(latent.strings) != 2 for latent in latents):
            raise ValueError("a hyperprior latent carries two strings (y, z)")
        return coder.decompress(
            [[latent.strings[0] for latent in latents], [latent.strings[1] for latent in latents]],
            shape,
        )

    def _decode_names(self, decoders: Iterable[str] | None) -> tuple[str, ...]:
        if isinstance(decoders, str):
            decoders = (decoders,)
        names = tuple(dict.fromkeys(self.decoders if decoders is None else decoders))
        if not names:
            raise ValueError("decoders must name at least one head")
        for name in names:
            self.head(name)
        return names

    def _decode_chain(
        self,
        y_hat: Tensor,
        inter: list[tuple[Tensor, Tensor]],
        names: tuple[str, ...],
        iframe: Tensor | None,
    ) -> dict[str, list[Tensor]]:
        """The MMSE chain of decoded latents, then every head in ``names`` from it."""
        x_ref = self.img_decoder(y_hat)
        if iframe is not None:
            iframe = self._check_iframe(iframe, x_ref)
        chain = MMSEChain(y_hat=y_hat, mmse=[x_ref], iframe=iframe)
        for y_motion_hat, y_res_hat in inter:
            motion = self.motion_decoder(y_motion_hat)
            x_pred = self.forward_prediction(x_ref, motion)
            x_ref = self._mse_head.decode_inter(y_res_hat, y_motion_hat, x_pred, x_ref)
            chain.add_inter(y_motion_hat, motion, x_pred, y_res_hat, x_ref)
        return self.decode_heads(chain, names)

    def _check_shapes(self, shapes: list, keyframe_first: bool = True) -> None:
        """Every decoder shape a pair of positive ints for frames of at most
        ``MAX_DECODE_PIXELS``: a forged shape must not make the decoder allocate without
        bound (strings too short for their shape are refused by the latent coders).
        ``keyframe_first``: ``shapes[0]`` is a key frame's, one pair rather than a dict."""
        depth = self.stages + (self.hyper_stages if self.rate_mode == "hyperprior" else 0)
        for t, shape in enumerate(shapes):
            if t == 0 and keyframe_first and isinstance(shape, dict):
                raise ValueError(
                    "frame 0: a key frame's shape is one pair (h, w), got a dict of "
                    f"{sorted(shape)}"
                )
            for part in shape.values() if isinstance(shape, dict) else (shape,):
                ok = (
                    isinstance(part, (tuple, list, torch.Size))
                    and len(part) == 2
                    and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in part)
                )
                if not ok:
                    raise ValueError(f"frame {t}: shape must be two ints >= 1, got {part!r}")
                if (part[0] << depth) * (part[1] << depth) > MAX_DECODE_PIXELS:
                    raise ValueError(
                        f"frame {t}: shape {tuple(part)} decodes frames of more than "
                        f"{MAX_DECODE_PIXELS} pixels"
                    )

    # ------------------------------------------------------------------ rate accounting
    def fixed_bits_per_frame(self, frame_size: tuple[int, int]) -> dict[str, float]:
        """Nominal bits of one keyframe and one P-frame (fixed mode, batch of one)."""
        if self.rate_mode != "fixed":
            raise ValueError("fixed_bits_per_frame applies to rate_mode='fixed' only")
        h, w = (s // 2**self.stages for s in frame_size)

        def bits(coder: FixedRateLatentCoder) -> float:
            return coder.bits((1, coder.planes, h, w))

        return {
            "keyframe": bits(self.img_hyperprior),
            "inter": bits(self.motion_hyperprior) + bits(self.res_hyperprior),
        }


def _check_seed(seed: Any, name: str) -> int:
    """A dither seed: an int in [0, 2**32) (it is stored in 4 bytes); no float, no bool."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ValueError(f"{name} must be an int in [0, 2**32), got {seed!r}")
    return seed


def _copied(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of a model configuration whose mutable values (a per-head ``synthesis_start``)
    are copied too."""
    return {k: dict(v) if isinstance(v, dict) else v for k, v in config.items()}


def _with_legacy_defaults(config: Any) -> dict[str, Any]:
    """A saved architecture record, completed with the options older files had implicitly."""
    config = dict(config) if isinstance(config, dict) else {}
    for key, value in LEGACY_CONFIG.items():
        config.setdefault(key, value)
    return config


def _normalise_heads(names: Iterable[str], keep_order: bool = False) -> tuple[str, ...]:
    if isinstance(names, str):
        names = (names,)
    names = tuple(names)
    known = head_names()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown decoder head(s) {unknown}; choose from {known}")
    if keep_order:
        return tuple(dict.fromkeys(names))
    return tuple(n for n in known if n == "mse" or n in names)
