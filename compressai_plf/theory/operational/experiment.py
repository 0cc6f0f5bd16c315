"""One operational point: a learned codec and its PLF decoders beside the theory.

For per-frame rates ``R`` (bits per component) the learned system of
:mod:`compressai_plf.theory.operational` is trained (MMSE, then one universal decoder per
registered PLF, https://arxiv.org/abs/2305.19301) and measured on held-out sequences: per-frame
MSE per component and, per PLF, the squared Gaussian W2 of its critic inputs per component.
Two theoretical references come with it:

- ``theory``: the Gauss-Markov optimum at the same rates and the measured perception (the
  information-theoretic bound: a finite-dimensional scalar quantiser cannot reach it);
- ``matched``: the optimum for the MMSE representation whose per-frame MMSE equals the learned
  one (:func:`effective_rates`), which takes the quantiser's loss out and compares only what
  the perceptual decoders do with the representation they were given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from ...plfs import get_plf, plf_names
from ..gauss_markov import PLFS, optimal_decoder
from ..representation import MMSERepresentation
from ..source import GaussMarkovSource
from ..wasserstein import gaussian_w2_squared
from .codec import CausalMLPCodec
from .plf_decoder import PLFDecoder
from .sampling import sample_sequences
from .training import TrainConfig, as_frames, train_mmse, train_plf_decoder

__all__ = ["effective_rates", "evaluate", "run_point", "theory_distortion"]


def effective_rates(source: GaussMarkovSource, mmse_distortion: Sequence[float]) -> list[float]:
    """Rates at which the theory's MMSE encoder has the given per-frame MMSE distortion.

    Frame by frame, ``R_j = 0.5 log2(p_j / m_j)`` with the prediction error ``p_j`` of the
    theory's representation at the rates found so far (0 where ``m_j >= p_j``).
    """
    rates: list[float] = []
    for j, m in enumerate(mmse_distortion):
        p = MMSERepresentation(source, rates + [0.0] * (source.frames - j)).p[j]
        rates.append(float(max(0.0, 0.5 * np.log2(p / m))) if m > 0 else float("inf"))
    return rates


def theory_distortion(
    source: GaussMarkovSource, rates: Sequence[float], plf: str, perception: Sequence[float]
) -> list[float] | None:
    """The theory's per-frame distortion of ``plf`` (``"mse"``, the MMSE decoder, or a PLF) at per-frame budgets
    ``perception``; ``None`` for a PLF the theory does not model.

    A JD budget that decreases with the frame index (measured on samples, it can by noise)
    is raised to the running maximum, since the joint budget is cumulative (docs/theory.md §1).
    """
    if plf not in PLFS:
        return None
    rep = MMSERepresentation(source, list(rates))
    budgets = np.maximum(np.asarray(perception, dtype=float), 0.0)
    try:
        dec = optimal_decoder(source, list(rates), plf, budgets)
    except ValueError:
        if not np.any(np.diff(budgets) < 0):
            raise
        dec = optimal_decoder(source, list(rates), plf, np.maximum.accumulate(budgets))
    return [float(v) for v in dec.distortion(rep)]


@torch.no_grad()
def evaluate(
    codec: CausalMLPCodec,
    decoders: dict[str, PLFDecoder],
    source: GaussMarkovSource,
    samples: int,
    seed: int,
) -> dict:
    """Per-frame MSE per component of the MMSE and PLF decoders and, per PLF, its own
    perception (squared Gaussian W2 per component between the empirical laws of its critic
    inputs) on ``samples`` held-out sequences; dithers and noise from ``seed``."""
    codec.eval()
    codec.seed_dither(seed)
    gen = torch.Generator().manual_seed(seed)
    x = sample_sequences(source, codec.dim, samples, gen)
    rep = codec(x)
    noise = [torch.randn(samples, codec.dim, generator=gen) for _ in range(codec.frames)]
    frames = as_frames(x)
    out: dict = {"mse": {"distortion": _mse(rep["x_hat"], x)}}
    out["mse"]["perception"] = {name: _perception(name, frames, rep["x_hat"]) for name in decoders}
    for name, decoder in decoders.items():
        y = decoder(rep["latents"], rep["x_hat"], noise)
        out[name] = {"distortion": _mse(y, x), "perception": _perception(name, frames, y)}
    codec.seed_dither(None)
    return out


def _mse(recon: Sequence[torch.Tensor], x: torch.Tensor) -> list[float]:
    return [float((r - x[:, j]).square().mean()) for j, r in enumerate(recon)]


def _perception(
    name: str, frames: list[torch.Tensor], recon: Sequence[torch.Tensor]
) -> list[float]:
    """Gaussian W2^2 per component at every frame (JD's frame 1 included: its marginal)."""
    definition = get_plf(name)
    fakes = [r.reshape(r.shape[0], 1, 1, -1) for r in recon]
    dim = frames[0].shape[-1]
    values = []
    for j in range(len(frames)):
        real, fake = definition.critic_inputs(frames, fakes, j)
        real = real.flatten(1).double().numpy()
        fake = fake.flatten(1).double().numpy()
        mean_gap = float(np.square(real.mean(0) - fake.mean(0)).sum())
        w2 = gaussian_w2_squared(np.cov(real.T, ddof=0), np.cov(fake.T, ddof=0)) + mean_gap
        values.append(w2 / dim)
    return values


def run_point(
    source: GaussMarkovSource,
    dim: int,
    rates: Sequence[float],
    config: TrainConfig,
    seed: int,
    eval_samples: int,
    plfs: Sequence[str] | None = None,
    tick: Callable[[], None] = lambda: None,
) -> dict:
    """Train and measure the learned system at per-frame ``rates``; compare with the theory.

    Returns a JSON-ready dict: layout (bits, latents, levels per frame), ``learned``,
    ``theory`` (same rates, measured perception; ``zero_perception`` too), ``effective_rates``,
    ``matched`` and the ratios learned / theory.
    """
    names = list(plf_names() if plfs is None else plfs)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    codec = CausalMLPCodec(dim, rates, config.hidden)
    train_mmse(codec, source, config, gen, tick)
    decoders = {name: train_plf_decoder(name, codec, source, config, gen, tick) for name in names}
    learned = evaluate(codec, decoders, source, eval_samples, seed + 10_007)
    eff = effective_rates(source, learned["mse"]["distortion"])
    zeros = [0.0] * source.frames
    theory = {"mse": theory_distortion(source, rates, "mse", zeros)}
    matched = {"mse": theory_distortion(source, eff, "mse", zeros)}
    zero_perception = {}
    for name in names:
        measured = learned[name]["perception"]
        theory[name] = theory_distortion(source, rates, name, measured)
        matched[name] = theory_distortion(source, eff, name, measured)
        zero_perception[name] = theory_distortion(source, rates, name, zeros)
    ratio = {}
    for key in ["mse", *names]:
        d = learned[key]["distortion"]
        ratio[key] = {
            "theory": None if theory[key] is None else _ratios(d, theory[key]),
            "matched": None if matched[key] is None else _ratios(d, matched[key]),
        }
    return {
        "rates": [float(r) for r in rates],
        "bits": codec.bits,
        "latents": codec.latents,
        "levels": codec.levels,
        "learned": learned,
        "theory": theory,
        "theory_zero_perception": zero_perception,
        "effective_rates": eff,
        "matched": matched,
        "ratio": ratio,
    }


def _ratios(learned: Sequence[float], reference: Sequence[float]) -> list[float | None]:
    return [float(a / b) if b > 1e-12 else None for a, b in zip(learned, reference, strict=True)]
