"""``python -m compressai_plf.utils.update_model CKPT -a ssf_plf``: CompressAI's update_model
with this package's architectures (see :mod:`.plugin`)."""

from .plugin import main

if __name__ == "__main__":
    main()
