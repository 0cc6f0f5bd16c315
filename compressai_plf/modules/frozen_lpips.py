"""LPIPS (Zhang et al., "The Unreasonable Effectiveness of Deep Features as a Perceptual
Metric", https://arxiv.org/abs/1801.03924) as a frozen, always-eval loss module.

The ``lpips`` package ships only its calibrated linear heads; the ImageNet backbone comes from
torchvision's download cache, which does not exist offline. This wrapper builds the package's
network with a randomly initialised trunk (no download), then loads the trunk weights from a
given file or from ``$TORCH_HOME/hub/checkpoints`` and fails with the file name when they are
missing. Dropout in the heads would make the score random in train mode, so the network is
kept in eval mode and frozen whatever its parent does.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch
from compressai.registry import register_module
from torch import Tensor, nn

__all__ = ["BACKBONE_FILES", "FrozenLPIPS"]

#: torchvision weight files of each LPIPS trunk, as named in torch's hub cache.
BACKBONE_FILES = {
    "alex": "alexnet-owt-7be5be79.pth",
    "vgg": "vgg16-397923af.pth",
    "squeeze": "squeezenet1_1-b8a52dc0.pth",
}


def _load_trunk(net: nn.Module, path: Path) -> None:
    # lpips splits torchvision's ``features`` into slices whose children keep their indices.
    from ..checkpoint import load_checkpoint, state_dict_of  # checkpoint imports the models

    what = "LPIPS backbone weight file"
    state = state_dict_of(load_checkpoint(path, what=what), f"{what} {path}")
    mapped = {}
    for name, _ in net.named_parameters():
        _slice, idx, rest = name.split(".", 2)
        key = f"features.{idx}.{rest}"
        if key not in state:
            raise ValueError(f"backbone weight file {path} has no tensor {key!r}")
        mapped[name] = state[key]
    net.load_state_dict(mapped, strict=True)


@register_module("FrozenLPIPS")
class FrozenLPIPS(nn.Module):
    """Frozen LPIPS distance between batches of images in [0, 1].

    Args:
        net: trunk, ``"alex"`` (default), ``"vgg"`` or ``"squeeze"``.
        weights: path to the torchvision trunk weight file. When None the file
            ``BACKBONE_FILES[net]`` is looked up in ``torch.hub.get_dir()/checkpoints``.
        backbone: an already built trunk module (tests): it must return the list of feature
            maps the ``lpips`` trunk of ``net`` returns (same channel counts). Overrides
            ``weights``.

    Raises:
        FileNotFoundError: if no backbone is given and the weight file does not exist.

    ``forward(x, y)`` takes ``(B, C, H, W)`` tensors in [0, 1] with C = 1 (repeated to RGB)
    or 3 and returns the per-sample distance, shape ``(B,)``. Gradients flow to the inputs,
    never to the network.
    """

    def __init__(
        self,
        net: str = "alex",
        weights: str | os.PathLike | None = None,
        backbone: nn.Module | None = None,
    ) -> None:
        super().__init__()
        import lpips  # local: the package prints and imports torchvision at import time

        if net not in BACKBONE_FILES:
            raise ValueError(
                f"unknown LPIPS trunk {net!r}: expected one of {tuple(BACKBONE_FILES)}"
            )
        path = None
        if backbone is None:
            path = (
                Path(weights)
                if weights is not None
                else (Path(torch.hub.get_dir()) / "checkpoints" / BACKBONE_FILES[net])
            )
            if not path.is_file():
                raise FileNotFoundError(
                    f"LPIPS {net} backbone weights not found: {path}. Copy torchvision's "
                    f"{BACKBONE_FILES[net]} there (no download happens here) or pass weights=PATH."
                )
        # pnet_rand avoids the download; use_dropout=True is what makes lpips load its heads.
        with warnings.catch_warnings():  # torchvision's 'pretrained' deprecation notice
            warnings.simplefilter("ignore", UserWarning)
            self.model = lpips.LPIPS(
                net=net, pretrained=True, pnet_rand=True, use_dropout=True, verbose=False
            )
        if backbone is not None:
            self.model.net = backbone
        else:
            _load_trunk(self.model.net, path)
        self.weights_path = str(path) if path is not None else None
        self.model.eval()
        self.model.requires_grad_(False)

    def train(self, mode: bool = True) -> FrozenLPIPS:
        """Follows the parent's mode flag but keeps the network in eval mode."""
        super().train(mode)
        self.model.eval()
        return self

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        if x.shape != y.shape or x.dim() != 4 or x.shape[1] not in (1, 3):
            raise ValueError(
                f"FrozenLPIPS expects two (B, 1|3, H, W) tensors of equal shape, got "
                f"{tuple(x.shape)} and {tuple(y.shape)}"
            )
        if x.shape[1] == 1:
            x, y = x.expand(-1, 3, -1, -1), y.expand(-1, 3, -1, -1)
        return self.model(x, y, normalize=True).flatten()
