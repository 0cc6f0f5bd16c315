"""Datasets of the PLF experiments, registered in ``compressai.registry.DATASETS``.

Registered names: ``MovingMNIST``, ``KTH``, ``VideoClipFolder``, ``RawYUVFolder``; the ones
``compressai_plf.eval`` measures (:mod:`.eval_split`): ``mmnist`` (MovingMNIST), ``kth`` (KTH)
and ``yuv`` (RawYUVFolder).
"""

from .data_root import ENV_VAR, resolve_root
from .eval_split import EVAL_DATASETS, EvalSplit, eval_dataset
from .ffmpeg_decode import decode_video, pyav_available
from .kth import KTH, KTHVideo, parse_kth_name
from .mnist_idx import find_mnist_file, load_mnist, load_mnist_tensors, read_idx
from .moving_mnist import (
    MovingMNIST,
    bouncing_walk,
    place_digits,
    reflect,
    render_clip,
    resize_digit,
    resize_digits,
)
from .raw_yuv import (
    YUVFormatError,
    YUVInfo,
    num_frames,
    parse_yuv_name,
    read_yuv420,
    read_yuv420_planes,
    rgb_to_yuv420,
    write_yuv420,
    yuv420_name,
    yuv420_to_rgb,
)
from .raw_yuv_folder import RawYUVFolder
from .video_clip_folder import VideoClipFolder, find_sequences, write_split_lists
from .y4m import Y4MVideo, read_y4m, write_y4m

__all__ = [
    "ENV_VAR",
    "EVAL_DATASETS",
    "EvalSplit",
    "KTH",
    "KTHVideo",
    "MovingMNIST",
    "RawYUVFolder",
    "VideoClipFolder",
    "Y4MVideo",
    "YUVFormatError",
    "YUVInfo",
    "bouncing_walk",
    "decode_video",
    "eval_dataset",
    "find_mnist_file",
    "find_sequences",
    "load_mnist",
    "load_mnist_tensors",
    "num_frames",
    "parse_kth_name",
    "parse_yuv_name",
    "place_digits",
    "pyav_available",
    "read_idx",
    "read_y4m",
    "read_yuv420",
    "read_yuv420_planes",
    "reflect",
    "render_clip",
    "resize_digit",
    "resize_digits",
    "resolve_root",
    "rgb_to_yuv420",
    "write_split_lists",
    "write_y4m",
    "write_yuv420",
    "yuv420_name",
    "yuv420_to_rgb",
]
