"""compressai_plf."""
