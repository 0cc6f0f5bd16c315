"""``ssf_plf`` zoo entry, mirroring ``compressai.zoo.ssf2020``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..checkpoint import load_ssf_plf
from ..models import ScaleSpaceFlowPLF
from .presets import architecture, check_metric, check_quality, resolve_family

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def weights_name(
    quality: int, metric: str = "mse", rate_mode: str = "hyperprior", family: str | None = None
) -> str:
    """File name of an entry's weights: ``ssf_plf-natural-hyperprior-mse-q3.pth.tar``; the
    Moving MNIST files keep the names they had before families existed
    (``ssf_plf-fixed-mse-q1.pth.tar``, ``ssf_plf-hyperprior-mse-q3.pth.tar``)."""
    family = resolve_family(family, rate_mode)
    prefix = "ssf_plf" if family == "mmnist" else f"ssf_plf-{family}"
    return f"{prefix}-{rate_mode}-{metric}-q{quality}.pth.tar"


def weights_path(
    quality: int, metric: str = "mse", rate_mode: str = "hyperprior", family: str | None = None
) -> Path:
    """Where the shipped weights of an entry live (the file may not exist)."""
    return WEIGHTS_DIR / weights_name(quality, metric, rate_mode, family)


def load_weights_file(path: str | Path) -> ScaleSpaceFlowPLF:
    """The model stored in a zoo weight file (float16 weights load into float32; Gaussian
    conditional tables, left out of the files, are rebuilt by ``from_state_dict``)."""
    return load_ssf_plf(path, what="zoo weight file")


def ssf_plf(
    quality: int,
    metric: str = "mse",
    pretrained: bool = False,
    progress: bool = True,
    **kwargs: Any,
) -> ScaleSpaceFlowPLF:
    r"""ScaleSpaceFlow with conditional residual coding and PLF decoder heads.

    Salehkalaibar et al., "On the choice of perception loss function for learned video
    compression", NeurIPS 2023, https://arxiv.org/abs/2305.19301.

    Args:
        quality: quality level, 1 (lowest rate) to 9 (highest rate); see
            :mod:`compressai_plf.zoo.presets` for the lambdas and bit budgets.
        metric: optimised metric, ``"mse"``.
        pretrained: load the weights shipped with the package (offline).
        progress: kept for signature compatibility with CompressAI's zoo (weights are local).
        **kwargs: ``family`` (``"natural"``: RGB natural video, the default as for
            ``ssf2020``; ``"mmnist"``: 1-channel Moving MNIST), ``rate_mode``
            (``"hyperprior"``, default, or ``"fixed"``, which is Moving MNIST only) and
            architecture options of :class:`ScaleSpaceFlowPLF`, e.g.
            ``decoders=("mse", "jd", "fmd", "sa")``; see :mod:`compressai_plf.zoo.presets`.
    """
    del progress
    check_quality(quality)
    check_metric(metric)
    rate_mode = kwargs.pop("rate_mode", "hyperprior")
    family = resolve_family(kwargs.pop("family", None), rate_mode)
    config = {**architecture(quality, rate_mode, family), **kwargs}
    if not pretrained:
        return ScaleSpaceFlowPLF(**config)

    path = weights_path(quality, metric, rate_mode, family)
    if not path.is_file():
        raise RuntimeError(
            f"no pretrained weights are shipped for ssf_plf quality {quality} "
            f"(family={family!r}, metric={metric!r}, rate_mode={rate_mode!r}): expected "
            f"{path}. Train them with "
            "`python examples/train_video.py --config zoo/<recipe>.json` (see zoo/README.md) "
            "or load your own checkpoint with ScaleSpaceFlowPLF.from_state_dict()."
        )
    net = load_weights_file(path)
    wanted = kwargs.pop("decoders", None)
    if wanted is not None:
        missing = set(wanted) - set(net.decoders)
        if missing:
            raise ValueError(
                f"pretrained ssf_plf q{quality} ({family}, {rate_mode}) has decoder heads "
                f"{list(net.decoders)}, not {sorted(missing)}"
            )
    differ = {k: (v, net.config.get(k)) for k, v in kwargs.items() if net.config.get(k) != v}
    if differ:
        raise ValueError(
            f"pretrained ssf_plf q{quality} has a fixed architecture; requested vs shipped: {differ}"
        )
    return net
