"""Network building blocks: anti-aliased downsampling, the 3D clip discriminator, the PLF
Wasserstein critics and a frozen LPIPS. Importing this package registers them in
``compressai.registry.MODULES``."""

from .antialias import Blur2d, Blur3d, BlurDownsample2d, BlurDownsample3d, blur_kernel
from .critic3d import Critic3D
from .dcgan_critic import DCGANCritic
from .discriminator3d import Discriminator3D
from .frozen_lpips import BACKBONE_FILES, FrozenLPIPS
from .plf_critic import PLFCritic

__all__ = [
    "BACKBONE_FILES",
    "Blur2d",
    "Blur3d",
    "BlurDownsample2d",
    "BlurDownsample3d",
    "Critic3D",
    "DCGANCritic",
    "Discriminator3D",
    "FrozenLPIPS",
    "PLFCritic",
    "blur_kernel",
]
