"""Architectures and training targets of the ``ssf_plf`` zoo qualities.

A zoo entry is (``family``, ``rate_mode``, ``quality``); every family shares the quality scale
1..9:

* ``family="natural"`` (the default, as ``compressai.zoo.ssf2020`` codes RGB): RGB natural
  video, ``rate_mode="hyperprior"`` only, widths :data:`NATURAL_WIDTHS` (sized for a CPU
  training budget; :func:`rgb_architecture` gives ``ssf2020``'s full widths).
* ``family="mmnist"``: 1-channel 64x64 Moving MNIST, the PLF paper's data, in two rate modes:

  * ``rate_mode="hyperprior"``: widths :data:`HYPERPRIOR_WIDTHS`.
  * ``rate_mode="fixed"``: the PLF paper's regime (https://arxiv.org/abs/2305.19301): frames
    coded to 1x1 latents, a 12-bit keyframe (12 latents, 2 levels) and P-frames of motion and
    residual latents of :data:`FIXED_PFRAME_PLANES` numbers each, quantised to
    :data:`FIXED_PFRAME_LEVELS` levels; :data:`FIXED_PFRAME_BITS` is what that architecture
    codes (:func:`fixed_frame_bits`): 2 to 48 bits, and 256 at quality 9 (the reproduction's
    high rate). Own-past perceptual heads (``head_arch="own_past"``) with no I-frame generator
    of their own (``perceptual_iframe="mmse"``: they continue the MMSE I-frame, or a frame 0
    given at decode time such as a posterior sample), as the shipped family was trained.
    Fixed rate exists only for Moving MNIST, so ``rate_mode="fixed"`` alone selects it.

Hyperprior entries are trained with the video rate-distortion loss ``lmbda * 255**2 * MSE +
bpp``; ``quality`` picks ``lmbda`` from :data:`HYPERPRIOR_LAMBDAS` (CompressAI's image-zoo MSE
lambdas 0.0018 ... 0.18, extended by one doubling to nine levels).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models.symbol_packing import symbol_bits

QUALITIES = range(1, 10)
METRICS = ("mse",)
FAMILIES = ("natural", "mmnist")
RATE_MODES = ("hyperprior", "fixed")

HYPERPRIOR_LAMBDAS = {
    1: 0.0018,
    2: 0.0035,
    3: 0.0067,
    4: 0.0130,
    5: 0.0250,
    6: 0.0483,
    7: 0.0932,
    8: 0.1800,
    9: 0.3600,
}

# Moving MNIST hyperprior codec: 1-channel frames, latents at 1/16 (4x4 for 64x64 frames), hyper-latents
# at 1/64. About 1.5 M parameters, so three qualities fit the package's weight budget.
HYPERPRIOR_WIDTHS = {
    "channels": 1,
    "mid_planes": 48,
    "latent_planes": 32,
    "hyper_planes": 32,
    "context_planes": 24,
    "stages": 4,
    "hyper_stages": 2,
    "num_levels": 3,
    "sigma0": 1.5,
}

# Natural-video zoo codec: RGB frames, latents at 1/16 and hyper-latents at 1/64 as in the
# Moving MNIST family (frames multiple of 64), narrower: with the MMSE head and one own-past
# perceptual head (shared I-frame generator of width 32) 0.93 M parameters, about 1.9 MB in
# float16, so three qualities fit beside the Moving MNIST files in the package's 25 MB.
NATURAL_WIDTHS = {
    "channels": 3,
    "mid_planes": 32,
    "latent_planes": 24,
    "hyper_planes": 24,
    "context_planes": 16,
    "stages": 4,
    "hyper_stages": 2,
    "num_levels": 3,
    "sigma0": 1.5,
    "iframe_planes": 32,
}

#: Numbers in each P-frame latent (motion, and residual) of the fixed-rate qualities.
FIXED_PFRAME_PLANES = {1: 1, 2: 2, 3: 4, 4: 6, 5: 8, 6: 12, 7: 16, 8: 24, 9: 32}
#: Quantiser levels of those numbers: binary, except quality 9, whose 16 levels (4 bits each)
#: give the reproduction's high rate, 256 bits per P-frame: at 64 bits the MMSE frame 1 was
#: a recognisable digit in 29 % of test clips, too little for PLF-FMD to sharpen into the
#: source digit (docs/results.md, the campaign).
FIXED_PFRAME_LEVELS = {q: 16 if q == 9 else 2 for q in range(1, 10)}
FIXED_KEYFRAME_PLANES = 12
#: Moving MNIST frames are 64x64: six stages of downsampling give 1x1 latents.
MMNIST_FRAME_SIZE = (64, 64)
# Widths of the fixed-rate zoo codecs: 32/16 keeps a model with four heads near 1.5 M
# parameters (the zoo ships several inside the package) and trains ~3x faster on a CPU than
# 64/32, the paper-scale width `benchmarks/train_speed.py` measures.
FIXED_MID_PLANES = 32
FIXED_CONTEXT_PLANES = 16


def resolve_family(family: str | None, rate_mode: str = "hyperprior") -> str:
    """The zoo family of an entry: ``family`` if given, else ``"mmnist"`` for
    ``rate_mode="fixed"`` (the only fixed-rate family) and ``"natural"`` otherwise.

    Raises:
        ValueError: an unknown family or rate mode, or a pair the zoo has no family for.
    """
    if rate_mode not in RATE_MODES:
        raise ValueError(f"rate_mode must be 'hyperprior' or 'fixed', got {rate_mode!r}")
    if family is None:
        return "mmnist" if rate_mode == "fixed" else "natural"
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    if family == "natural" and rate_mode == "fixed":
        raise ValueError(
            "the natural-video family is entropy-coded (rate_mode='hyperprior'); fixed rate "
            "is the Moving MNIST family (family='mmnist')"
        )
    return family


def architecture(
    quality: int, rate_mode: str = "hyperprior", family: str | None = None
) -> dict[str, Any]:
    """Constructor arguments of :class:`~compressai_plf.models.ScaleSpaceFlowPLF` for a zoo
    entry (``family`` as :func:`resolve_family` resolves it)."""
    check_quality(quality)
    family = resolve_family(family, rate_mode)
    if rate_mode == "hyperprior":
        widths = NATURAL_WIDTHS if family == "natural" else HYPERPRIOR_WIDTHS
        return {"rate_mode": "hyperprior", **widths}
    if rate_mode == "fixed":
        half = FIXED_PFRAME_PLANES[quality]
        return {
            "rate_mode": "fixed",
            "channels": 1,
            "mid_planes": FIXED_MID_PLANES,
            "context_planes": FIXED_CONTEXT_PLANES,
            "stages": 6,
            "num_levels": 1,
            "sigma0": 1.5,
            "keyframe_planes": FIXED_KEYFRAME_PLANES,
            "keyframe_levels": 2,
            "motion_planes": half,
            "residual_planes": half,
            "latent_planes": half,
            "levels": FIXED_PFRAME_LEVELS[quality],
            "head_arch": "own_past",
            "perceptual_iframe": "mmse",
        }
    raise ValueError(f"rate_mode must be 'hyperprior' or 'fixed', got {rate_mode!r}")


def fixed_frame_bits(
    config: Mapping[str, Any], frame_size: tuple[int, int] = MMNIST_FRAME_SIZE
) -> dict[str, float]:
    """Bits of one keyframe and one P-frame of a fixed-rate model with constructor arguments
    ``config`` (:func:`architecture`, or a weight file's stored config) on ``frame_size``
    frames: the latents' :func:`~compressai_plf.models.symbol_packing.symbol_bits`, as
    ``ScaleSpaceFlowPLF.fixed_bits_per_frame`` counts them on a built model."""
    h, w = (s // 2 ** config["stages"] for s in frame_size)
    inter = (config["motion_planes"] + config["residual_planes"]) * h * w
    return {
        "keyframe": symbol_bits(config["keyframe_planes"] * h * w, config["keyframe_levels"]),
        "inter": symbol_bits(inter, config["levels"]),
    }


def rgb_architecture() -> dict[str, Any]:
    """CompressAI ``ssf2020``'s widths (RGB, 128/192, five scale-space levels) in hyperprior
    mode: the constructor's defaults, for training on natural RGB video such as Vimeo-90k."""
    return {"rate_mode": "hyperprior"}


def check_quality(quality: int) -> None:
    # A bool is an int in Python: ssf_plf(True) must not build quality 1.
    if isinstance(quality, bool) or not isinstance(quality, int) or quality not in QUALITIES:
        raise ValueError(f"Invalid quality value ({quality}), must be an integer in 1..9")


def check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f'Invalid metric "{metric}", must be one of {METRICS}')


def tiny_architecture(rate_mode: str = "hyperprior") -> dict[str, Any]:
    """A smoke-test sized architecture (every head, seconds on a CPU) for tests, plumbing
    benchmarks and quick demos; not a zoo quality.

    ``"hyperprior"``: 3-channel frames, latents at 1/8 and hyper-latents at 1/32 of the frame
    (sizes multiple of 32). ``"fixed"``: the paper's regime at toy width: 1-channel 64x64
    frames to 1x1 latents, a 12-bit keyframe and P-frames of 3 + 3 four-level latents.
    """
    heads = ("mse", "jd", "fmd", "sa")
    if rate_mode == "hyperprior":
        return {
            "mid_planes": 16,
            "latent_planes": 16,
            "hyper_planes": 16,
            "context_planes": 8,
            "stages": 3,
            "hyper_stages": 2,
            "num_levels": 3,
            "decoders": heads,
        }
    if rate_mode == "fixed":
        return {
            "channels": 1,
            "mid_planes": 16,
            "context_planes": 8,
            "stages": 6,
            "num_levels": 1,
            "rate_mode": "fixed",
            "keyframe_planes": 12,
            "keyframe_levels": 2,
            "latent_planes": 3,
            "levels": 4,
            "decoders": heads,
        }
    raise ValueError(f"rate_mode must be 'hyperprior' or 'fixed', got {rate_mode!r}")


#: The keys of a recipe's ``preset``.
PRESET_KEYS = frozenset({"quality", "rate_mode", "family"})


def expand_preset(recipe: dict[str, Any]) -> dict[str, Any]:
    """A training recipe with its ``"preset"`` resolved: what the zoo preset states, then
    what the recipe overrides.

    ``"preset": {"quality": q, "rate_mode": "fixed" | "hyperprior", "family": "natural" |
    "mmnist"}`` (``family`` optional, as in :func:`resolve_family`) gives ``model``
    ``"ssf_plf"``, ``model_args`` :func:`architecture` ``(q, rate_mode, family)`` updated with the
    recipe's own ``model_args`` (e.g. ``decoders``, ``head_arch``), and in the hyperprior
    family the quality's ``lmbda`` (:data:`HYPERPRIOR_LAMBDAS`) unless the recipe sets one.
    A recipe without ``"preset"`` is returned unchanged.

    Raises:
        ValueError: a malformed preset, or one combined with a model other than ``ssf_plf``.
    """
    if "preset" not in recipe:
        return dict(recipe)
    out = dict(recipe)
    preset = out.pop("preset")
    # Only what selects the architecture and lambda; a key read nowhere (e.g. "metric": it
    # changes neither) would be silently ignored, so it is refused.
    unknown = set(preset) - PRESET_KEYS if isinstance(preset, dict) else set()
    if not isinstance(preset, dict) or unknown:
        what = f"unknown keys {sorted(unknown)}" if unknown else f"got {preset!r}"
        raise ValueError(
            'recipe "preset" must be {"quality": Q, "rate_mode": "fixed" | "hyperprior", '
            f'"family": "natural" | "mmnist"}}: {what}'
        )
    quality, rate_mode = preset.get("quality"), preset.get("rate_mode", "hyperprior")
    family = preset.get("family")
    check_quality(quality)
    if out.setdefault("model", "ssf_plf") != "ssf_plf":
        raise ValueError(f"a zoo preset builds ssf_plf, not {out['model']!r}")
    overrides = out.get("model_args") or {}
    if not isinstance(overrides, dict):
        raise ValueError(f"recipe model_args must be an object, got {overrides!r}")
    out["model_args"] = {**architecture(quality, rate_mode, family), **overrides}
    if rate_mode == "hyperprior" and "lmbda" not in out and "lambda" not in out:
        out["lmbda"] = HYPERPRIOR_LAMBDAS[quality]
    return out


#: Bits per P-frame of each fixed-rate quality on Moving MNIST (derived from the architecture).
FIXED_PFRAME_BITS = {
    q: round(fixed_frame_bits(architecture(q, "fixed"))["inter"]) for q in QUALITIES
}
#: Bits of the fixed-rate keyframe (the same for every quality).
FIXED_KEYFRAME_BITS = round(fixed_frame_bits(architecture(1, "fixed"))["keyframe"])
