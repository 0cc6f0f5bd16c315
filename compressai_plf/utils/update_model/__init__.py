"""CompressAI's ``update_model`` with compressai_plf's architectures added."""

from .plugin import install, load_checkpoint, main

__all__ = ["install", "load_checkpoint", "main"]
