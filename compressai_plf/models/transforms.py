"""Configurable convolution stacks of ScaleSpaceFlow (Agustsson et al., CVPR 2020).

CompressAI defines these stacks inside ``ScaleSpaceFlow.__init__`` with fixed widths and four
stride-2 stages. Here depth and widths are parameters, so a 64x64 clip can be coded at its
native size (six stages reach a 1x1 latent, as in the PLF paper's Moving MNIST codec,
https://arxiv.org/abs/2305.19301). Layer indices match CompressAI's, so an ``ssf2020`` state
dict loads into the default configuration key for key.
"""

from __future__ import annotations

import torch.nn as nn
from compressai.layers import QReLU
from compressai.models.utils import conv, deconv
from torch import Tensor


def _check_depth(stages: int) -> None:
    if stages < 1:
        raise ValueError(f"a transform needs at least one stride-2 stage, got {stages}")


def _stack(layer, in_planes: int, mid_planes: int, out_planes: int, stages: int) -> nn.Sequential:
    """``stages`` 5x5 stride-2 ``layer``s with ReLU between them (``layer`` is CompressAI's
    ``conv`` or ``deconv``), so layer indices match ScaleSpaceFlow's ``nn.Sequential``."""
    _check_depth(stages)
    layers: list[nn.Module] = []
    for i in range(stages):
        cin = in_planes if i == 0 else mid_planes
        if i == stages - 1:
            layers.append(layer(cin, out_planes, kernel_size=5, stride=2))
        else:
            layers += [layer(cin, mid_planes, kernel_size=5, stride=2), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


def analysis_transform(
    in_planes: int, mid_planes: int, out_planes: int, stages: int
) -> nn.Sequential:
    """The SSF encoder: ``stages`` stride-2 convolutions (downsampling by ``2**stages``)."""
    return _stack(conv, in_planes, mid_planes, out_planes, stages)


def synthesis_transform(
    in_planes: int, mid_planes: int, out_planes: int, stages: int
) -> nn.Sequential:
    """The SSF decoder: ``stages`` stride-2 transposed convolutions."""
    return _stack(deconv, in_planes, mid_planes, out_planes, stages)


class HyperSynthesisQReLU(nn.Module):
    """Hyper-decoder for the scales: transposed convolutions each followed by a QReLU.

    Attribute names (``deconv1``, ``deconv2``, ...) follow CompressAI's
    ``HyperDecoderWithQReLU`` so that its weights load unchanged.
    """

    def __init__(self, in_planes: int, mid_planes: int, out_planes: int, stages: int) -> None:
        super().__init__()
        _check_depth(stages)
        self.stages = stages
        for i in range(stages):
            cin = in_planes if i == 0 else mid_planes
            cout = out_planes if i == stages - 1 else mid_planes
            setattr(self, f"deconv{i + 1}", deconv(cin, cout, kernel_size=5, stride=2))

    def forward(self, x: Tensor) -> Tensor:
        for i in range(self.stages):
            x = QReLU.apply(getattr(self, f"deconv{i + 1}")(x), 8, 100)
        return x
