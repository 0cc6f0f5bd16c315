"""The definition of a perception loss function (PLF) and the registry of PLFs.

A PLF of the PLF paper (Salehkalaibar et al., NeurIPS 2023, https://arxiv.org/abs/2305.19301;
self-adaptive PLF, https://arxiv.org/abs/2502.10628) is fully described by three things:
which frames it constrains, how many frames its critic sees at frame ``j`` and how the real
and fake critic inputs are built. Everything else (critics, losses, training stages, decoder
heads, evaluation critics, tables) iterates over :data:`PLFS`, so a new PLF is one file that
subclasses :class:`PerceptionLossFunction` and decorates it with :func:`register_plf`.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

__all__ = ["PLFS", "PerceptionLossFunction", "get_plf", "head_names", "plf_names", "register_plf"]


class PerceptionLossFunction:
    """One perception loss function.

    Subclasses set ``name`` (lower case, also the decoder head's name), ``title`` (for
    tables), ``first_frame`` (the first 0-based frame with a critic term) and implement
    :meth:`stacked_frames` and :meth:`build_inputs`.
    """

    name: str = ""
    title: str = ""
    first_frame: int = 0

    def constrained_frames(self, num_frames: int, start: int = 0) -> range:
        """0-based frames with a critic term in clips of ``num_frames``; frames before
        ``start`` are fixed conditions (e.g. a shared, frozen I-frame) and get none."""
        if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError(f"num_frames must be a positive int, got {num_frames!r}")
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise ValueError(f"start must be a non-negative int, got {start!r}")
        return range(max(self.first_frame, start), num_frames)

    def stacked_frames(self, j: int) -> int:
        """Number of frames stacked along channels in the critic input at frame ``j``."""
        raise NotImplementedError

    def build_inputs(
        self, frames: Sequence[Tensor], recon: Sequence[Tensor], j: int
    ) -> tuple[Tensor, Tensor]:
        """``(real, fake)`` critic inputs at frame ``j`` (arguments already checked)."""
        raise NotImplementedError

    def critic_inputs(
        self, frames: Sequence[Tensor], recon: Sequence[Tensor], j: int
    ) -> tuple[Tensor, Tensor]:
        """Checked ``(real, fake)`` critic inputs at 0-based frame ``j``, each
        ``(B, stacked_frames(j) * C, H, W)``; gradients reach ``recon`` only through the fake
        stack."""
        if len(frames) != len(recon) or len(frames) == 0:
            raise ValueError(
                f"frames and recon must be non-empty lists of equal length, got {len(frames)} "
                f"and {len(recon)}"
            )
        if isinstance(j, bool) or not isinstance(j, int) or not 0 <= j < len(frames):
            raise ValueError(f"frame index j={j!r} out of range for {len(frames)} frames")
        for x, r in zip(frames[: j + 1], recon[: j + 1], strict=True):
            if x.dim() != 4 or x.shape != r.shape:
                raise ValueError(
                    f"frames must be (B, C, H, W) tensors matching recon, got {tuple(x.shape)} "
                    f"and {tuple(r.shape)}"
                )
        return self.build_inputs(frames, recon, j)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


#: Registered PLFs by name, in registration order (JD, FMD, SA, then any added later).
PLFS: dict[str, PerceptionLossFunction] = {}

#: Names that can never be a PLF: the MMSE decoder head is called ``"mse"``.
RESERVED = ("mse",)


def register_plf(cls: type[PerceptionLossFunction]) -> type[PerceptionLossFunction]:
    """Class decorator: register one instance of ``cls`` under ``cls.name``."""
    name = cls.name
    if not isinstance(name, str) or not name or name != name.lower() or name in RESERVED:
        raise ValueError(f"a PLF needs a lower-case name other than {RESERVED}, got {name!r}")
    if name in PLFS and type(PLFS[name]) is not cls:
        raise ValueError(f"a different PLF is already registered as {name!r}")
    PLFS[name] = cls()
    return cls


def plf_names() -> tuple[str, ...]:
    """Names of the registered PLFs (also the perceptual decoder heads' names)."""
    return tuple(PLFS)


def head_names() -> tuple[str, ...]:
    """Decoder head names: the MMSE head ``"mse"``, then one per registered PLF."""
    return (*RESERVED, *PLFS)


def get_plf(name: str) -> PerceptionLossFunction:
    """The registered PLF called ``name`` (case-insensitive)."""
    if isinstance(name, str) and name.lower() in PLFS:
        return PLFS[name.lower()]
    raise ValueError(f"unknown PLF {name!r}: expected one of {plf_names()}")
