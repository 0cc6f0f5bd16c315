"""Classical low-delay P anchors (x264, x265) through ffmpeg. They are measured like every
codec, through ``compressai_plf.eval`` (``AnchorCodec``, ``anchor_rd_results``)."""

from .ffmpeg import encoder_available, ffmpeg_available
from .low_delay_p import AnchorResult, LowDelayPAnchor, frames_to_planes, planes_to_frames
from .x264 import X264LowDelayP
from .x265 import X265LowDelayP

__all__ = [
    "AnchorResult",
    "LowDelayPAnchor",
    "X264LowDelayP",
    "X265LowDelayP",
    "encoder_available",
    "ffmpeg_available",
    "frames_to_planes",
    "planes_to_frames",
]
