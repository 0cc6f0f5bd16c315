"""x265 (H.265/HEVC) low-delay P anchor."""

from __future__ import annotations

from .low_delay_p import LowDelayPAnchor


class X265LowDelayP(LowDelayPAnchor):
    """x265 through ffmpeg: ``-tune zerolatency``, ``bframes=0``, fixed GOP, no threads.

    ``info=0`` stops x265 from writing its version/options SEI. ``pools=none`` and
    ``frame-threads=1`` keep the output deterministic.

    Args:
        quality: CRF or QP (0..51).
        rate_control: ``"crf"`` or ``"qp"``.
        preset: x265 preset.
        keyint: intra period, ``None`` for the first frame only.
        psnr_tune: ``aq-mode=0:psy-rd=0:psy-rdoq=0``, the settings of ``--tune psnr``.
    """

    name = "x265"
    encoder = "libx265"
    stream_format = "hevc"

    def codec_args(self, keyint: int) -> list[str]:
        params = [
            "info=0",
            f"keyint={keyint}",
            f"min-keyint={keyint}",
            "scenecut=0",
            "bframes=0",
            "pools=none",
            "frame-threads=1",
            "log-level=error",
        ]
        if self.psnr_tune:
            params += ["aq-mode=0", "psy-rd=0", "psy-rdoq=0"]
        return ["-x265-params", ":".join(params)]
