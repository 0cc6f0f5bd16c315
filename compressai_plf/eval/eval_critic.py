"""Frozen evaluation critics: one shared Wasserstein-1 estimate per perception loss function.

The PLF paper (Salehkalaibar et al., NeurIPS 2023, https://arxiv.org/abs/2305.19301) reports
``W1 ≈ mean D(real) - mean D(fake)`` measured by each run's own training critic, so numbers of
different runs are not comparable. Here one critic per PLF (JD, FMD, SA; a
:class:`~compressai_plf.modules.PLFCritic`) is trained once on held-out data
(``python -m compressai_plf.eval.build_eval_critics``), saved, and then frozen and shared by
every evaluated model. Its scores are a fixed 1-Lipschitz-ish witness function: the estimate is
a lower bound on W1 along the directions that critic learned, not W1 itself (see
``docs/evaluation.md``).

A PLF whose *real* critic input holds the reconstruction (PLF-SA, https://arxiv.org/abs/2502.10628:
real ``(R_0..R_{j-1}, X_j)``) would give every head its own real side, and W1 values of
different heads would measure against different targets. The evaluation therefore measures
such PLFs against a **common past, the source frames** (``past="source"``): real
``(X_0..X_{j-1}, X_j)``, fake ``(X_0..X_{j-1}, R_j)``, i.e. "is the head's frame j a plausible
continuation of the true past". ``past="own"`` gives the PLF's own definition.

Critics built on natural video (``meta["patches"]``) see 64x64 crops; larger frames are cut
into the non-overlapping patches that fit (the remainder at the bottom and right is left
out), each patch is a clip of its own, and a clip's value is the mean over its patches.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..checkpoint import load_checkpoint, save_atomic
from ..io.weights_hash import hash_tensors
from ..losses.plf import critic_score
from ..metrics._video import VideoLike, as_video_pair, check_reduction
from ..modules.image_size import pair_size
from ..modules.plf_critic import PLFCritic
from ..plfs import get_plf
from ..results import json_ready

__all__ = ["FORMAT", "PASTS", "EvalCritics", "load_eval_critics", "reads_reconstructed_past"]

#: How a PLF whose real input holds the reconstruction is measured: against the source past
#: (common to every head) or the head's own past (the PLF's definition).
PASTS = ("source", "own")

#: ``format`` field of an evaluation-critics file.
FORMAT = "compressai_plf.eval_critics"
VERSION = 1


class EvalCritics:
    """A frozen set of evaluation critics, one :class:`PLFCritic` per PLF.

    Args:
        configs: per PLF, the keyword arguments of :class:`PLFCritic` (``plf``,
            ``num_frames``, ``channels``, ``image_size``, ``arch``, ``widths``,
            ``spectral_layers``).
        state_dicts: per PLF, the critic's weights (``None``: keep the fresh initialisation,
            for tests and for training).
        meta: how the critics were built (data, reference set, steps, validation numbers).
    """

    def __init__(
        self,
        configs: Mapping[str, Mapping[str, Any]],
        state_dicts: Mapping[str, Mapping[str, Tensor]] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(configs, Mapping) or not configs:
            raise ValueError("configs must map at least one PLF name to PLFCritic arguments")
        self.configs: dict[str, dict[str, Any]] = {}
        self.critics: dict[str, PLFCritic] = {}
        for plf, cfg in configs.items():
            plf = get_plf(plf).name
            cfg = {**dict(cfg), "plf": plf}
            critic = PLFCritic(**cfg)
            if state_dicts is not None:
                if plf not in state_dicts:
                    raise ValueError(f"no weights for the {plf!r} critic")
                critic.load_state_dict(state_dicts[plf])
            self.configs[plf] = cfg
            self.critics[plf] = critic
        shapes = {
            (c["num_frames"], c.get("channels", 3), pair_size(c.get("image_size", 64)))
            for c in self.configs.values()
        }
        if len(shapes) != 1:
            raise ValueError(f"critics disagree on (frames, channels, image size): {shapes}")
        self.num_frames, self.channels, self.image_size = shapes.pop()
        self.meta = dict(meta or {})
        self.freeze()

    @property
    def plfs(self) -> tuple[str, ...]:
        return tuple(self.critics)

    def freeze(self) -> EvalCritics:
        """Eval mode (spectral norm stops its power iteration) and no gradients."""
        for c in self.critics.values():
            c.eval().requires_grad_(False)
        return self

    def to(self, device: str | torch.device) -> EvalCritics:
        for c in self.critics.values():
            c.to(device)
        return self

    @property
    def patches(self) -> bool:
        """Whether frames larger than the critics' size are scored patch by patch."""
        return bool(self.meta.get("patches", False))

    def check_frames(self, channels: int, height: int, width: int) -> None:
        """Raise ``ValueError`` unless frames of this geometry fit the critics (frames at least
        the critics' size, with :attr:`patches`)."""
        ph, pw = self.image_size
        fits = (height, width) == (ph, pw) or (self.patches and height >= ph and width >= pw)
        if channels != self.channels or not fits:
            size = f"{ph}x{pw}" + (" (or larger: scored per patch)" if self.patches else "")
            raise ValueError(
                f"evaluation critics take {self.channels}-channel {size} frames, got "
                f"{channels}-channel {height}x{width} frames"
            )

    def _as_patches(self, x: Tensor) -> tuple[Tensor, int]:
        """``(N, T, C, H, W)`` -> ``(N * P, T, C, ph, pw)`` non-overlapping patches, and P."""
        ph, pw = self.image_size
        n, t, c, h, w = x.shape
        if (h, w) == (ph, pw):
            return x, 1
        rows, cols = h // ph, w // pw
        x = x[..., : rows * ph, : cols * pw].reshape(n, t, c, rows, ph, cols, pw)
        x = x.permute(0, 3, 5, 1, 2, 4, 6).reshape(n * rows * cols, t, c, ph, pw)
        return x, rows * cols

    @torch.no_grad()
    def w1_per_frame(
        self,
        plf: str,
        source: VideoLike,
        recon: VideoLike,
        reduction: str = "mean",
        past: str = "source",
    ) -> Tensor:
        """``D_j(real) - D_j(fake)`` of the ``plf`` critic at every frame index ``j``.

        Real and fake inputs are those of the PLF's ``critic_inputs``; for a PLF whose real
        input holds the reconstructed past (SA), ``past="source"`` replaces that past by the
        source frames on both sides, so every head is measured against the same real clips
        (see the module docstring). Frames without a critic are NaN:
        frame 0 (the I-frame) for JD, and frames ``j >= num_frames``. Averaged over
        clips, an entry is the W1 estimate ``mean D(real) - mean D(fake)`` of that frame.

        Args:
            plf: ``"jd"``, ``"fmd"`` or ``"sa"`` (one of :attr:`plfs`).
            source: source clips, ``(N, T, C, H, W)`` or a list of ``T`` ``(N, C, H, W)``.
            recon: reconstructions, same shape.
            reduction: ``"mean"`` (over clips, shape ``(T,)``) or ``"none"`` (``(N, T)``).
            past: ``"source"`` (common past) or ``"own"`` (the head's past), see above.
        """
        check_reduction(reduction)
        if past not in PASTS:
            raise ValueError(f"past must be one of {PASTS}, got {past!r}")
        if plf not in self.critics:
            raise ValueError(f"no {plf!r} critic; these critics are {list(self.critics)}")
        x, x_hat = as_video_pair(source, recon)
        n, t, c, h, w = x.shape
        self.check_frames(c, h, w)
        (x, patches), (x_hat, _) = self._as_patches(x), self._as_patches(x_hat)
        critic = self.critics[plf]
        device = next(critic.parameters()).device
        frames = list(x.to(device).unbind(1))
        rec = list(x_hat.to(device).unbind(1))
        out = torch.full((n * patches, t), float("nan"), dtype=torch.float64)
        definition = get_plf(plf)
        for j in (j for j in critic.frames if j < t):
            shown = rec
            if past == "source" and reads_reconstructed_past(definition, frames, j):
                shown = [*frames[:j], *rec[j:]]
            real, fake = definition.critic_inputs(frames, shown, j)
            diff = critic_score(critic, real, j) - critic_score(critic, fake, j)
            out[:, j] = diff.double().cpu()
        out = out.view(n, patches, t).mean(1)  # a clip's value: the mean over its patches
        return out.mean(0) if reduction == "mean" else out

    def state(self) -> dict[str, Any]:
        """Everything :meth:`load` needs, as tensors and plain types (``weights_only``-safe)."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "configs": {p: json_ready(c, finite=False) for p, c in self.configs.items()},
            "critics": {p: c.state_dict() for p, c in self.critics.items()},
            "meta": json_ready(self.meta, finite=False),  # a torch file keeps inf/NaN
        }

    def save(self, path: str | os.PathLike) -> Path:
        return save_atomic(self.state(), path)

    def sha256(self) -> str:
        """Hash of the critics' weights: two evaluations' W1 values are comparable only when
        the same critics measured them (a rebuild from the same recipe is not bit-identical
        across machines and thread counts)."""
        h = hashlib.sha256()
        for plf in sorted(self.critics):
            state = self.critics[plf].state_dict()
            hash_tensors(h, {f"{plf}.{k}": v for k, v in state.items()})
        return h.hexdigest()

    @classmethod
    def load(cls, path: str | os.PathLike, map_location: str = "cpu") -> EvalCritics:
        """Read a file written by :meth:`save` (with ``weights_only=True``)."""
        obj = load_checkpoint(
            path,
            map_location,
            what="evaluation critics",
            hint="build them with `python -m compressai_plf.eval.build_eval_critics "
            "--data-root MNIST_ROOT --out FILE`",
        )
        if obj.get("format") != FORMAT:
            raise ValueError(f"{path} is not an evaluation-critics file (format {FORMAT!r})")
        if obj.get("version") != VERSION:
            raise ValueError(f"{path}: unsupported evaluation-critics version {obj.get('version')}")
        return cls(obj["configs"], obj["critics"], obj.get("meta"))


def reads_reconstructed_past(definition: Any, frames: list[Tensor], j: int) -> bool:
    """Whether the PLF's real critic input at frame ``j`` reads the reconstruction (as SA's
    displayed past does): probed with a reconstruction that differs from ``frames``
    everywhere."""
    probe = [f + 1.0 for f in frames]
    real_a = definition.critic_inputs(frames, frames, j)[0]
    real_b = definition.critic_inputs(frames, probe, j)[0]
    return not torch.equal(real_a, real_b)


def load_eval_critics(path: str | os.PathLike, map_location: str = "cpu") -> EvalCritics:
    """Load frozen evaluation critics saved by ``build_eval_critics``."""
    return EvalCritics.load(path, map_location)
