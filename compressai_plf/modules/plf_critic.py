"""One Wasserstein critic per constrained frame for a perception loss function (PLF).

In the PLF paper (https://arxiv.org/abs/2305.19301) each frame ``j`` a PLF constrains has its
own critic, estimating the Wasserstein-1 distance between the real and fake inputs of
the PLF's :meth:`~compressai_plf.plfs.PerceptionLossFunction.critic_inputs` for that frame: JD
at the P-frames (the joint up to ``j``), FMD and SA at every frame, the I-frame included
(:meth:`~compressai_plf.plfs.PerceptionLossFunction.constrained_frames`). For JD and SA the stack
grows with ``j`` (``j + 1`` frames); for FMD it is one frame, but a separate critic per frame
still measures each marginal rather than their mixture.
"""

from __future__ import annotations

from collections.abc import Sequence

from compressai.registry import register_module
from torch import Tensor, nn

from ..plfs import get_plf
from .critic3d import Critic3D
from .dcgan_critic import DCGANCritic

__all__ = ["PLFCritic"]

ARCHS = ("dcgan", "3d")


@register_module("PLFCritic")
class PLFCritic(nn.Module):
    """Critics of one PLF for its constrained frames (0-based; frame 0 is the I-frame): JD
    ``1..num_frames-1``, FMD and SA ``0..num_frames-1``.

    Called as ``critic(stack, j)`` with ``stack`` from ``get_plf(plf).critic_inputs(..., j)``;
    ``frame_indexed = True`` tells :class:`~compressai_plf.losses.PLFLoss` to pass ``j``.

    Args:
        plf: a registered PLF name (:func:`compressai_plf.plfs.plf_names`).
        num_frames: frames per clip (>= 2).
        channels: channels of one frame (1 for Moving MNIST, 3 for RGB).
        image_size: H = W or ``(H, W)`` (needed by the ``"dcgan"`` architecture).
        arch: ``"dcgan"`` (:class:`DCGANCritic`, the paper's) or ``"3d"`` (:class:`Critic3D`,
            for larger frames).
        widths: per-layer widths forwarded to the critic (its default when None).
        spectral_layers: leading convolutions with spectral norm.
        start_frame: first frame with a critic (1 when frame 0 is a shared, frozen I-frame).
    """

    frame_indexed = True

    def __init__(
        self,
        plf: str = "jd",
        num_frames: int = 3,
        channels: int = 3,
        image_size: int | Sequence[int] = 64,
        arch: str = "dcgan",
        widths: Sequence[int] | None = None,
        spectral_layers: int = 3,
        start_frame: int = 0,
    ) -> None:
        super().__init__()
        if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 2:
            raise ValueError(
                f"num_frames must be an int >= 2 (one I- and one P-frame), got {num_frames!r}"
            )
        if arch not in ARCHS:
            raise ValueError(f"unknown critic arch {arch!r}: expected one of {ARCHS}")
        definition = get_plf(plf)
        self.plf = definition.name
        self.num_frames = num_frames
        kwargs = {"spectral_layers": spectral_layers}
        if widths is not None:
            kwargs["widths"] = tuple(widths)
        critics = {}
        self.frames = tuple(definition.constrained_frames(num_frames, start_frame))
        if not self.frames:
            raise ValueError(f"start_frame {start_frame} leaves no frame of {num_frames}")
        for j in self.frames:
            k = definition.stacked_frames(j)
            if arch == "dcgan":
                critics[str(j)] = DCGANCritic(channels, k, image_size, **kwargs)
            else:
                critics[str(j)] = Critic3D(channels, **kwargs)
        self.critics = nn.ModuleDict(critics)

    def forward(self, x: Tensor, j: int) -> Tensor:
        if isinstance(j, bool) or not isinstance(j, int) or j not in self.frames:
            raise ValueError(
                f"{self.plf} critic: frame index j must be one of {list(self.frames)}, got {j!r}"
            )
        return self.critics[str(j)](x)
