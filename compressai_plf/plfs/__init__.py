"""Perception loss functions (PLFs): one registered definition per PLF.

``PLFS`` maps each name to its :class:`PerceptionLossFunction`; JD, FMD and SA are built in
(https://arxiv.org/abs/2305.19301, https://arxiv.org/abs/2502.10628). Register another with
:func:`register_plf` in one file: critics, losses, training, decoder heads and evaluation
pick it up from the registry.
"""

# isort: off
# Registration order is the order of tables and heads: JD, FMD, SA.
from . import jd  # noqa: F401
from . import fmd  # noqa: F401
from . import sa  # noqa: F401

# isort: on
from .base import PLFS, PerceptionLossFunction, get_plf, head_names, plf_names, register_plf

__all__ = [
    "PLFS",
    "PerceptionLossFunction",
    "get_plf",
    "head_names",
    "plf_names",
    "register_plf",
]
