"""x264 (H.264/AVC) low-delay P anchor."""

from __future__ import annotations

from .low_delay_p import LowDelayPAnchor


class X264LowDelayP(LowDelayPAnchor):
    """x264 through ffmpeg: ``-tune zerolatency -bf 0``, fixed GOP, one thread.

    ``-bsf:v filter_units=remove_types=6`` drops SEI NAL units (x264's version/options
    banner). A single thread keeps the output deterministic (zerolatency uses sliced threads,
    which change the slice layout with the thread count).

    Args:
        quality: CRF or QP (0..51).
        rate_control: ``"crf"`` or ``"qp"``.
        preset: x264 preset.
        keyint: intra period, ``None`` for the first frame only.
        psnr_tune: ``aq-mode=0:psy=0``, the settings of ``--tune psnr``.
    """

    name = "x264"
    encoder = "libx264"
    stream_format = "h264"

    def codec_args(self, keyint: int) -> list[str]:
        args = ["-g", str(keyint), "-keyint_min", str(keyint), "-sc_threshold", "0"]
        args += ["-bf", "0", "-threads", "1"]
        if self.psnr_tune:
            args += ["-x264-params", "aq-mode=0:psy=0"]
        return args + ["-bsf:v", "filter_units=remove_types=6"]
