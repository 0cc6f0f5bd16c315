"""`python -m compressai_plf.utils.video.eval_model` runs CompressAI's tool on ssf_plf."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import torch

from compressai_plf.models import ScaleSpaceFlowPLF
from compressai_plf.zoo.presets import tiny_architecture


def _write_yuv(path, frames: int = 3, h: int = 64, w: int = 64) -> None:
    rng = np.random.default_rng(0)
    with open(path, "wb") as f:
        for _ in range(frames):
            f.write(rng.integers(0, 256, h * w, dtype=np.uint8).tobytes())
            f.write(rng.integers(0, 256, 2 * (h // 2) * (w // 2), dtype=np.uint8).tobytes())


def test_checkpoint_mode_writes_json(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _write_yuv(data / "clip_64x64_30Hz_8bit_P420.yuv")
    net = ScaleSpaceFlowPLF(**{**tiny_architecture("hyperprior"), "decoders": ("mse", "jd")})
    ckpt = tmp_path / "tiny.pth.tar"
    torch.save({"epoch": 0, "state_dict": net.state_dict()}, ckpt)
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "compressai_plf.utils.video.eval_model",
        "checkpoint",
        str(data),
        str(out),
        "-a",
        "ssf_plf",
        "-p",
        str(ckpt),
        "-d",
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    agg = json.loads((out / "ssf_plf-ans.json").read_text())
    assert agg["name"] == "ssf_plf-mse"
    res = agg["results"]
    assert res["bitrate"][0] > 0 and 0 < res["psnr-rgb"][0] < 100
    seq = list(out.glob("clip_64x64_30Hz_8bit_P420-*.json"))
    assert len(seq) == 1 and "psnr-yuv" in json.loads(seq[0].read_text())["results"]


def test_unknown_architecture_is_rejected(tmp_path):
    from compressai_plf.utils.video.eval_model import load_checkpoint

    ckpt = tmp_path / "x.pth.tar"
    torch.save({"state_dict": {}}, ckpt)
    import pytest

    with pytest.raises(ValueError, match="unknown architecture"):
        load_checkpoint("nope", False, str(ckpt))
    with pytest.raises(FileNotFoundError):
        load_checkpoint("ssf_plf", False, str(tmp_path / "missing.pth.tar"))


def test_pretrained_mode_uses_shipped_weights(tmp_path, monkeypatch):
    import compressai_plf.zoo.pretrained as pretrained
    from compressai_plf.utils.video.eval_model import main

    data = tmp_path / "data"
    data.mkdir()
    _write_yuv(data / "clip_64x64_30Hz_8bit_P420.yuv", frames=2)
    net = ScaleSpaceFlowPLF(**{**tiny_architecture("hyperprior"), "decoders": ("mse",)})
    net.update(force=True)
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path)
    torch.save(net.state_dict(), pretrained.weights_path(2))
    out = tmp_path / "out"
    main(["pretrained", str(data), str(out), "-a", "ssf_plf", "-q", "2", "-d", str(out)])
    agg = json.loads((out / "ssf_plf-ans.json").read_text())
    assert agg["results"]["q"] == ["ssf_plf-mse-2-ans"] and agg["results"]["bitrate"][0] > 0
