r"""KTH human actions as used by the PLF paper (jogging, running, walking; scenario d4; 64x64).

KTH: C. Schuldt, I. Laptev, B. Caputo, "Recognizing Human Actions: A Local SVM Approach",
ICPR 2004, https://www.csc.kth.se/cvap/actions/. Split of S. Salehkalaibar et al., "On the
Choice of Perception Loss Function for Learned Video Compression", NeurIPS 2023,
https://arxiv.org/abs/2305.19301: persons 1-20 for training, 21-25 for testing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from compressai.registry import register_dataset
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from .data_root import resolve_root
from .eval_split import EvalSplit, eval_dataset
from .ffmpeg_decode import decode_video
from .y4m import read_y4m

__all__ = ["KTH", "KTHVideo", "parse_kth_name"]

ACTIONS = ("boxing", "handclapping", "handwaving", "jogging", "running", "walking")
SPLIT_PERSONS = {"train": tuple(range(1, 21)), "test": tuple(range(21, 26))}
VIDEO_EXTENSIONS = {".avi", ".mp4", ".mkv", ".y4m"}
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".pgm"}

_NAME = re.compile(r"^person(\d+)_([a-z]+)_d(\d+)(?:_seg(\d+))?(?:_uncomp)?$")


@dataclass(frozen=True)
class KTHVideo:
    """One KTH source: a video file or a folder of pre-extracted frames.

    Attributes:
        path: file or folder.
        person: person id (1-25).
        action: action name.
        scenario: scenario number (1-4).
        segment: segment number when the name carries ``_seg<k>``, else ``None``.
    """

    path: Path
    person: int
    action: str
    scenario: int
    segment: int | None


def parse_kth_name(path: str | os.PathLike) -> KTHVideo | None:
    """Parse ``person<NN>_<action>_d<S>[_seg<K>][_uncomp][.ext]``; ``None`` if it does not match."""
    path = Path(path)
    stem = path.stem if path.suffix.lower() in VIDEO_EXTENSIONS else path.name
    m = _NAME.match(stem)
    if m is None or m.group(2) not in ACTIONS:
        return None
    seg = int(m.group(4)) if m.group(4) else None
    return KTHVideo(path, int(m.group(1)), m.group(2), int(m.group(3)), seg)


def _scenario_number(s: int | str) -> int:
    if isinstance(s, str) and re.fullmatch(r"d?\d", s):
        return int(s.lstrip("d"))
    if isinstance(s, int) and not isinstance(s, bool):
        return s
    raise ValueError(f"scenario must be an int 1-4 or a string like 'd4', got {s!r}")


def _read_frames(video: KTHVideo) -> np.ndarray:
    """Gray uint8 ``(T, H, W)`` frames of one source."""
    if video.path.is_dir():
        files = [p for p in video.path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS]
        # Natural order, so frame_10 comes after frame_9.
        files.sort(key=lambda p: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)])
        if not files:
            raise FileNotFoundError(f"no frame images in {video.path}")
        return np.stack([np.asarray(Image.open(p).convert("L")) for p in files])
    if video.path.suffix.lower() == ".y4m":
        return read_y4m(video.path).y
    return decode_video(video.path, pix_fmt="gray")


def _preprocess(frames: np.ndarray, size: int, center_crop: bool) -> Tensor:
    x = torch.from_numpy(np.array(frames, dtype=np.float32)).unsqueeze(1)
    if center_crop:
        h, w = x.shape[-2:]
        s = min(h, w)
        top, left = (h - s) // 2, (w - s) // 2
        x = x[..., top : top + s, left : left + s]
    x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return x.round_().clamp_(0, 255).to(torch.uint8)[:, 0]


@eval_dataset("kth")
@register_dataset("KTH")
class KTH(Dataset):
    r"""KTH action clips for the PLF paper's experiments.

    Paper: S. Salehkalaibar et al., https://arxiv.org/abs/2305.19301; data: Schuldt, Laptev,
    Caputo, ICPR 2004, https://www.csc.kth.se/cvap/actions/ (non-commercial research use).

    Sources are found recursively under ``root`` by name,
    ``person<NN>_<action>_d<S>[_seg<K>][_uncomp]`` with extension ``.avi``/``.mp4``/``.mkv``
    (decoded with PyAV) or ``.y4m`` (read in numpy), or a folder of that name
    holding pre-extracted frame images. The original archives (``jogging/*.avi``, ...) can be
    unpacked under ``root`` as they are. All selected sources are decoded once at
    construction, converted to gray, optionally centre-cropped to a square and resized to
    ``size`` x ``size``, and kept in memory as uint8.

    Items are consecutive windows of ``frames`` frames (``frame_step`` apart), starting every
    ``stride`` frames, in a fixed order; an item is a tuple of ``frames`` tensors
    ``(channels, size, size)`` in [0, 1].

    Args:
        root: folder with the KTH files; ``None`` uses ``$PLF_DATA_ROOT/kth``.
        split: ``"train"`` (persons 1-20) or ``"test"`` (persons 21-25).
        frames: clip length.
        actions: actions to keep.
        scenarios: scenarios to keep, as ints or ``"d4"``-style strings.
        persons: person ids to keep, overriding the split's persons.
        size: output side.
        center_crop: crop the 160x120 frames to a centred square before resizing (keeps the
            aspect ratio); ``False`` squeezes the whole frame.
        stride: frames between window starts (default: ``frames``, non-overlapping).
        frame_step: temporal subsampling inside a window.
        channels: 1, or 3 to repeat the gray frame.
    """

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        split: str = "train",
        frames: int = 3,
        actions: tuple[str, ...] | list[str] = ("jogging", "running", "walking"),
        scenarios: tuple[int | str, ...] | list[int | str] = (4,),
        persons: tuple[int, ...] | list[int] | None = None,
        size: int = 64,
        center_crop: bool = True,
        stride: int | None = None,
        frame_step: int = 1,
        channels: int = 1,
    ):
        if split not in SPLIT_PERSONS:
            raise ValueError(f"unknown split {split!r}: expected 'train' or 'test'")
        unknown = sorted(set(actions) - set(ACTIONS))
        if unknown:
            raise ValueError(f"unknown KTH actions {unknown}; expected some of {ACTIONS}")
        stride = frames if stride is None else stride
        for name, value in (
            ("frames", frames),
            ("size", size),
            ("stride", stride),
            ("frame_step", frame_step),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels!r}")

        self.root = resolve_root(root, "kth")
        if not self.root.is_dir():
            raise FileNotFoundError(f"KTH root folder not found: {self.root}")
        self.split = split
        self.frames = frames
        self.frame_step = frame_step
        self.channels = channels
        scen = {_scenario_number(s) for s in scenarios}
        keep_persons = set(SPLIT_PERSONS[split] if persons is None else persons)

        found = (parse_kth_name(p) for p in sorted(self.root.rglob("person*")))
        self.videos: list[KTHVideo] = [
            v
            for v in found
            if v is not None
            and (v.path.is_dir() or v.path.suffix.lower() in VIDEO_EXTENSIONS)
            and v.action in actions
            and v.scenario in scen
            and v.person in keep_persons
        ]
        if not self.videos:
            raise FileNotFoundError(
                f"no KTH videos under {self.root} for actions {list(actions)}, scenarios "
                f"{sorted(scen)}, persons {sorted(keep_persons)} (expected names like "
                "person01_jogging_d4_uncomp.avi)"
            )
        self.clips = [_preprocess(_read_frames(v), size, center_crop) for v in self.videos]
        span = (frames - 1) * frame_step + 1
        self.index = [
            (i, s)
            for i, clip in enumerate(self.clips)
            for s in range(0, clip.shape[0] - span + 1, stride)
        ]
        if not self.index:
            raise ValueError(f"every selected KTH video is shorter than {span} frames")

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        i, s = self.index[index]
        window = self.clips[i][s : s + (self.frames - 1) * self.frame_step + 1 : self.frame_step]
        x = window.float().div_(255.0).unsqueeze(1)
        return tuple(f.expand(self.channels, -1, -1).clone() for f in x)

    @classmethod
    def eval_split(
        cls,
        root: str | os.PathLike | None,
        frames: int | None,
        max_clips: int | None,
        fps: float | None,
        **kwargs,
    ) -> EvalSplit:
        """Evaluation clips (``--dataset kth``): the test persons' windows, named
        ``<video stem>@<start frame>``, 3 frames by default, at 25 Hz (KTH's rate)."""
        del max_clips  # every video is decoded at construction anyway
        items = cls(root=root, split="test", frames=frames or 3, **kwargs)
        names = [f"{items.videos[i].path.stem}@{s}" for i, s in items.index]
        return EvalSplit(items, names, [fps or 25.0] * len(names), "KTH test clips")
