"""CompressAI's video eval tool with compressai_plf's architectures added."""

from .__main__ import load_checkpoint, main

__all__ = ["load_checkpoint", "main"]
