"""Natural RGB training clips in Vimeo-90k's septuplet layout, built once from a folder of
video files (the project's shared ``video/`` folder), for :class:`VideoClipFolder`.

Each video file (``.h264``, ``.mp4``, ``.avi``, ``.y4m``) except the held-out test clips is
decoded (its first ``7 * septuplets_per_file`` frames), scaled down by an integer-free box
filter so that its height is at most ``max_height`` (Vimeo-90k's 256: HD sources would
otherwise dominate the random crops with flat close-ups) and cut into consecutive 7-frame
septuplets ``sequences/<file stem>/<k>/im1.png .. im7.png``. The Vimeo-90k septuplets of
``vimeo_dir`` are copied in as ``sequences/vimeo-<folder>/<k>``. ``train.list``
and ``test.list`` hold a random 5 % of the septuplets out for the trainer's held-out loss; the
**test clips of the natural family** are the files named in :data:`HELD_OUT`, which never
enter the folder: Foreman (``foreman_cif_*``, whose first 16 frames are
``yuv/foreman_352x288_25Hz_8bit_P420.yuv``) and the VMAF park clip (``vmaf_src01_*``, i.e.
``yuv/src01_160x90_25Hz_8bit_P420.yuv``).

Usage::

    python -m compressai_plf.datasets.natural_septuplets ../shared/data/video DATA/natural
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .ffmpeg_decode import decode_video
from .video_clip_folder import find_sequences, write_split_lists

__all__ = ["HELD_OUT", "build_natural_septuplets"]

#: File-name prefixes of the natural family's test clips (never written to the folder).
HELD_OUT = ("foreman", "vmaf_src01")
VIDEO_SUFFIXES = (".h264", ".mp4", ".avi", ".y4m")
SEPTUPLET = 7


def _downscale(frame: np.ndarray, max_height: int) -> Image.Image:
    image = Image.fromarray(frame)
    h, w = frame.shape[:2]
    if h <= max_height:
        return image
    size = (max(1, round(w * max_height / h)), max_height)
    return image.resize(size, Image.Resampling.BOX)


def build_natural_septuplets(
    video_dir: str | os.PathLike,
    out: str | os.PathLike,
    septuplets_per_file: int = 12,
    max_height: int = 256,
    vimeo_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Write the training folder; returns ``{"sources": {name: septuplets}, "held_out":
    [files], "sequences": count}``.

    Args:
        video_dir: folder of video files (its top level only; ``kth/`` and ``yuv/`` are not
            read).
        out: the folder to write (``sequences/``, ``train.list``, ``test.list``).
        septuplets_per_file: septuplets cut from each video file (from its first frames).
        max_height: frames taller than this are scaled down to it.
        vimeo_dir: a Vimeo-90k folder holding ``sequences/`` (default
            ``video_dir/vimeo_septuplet_sample`` when it exists).

    Raises:
        FileNotFoundError: ``video_dir`` is not a folder, or nothing could be collected.
    """
    video_dir, out = Path(video_dir), Path(out)
    if not video_dir.is_dir():
        raise FileNotFoundError(f"video folder not found: {video_dir}")
    if septuplets_per_file < 1 or max_height < 1:
        raise ValueError("septuplets_per_file and max_height must be >= 1")
    seq_dir = out / "sequences"
    seq_dir.mkdir(parents=True, exist_ok=True)
    sources: dict[str, int] = {}
    held_out: list[str] = []
    for path in sorted(p for p in video_dir.iterdir() if p.suffix in VIDEO_SUFFIXES):
        if path.name.startswith(HELD_OUT):
            held_out.append(path.name)
            continue
        frames = decode_video(path, "rgb24", max_frames=SEPTUPLET * septuplets_per_file)
        count = len(frames) // SEPTUPLET
        for k in range(count):
            folder = seq_dir / path.stem / f"{k + 1:04d}"
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(SEPTUPLET):
                image = _downscale(frames[k * SEPTUPLET + i], max_height)
                image.save(folder / f"im{i + 1}.png")
        sources[path.name] = count
    vimeo = Path(vimeo_dir) if vimeo_dir else video_dir / "vimeo_septuplet_sample"
    if (vimeo / "sequences").is_dir():
        for name in find_sequences(vimeo):
            top, sub = name.split("/")
            target = seq_dir / f"vimeo-{top}" / sub
            if not target.exists():  # a copy: the datasets' folder walk skips linked folders
                shutil.copytree(vimeo / "sequences" / name, target)
            sources[f"vimeo/{name}"] = 1
    if not sources:
        raise FileNotFoundError(f"no training video under {video_dir}")
    write_split_lists(out, test_fraction=0.05)
    return {"sources": sources, "held_out": held_out, "sequences": len(find_sequences(out))}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from ..utils.cli_errors import one_line_errors

    p = argparse.ArgumentParser(
        prog="python -m compressai_plf.datasets.natural_septuplets", description=__doc__
    )
    p.add_argument("video_dir", help="folder of video files, e.g. ../shared/data/video")
    p.add_argument("out", help="training folder to write (VideoClipFolder's -d)")
    p.add_argument("--septuplets-per-file", type=int, default=12)
    p.add_argument("--max-height", type=int, default=256)
    p.add_argument("--vimeo-dir", default=None)
    args = p.parse_args(argv)
    with one_line_errors():
        info = build_natural_septuplets(
            args.video_dir, args.out, args.septuplets_per_file, args.max_height, args.vimeo_dir
        )
    print(f"{info['sequences']} septuplets in {args.out}; held out: {info['held_out']}")
    return info


if __name__ == "__main__":
    main()
