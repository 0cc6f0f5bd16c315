"""compressai_plf: perception loss functions and perceptual objectives for CompressAI.

Importing the package registers its models, criteria, modules and datasets in
``compressai.registry`` and adds its zoo entries to ``compressai.zoo.video_models``.
"""

import warnings

with warnings.catch_warnings():
    # CompressAI imports torch_geometric, which calls the deprecated ``torch.jit.script`` at
    # import time; only that FutureWarning is silenced, and only during this import.
    warnings.filterwarnings(
        "ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning
    )
    import compressai.zoo as _compressai_zoo

from . import datasets, losses, models, modules, zoo  # noqa: E402, F401  (fill the registries)

_compressai_zoo.video_models.update(zoo.video_models)

__version__ = "0.1.0"
