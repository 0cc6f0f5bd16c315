"""`python -m compressai_plf.utils.video.eval_model` runs CompressAI's tool on ssf_plf, and
`python -m compressai_plf.utils.update_model` CompressAI's update_model."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from compressai_plf.models import ScaleSpaceFlowPLF
from compressai_plf.zoo.presets import tiny_architecture


def _write_yuv(path, frames: int = 3, h: int = 64, w: int = 64) -> None:
    rng = np.random.default_rng(0)
    with open(path, "wb") as f:
        for _ in range(frames):
            f.write(rng.integers(0, 256, h * w, dtype=np.uint8).tobytes())
            f.write(rng.integers(0, 256, 2 * (h // 2) * (w // 2), dtype=np.uint8).tobytes())


def test_checkpoint_mode_writes_json_into_the_output_folder(tmp_path):
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
    ]  # no -d: the aggregate goes to the positional OUTPUT
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "RuntimeWarning" not in proc.stderr  # runpy's "found in sys.modules" warning
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


def _smooth_clip(path, frames: int = 3, h: int = 48, w: int = 72) -> None:
    """A smooth RGB clip written as 4:2:0 (frame size not a multiple of the model's 32)."""
    from compressai_plf.datasets.raw_yuv import rgb_to_yuv420

    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    clip = torch.stack(
        [
            torch.stack([0.5 + 0.4 * torch.sin(6 * xx + 3 * yy + 0.3 * k + c) for c in range(3)])
            for k in range(frames)
        ]
    )
    y, u, v = rgb_to_yuv420(clip)
    with open(path, "wb") as f:
        for i in range(frames):
            f.write(y[i].tobytes() + u[i].tobytes() + v[i].tobytes())


def _tiny_checkpoint(path, seed: int) -> None:
    torch.manual_seed(seed)
    net = ScaleSpaceFlowPLF(**{**tiny_architecture("hyperprior"), "decoders": ("mse",)})
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"epoch": 0, "state_dict": net.state_dict()}, path)


def _run_tool(data, out, *ckpts) -> dict:
    from compressai_plf.utils.video.eval_model import main

    main(["checkpoint", str(data), str(out), "-a", "ssf_plf", "-p", *map(str, ckpts)])
    return json.loads((out / "ssf_plf-ans.json").read_text())["results"]


def test_same_file_name_in_two_runs_gives_two_results(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _smooth_clip(data / "clip_72x48_30Hz_8bit_P420.yuv", frames=2)
    run_a, run_b = tmp_path / "a" / "checkpoint.pth.tar", tmp_path / "b" / "checkpoint.pth.tar"
    _tiny_checkpoint(run_a, 0)
    _tiny_checkpoint(run_b, 1)
    out = tmp_path / "out"  # one output folder: CompressAI would reuse run a's cached JSON
    a = _run_tool(data, out, run_a)
    b = _run_tool(data, out, run_b)
    assert a["psnr-rgb"] != b["psnr-rgb"]
    assert len(list(out.glob("clip_*.json"))) == 2
    assert _run_tool(data, out, run_a) == a  # same weights: the cache entry is reused


def test_both_eval_tools_give_the_same_numbers(tmp_path):
    """One checkpoint, one YUV clip whose size needs padding: CompressAI's tool through this
    package and `compressai_plf.eval` code the same pixels into the same latents."""
    from compressai_plf.eval.__main__ import main as plf_eval

    data = tmp_path / "data"
    data.mkdir()
    frames, fps = 3, 30
    _smooth_clip(data / "clip_72x48_30Hz_8bit_P420.yuv", frames=frames)
    ckpt = tmp_path / "run" / "checkpoint.pth.tar"
    _tiny_checkpoint(ckpt, 0)
    tool = _run_tool(data, tmp_path / "tool", ckpt)
    plf_eval(
        ["--checkpoint", str(ckpt), "--dataset", "yuv", "--data-root", str(data)]
        + ["--out", str(tmp_path / "plf"), "--lpips", "none", "--no-progress"]
    )
    plf = json.loads((tmp_path / "plf" / "ssf_plf-yuv.json").read_text())["results"]
    # CompressAI's file: 13 header bytes, per frame one body per latent pair (3 uint32 + one
    # uint32 length per string): 20 bytes for the I-frame, 2 x 20 for each P-frame
    overhead_bits = 8 * (13 + 20 + 40 * (frames - 1))
    expected = plf["bitrate-payload"][0] + overhead_bits * fps / frames / 1000
    assert tool["bitrate"][0] == pytest.approx(expected, rel=1e-9)
    # the tool rounds both frames to 8 bits before measuring; nothing else differs
    assert tool["psnr-rgb"][0] == pytest.approx(plf["psnr-rgb"][0], abs=0.005)
    assert tool["mse-rgb"][0] == pytest.approx(plf["mse-rgb"][0], rel=1e-3)


@pytest.mark.parametrize(
    ("source", "options", "message"),
    [
        ("checkpoint", ["-p", "nope.pth"], "checkpoint not found"),
        # the default (natural RGB) family has no shipped weights in this folder
        ("pretrained", ["-q", "3"], "no pretrained weights are shipped"),
    ],
)
def test_missing_models_are_one_line(tmp_path, monkeypatch, source, options, message):
    import compressai_plf.zoo.pretrained as pretrained
    from compressai_plf.utils.video.eval_model import main

    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    _write_yuv(data / "clip_64x64_30Hz_8bit_P420.yuv", frames=1)
    with pytest.raises(SystemExit, match=f"^error: {message}"):
        main([source, str(data), str(tmp_path / "o"), "-a", "ssf_plf", *options])


def test_update_model_through_this_package(tmp_path):
    from compressai_plf.utils.update_model import main
    from compressai_plf.zoo.gaussian_tables import strip_gaussian_tables

    torch.manual_seed(0)
    net = ScaleSpaceFlowPLF(**{**tiny_architecture("hyperprior"), "decoders": ("mse",)})
    ckpt = tmp_path / "run.pth.tar"
    torch.save({"epoch": 3, "state_dict": strip_gaussian_tables(net.state_dict())}, ckpt)
    main([str(ckpt), "-a", "ssf_plf", "-d", str(tmp_path / "out")])
    (path,) = (tmp_path / "out").glob("run-*.pth.tar")
    back = ScaleSpaceFlowPLF.from_state_dict(torch.load(path, weights_only=True)).eval()
    net.update(force=True)
    frames = [torch.rand(1, 3, 64, 64) for _ in range(2)]
    with torch.no_grad():
        assert back.compress(frames)[0] == net.eval().compress(frames)[0]


def _gray_checkpoint(path, channels: int = 1) -> None:
    torch.manual_seed(0)
    arch = {**tiny_architecture("hyperprior"), "decoders": ("mse",), "channels": channels}
    torch.save({"state_dict": ScaleSpaceFlowPLF(**arch).state_dict()}, path)


def test_gray_checkpoint_on_rgb_yuv_codes_the_luma_plane(tmp_path, monkeypatch):
    from compressai_plf.datasets.raw_yuv import read_yuv420_planes

    monkeypatch.chdir(tmp_path)  # a stray .bin would land here
    data = tmp_path / "data"
    data.mkdir()
    clip = data / "clip_72x48_30Hz_8bit_P420.yuv"
    _smooth_clip(clip, frames=2)
    ckpt = tmp_path / "gray.pth.tar"
    _gray_checkpoint(ckpt)
    out = tmp_path / "out"
    res = _run_tool(data, out, ckpt)
    agg = json.loads((out / "ssf_plf-ans.json").read_text())
    assert agg["planes"] == ["y"]
    assert {"psnr-y", "mse-y", "ms-ssim-y", "bitrate"} <= set(res)
    assert not {"psnr-rgb", "psnr-u", "psnr-v"} & set(res)  # no chroma numbers for luma
    (seq,) = out.glob("clip_72x48_*-luma.json")
    record = json.loads(seq.read_text())
    assert "luma plane" in record["description"]
    # psnr-y against an independent decode of the luma plane with the same model
    net = ScaleSpaceFlowPLF.from_state_dict(torch.load(ckpt, weights_only=True)["state_dict"])
    net.update(force=True)
    y = torch.from_numpy(read_yuv420_planes(clip)[0]).float().div(255).unsqueeze(1)
    padded = [torch.nn.functional.pad(f[None], (0, 24, 0, 16), mode="replicate") for f in y]
    with torch.no_grad():
        decoded = net.eval().decompress(*net.compress(padded))
    psnr = []
    for src, rec in zip(y, decoded, strict=True):
        a = (src * 255).round()
        b = (rec[0, :, :48, :72].clamp(0, 1) * 255).round()
        psnr.append(float(10 * torch.log10(255**2 / (a - b).pow(2).mean())))
    assert res["psnr-y"][0] == pytest.approx(sum(psnr) / len(psnr), abs=1e-3)
    assert not list(tmp_path.glob("*.bin")) and not list(out.rglob("*.bin"))


def test_other_channel_counts_are_one_line_and_leave_no_bin(tmp_path, monkeypatch):
    from compressai_plf.utils.video.eval_model import main

    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    _write_yuv(data / "clip_64x64_30Hz_8bit_P420.yuv", frames=2)
    ckpt = tmp_path / "two.pth.tar"
    _gray_checkpoint(ckpt, channels=2)
    with pytest.raises(SystemExit, match="^error: the model codes 2-channel frames"):
        main(["checkpoint", str(data), str(tmp_path / "o"), "-a", "ssf_plf", "-p", str(ckpt)])
    assert not list(tmp_path.rglob("*.bin"))


def test_pretrained_moving_mnist_family_on_rgb_yuv_gives_luma_results(tmp_path):
    from compressai_plf.utils.video.eval_model import main
    from compressai_plf.zoo.pretrained import weights_path

    if not weights_path(3, "mse", "hyperprior", "mmnist").is_file():
        pytest.skip("the Moving MNIST hyperprior q3 file is not shipped")
    data = tmp_path / "data"
    data.mkdir()
    _smooth_clip(data / "clip_64x64_30Hz_8bit_P420.yuv", frames=2, h=64, w=64)
    out = tmp_path / "out"
    main(["pretrained", str(data), str(out), "-a", "ssf_plf_mmnist", "-q", "3"])
    agg = json.loads((out / "ssf_plf_mmnist-ans.json").read_text())
    assert agg["planes"] == ["y"] and agg["results"]["q"] == ["ssf_plf_mmnist-mse-3-ans"]
    assert agg["results"]["bitrate"][0] > 0 and 0 < agg["results"]["psnr-y"][0] < 100


def test_cache_key_sees_what_the_bitstream_hash_leaves_out():
    """state_digest keys the tool's cache; weights_hash (the bitstream identity) cannot: it
    leaves out the default dither seed, which changes the tool's fixed-mode numbers, and it
    does not apply to CompressAI's own architectures, which the tool also evaluates."""
    from compressai.models.video import ScaleSpaceFlow

    from compressai_plf.io.weights_hash import weights_hash
    from compressai_plf.utils.video.eval_model import state_digest

    nets = []
    for seed in (0, 1):
        torch.manual_seed(0)
        arch = {**tiny_architecture("fixed"), "decoders": ("mse",), "dither_seed": seed}
        nets.append(ScaleSpaceFlowPLF(**arch).eval())
    a, b = nets
    assert weights_hash(a) == weights_hash(b)
    x = torch.rand(1, a.channels, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert not torch.equal(a.encode_keyframe(x)[0], b.encode_keyframe(x)[0])
    assert state_digest(a) != state_digest(b)
    torch.manual_seed(0)
    twin = ScaleSpaceFlowPLF(
        **{**tiny_architecture("fixed"), "decoders": ("mse",), "dither_seed": 0}
    )
    assert state_digest(a) == state_digest(twin.eval()) and len(state_digest(a)) == 8
    ssf2020 = ScaleSpaceFlow()
    assert len(state_digest(ssf2020)) == 8
    with pytest.raises(AttributeError):
        weights_hash(ssf2020)


@pytest.mark.parametrize(
    "name",
    [
        "clip_64x64_30Hz_8bit_P420.yuv",
        "clip_64x64_29.97fps_420_8bit.yuv",
        "clip_64x64_23.976Hz_8bit_P420.yuv",
        "Basket_64x64_50fps_420_8bit.yuv",
    ],
)
def test_both_eval_tools_take_the_frame_rate_from_the_name_alike(tmp_path, name):
    """kbit/s: CompressAI's tool uses get_raw_video_file_info's framerate, compressai_plf.eval
    the clip set's fps, read from the same name to the same value."""
    from compressai.datasets.rawvideo import get_raw_video_file_info

    from compressai_plf.eval import load_clips

    _write_yuv(tmp_path / name, frames=1)
    tool = get_raw_video_file_info(name)["framerate"]
    assert load_clips("yuv", tmp_path)[0].fps == float(tool)
