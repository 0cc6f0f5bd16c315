"""``python -m compressai_plf.utils.video.eval_model``: CompressAI's video eval tool with this
package's architectures (see :mod:`.plugin`)."""

from .plugin import main

if __name__ == "__main__":
    main()
