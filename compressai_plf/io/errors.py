"""Exceptions raised when a coded clip cannot be decoded.

All of them derive from :class:`BitstreamError`, itself a ``ValueError``, so a caller can catch
every "this file cannot be decoded" case at once, and a bug in the decoder (any other exception
type) is never mistaken for damaged data.
"""

from __future__ import annotations


class BitstreamError(ValueError):
    """A coded clip was rejected; the message names the problem."""


class NotAClipError(BitstreamError):
    """The data does not start with the clip magic bytes (foreign or empty file)."""


class TruncatedClipError(BitstreamError):
    """The data is shorter than the length its header declares."""


class CorruptClipError(BitstreamError):
    """Checksum mismatch, or header fields that contradict each other or the payload."""


class UnsupportedVersionError(BitstreamError):
    """The clip was written in a container version this reader does not know."""


class ModelMismatchError(BitstreamError):
    """The clip was encoded by another architecture, rate mode or set of weights."""
