"""Utilities for compressai_plf."""
