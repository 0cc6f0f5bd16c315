"""compressai_plf: perception loss functions and perceptual objectives for CompressAI.

Importing the package registers its models, criteria, modules and datasets in
``compressai.registry`` and adds its zoo entries to ``compressai.zoo.video_models``.
"""

import compressai.zoo as _compressai_zoo

from . import datasets, losses, models, modules, zoo  # noqa: F401  (fill the registries)

_compressai_zoo.video_models.update(zoo.video_models)

__version__ = "0.1.0"
