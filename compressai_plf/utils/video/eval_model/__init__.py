"""CompressAI's video eval tool with compressai_plf's architectures added."""

from .plugin import install, load_checkpoint, main, state_digest

__all__ = ["install", "load_checkpoint", "main", "state_digest"]
