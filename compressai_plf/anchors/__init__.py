"""Classical low-delay P anchors (x264, x265) through ffmpeg."""

from .ffmpeg import encoder_available, ffmpeg_available
from .low_delay_p import AnchorResult, LowDelayPAnchor, frames_to_planes, planes_to_frames
from .rd_sweep import anchor_rd_results
from .x264 import X264LowDelayP
from .x265 import X265LowDelayP

__all__ = [
    "AnchorResult",
    "LowDelayPAnchor",
    "X264LowDelayP",
    "X265LowDelayP",
    "anchor_rd_results",
    "encoder_available",
    "ffmpeg_available",
    "frames_to_planes",
    "planes_to_frames",
]
