import pytest
import torch

from compressai_plf.datasets import write_yuv420, yuv420_name
from compressai_plf.eval import evaluate_models, from_checkpoint, from_zoo, load_clips
from compressai_plf.eval.clip_metrics import build_metric_suite
from compressai_plf.eval.models import checkpoint_label, parse_qualities
from compressai_plf.models import ScaleSpaceFlowPLF
from compressai_plf.zoo.presets import tiny_architecture

from .conftest import save_checkpoint, tiny_fixed, tiny_hyperprior


def test_mmnist_clips(mnist_root):
    clips = load_clips("mmnist", mnist_root, max_clips=3)
    assert len(clips) == 3 and clips.names == ["mmnist-00000", "mmnist-00001", "mmnist-00002"]
    clip = clips[1]
    assert clip.frames.shape == (3, 1, 64, 64) and clip.fps == 30.0
    assert clip.labels.shape == (1,)
    assert len(load_clips("mmnist", mnist_root, frames=5, max_clips=2)[0].frames) == 5
    with pytest.raises(IndexError):
        clips[3]


def test_clips_are_built_through_the_registry(mnist_root, monkeypatch):
    from compressai.registry import DATASETS

    from compressai_plf.datasets import MovingMNIST

    built = []

    class Recorded(MovingMNIST):
        def __init__(self, **kw):
            built.append(kw)
            super().__init__(**kw)

    monkeypatch.setitem(DATASETS, "MovingMNIST", Recorded)
    clips = load_clips("mmnist", mnist_root, max_clips=2)
    assert isinstance(clips.items, Recorded) and built[0]["split"] == "test"


def test_a_new_registered_dataset_needs_no_eval_edit(monkeypatch):
    """A dataset is one class, registered and marked for evaluation in its own file."""
    from compressai.registry import DATASETS, register_dataset

    from compressai_plf.datasets import EvalSplit, eval_dataset, eval_split
    from compressai_plf.datasets.eval_split import EVAL_DATASETS
    from compressai_plf.eval.__main__ import build_parser

    for key in ("Ramps", "Other"):  # registered below, removed after the test
        monkeypatch.setitem(DATASETS, key, None)
    # a copy, so that the decorator itself must add "ramps" (and nothing stays after the test)
    monkeypatch.setattr(eval_split, "EVAL_DATASETS", dict(EVAL_DATASETS))
    assert "ramps" not in eval_split.eval_dataset_names()

    @eval_dataset("ramps")
    @register_dataset("Ramps")
    class Ramps(torch.utils.data.Dataset):
        def __init__(self, root=None, split="test", frames=2, level=0.5):
            self.frames, self.level = frames, level

        def __len__(self):
            return 4

        def __getitem__(self, index):
            return tuple(torch.full((3, 8, 8), self.level * index / 4) for _ in range(self.frames))

        @classmethod
        def eval_split(cls, root, frames, max_clips, fps, **kwargs):
            items = cls(root=root, frames=frames or 2, **kwargs)
            names = [f"ramp{k}" for k in range(len(items))]
            return EvalSplit(items, names, [fps or 24.0] * len(names), "ramps")

    assert "ramps" in eval_split.eval_dataset_names()
    clips = load_clips("ramps", max_clips=3, dataset_kwargs={"level": 1.0})
    assert clips.names == ["ramp0", "ramp1", "ramp2"] and clips.description == "ramps"
    assert clips[2].frames.shape == (2, 3, 8, 8) and clips[2].frames.max() == 0.5
    assert clips[0].fps == 24.0 and clips[0].labels is None
    assert load_clips("ramps", frames=3, fps=10)[3].fps == 10.0
    with pytest.raises(ValueError, match="already"):
        eval_dataset("ramps")(register_dataset("Other")(type("Other", (Ramps,), {})))
    with pytest.raises(TypeError, match="not registered"):
        eval_dataset("x")(type("Loose", (Ramps,), {}))
    args = build_parser().parse_args(["--dataset", "ramps", "--out", "x", "--zoo", "1"])
    assert args.dataset == "ramps"  # the CLI offers it too, and names its options
    from compressai_plf.eval.__main__ import _check_dataset_keys

    _check_dataset_keys("ramps", {"level": 1.0})
    with pytest.raises(SystemExit, match=r"unknown keys \['bogus'\] for ramps; known: \['level'\]"):
        _check_dataset_keys("ramps", {"bogus": 1})

    # an option eval_split itself names is known too
    def tiled(cls, root, frames, max_clips, fps, tile=1, **kwargs):
        return EvalSplit(cls(frames=frames or 2, **kwargs), ["a"], [24.0], f"tile {tile}")

    monkeypatch.setattr(Ramps, "eval_split", classmethod(tiled))
    _check_dataset_keys("ramps", {"tile": 2, "level": 1.0})
    assert load_clips("ramps", dataset_kwargs={"tile": 2}).description == "tile 2"
    with pytest.raises(SystemExit, match=r"known: \['level', 'tile'\]"):
        _check_dataset_keys("ramps", {"bogus": 1})

    # a plugin's mistakes in eval_split are named, not an IndexError later
    def bad_split(items, names, fps):
        return classmethod(lambda cls, *a, **k: EvalSplit(items, names, fps, "bad"))

    monkeypatch.setattr(Ramps, "eval_split", classmethod(lambda cls, *a, **k: ("x", ["a"])))
    with pytest.raises(TypeError, match="Ramps.eval_split must return an EvalSplit"):
        load_clips("ramps")
    monkeypatch.setattr(Ramps, "eval_split", bad_split(Ramps(), ["a", "b"], [24.0]))
    with pytest.raises(ValueError, match="2 names, 1 frame rates and 4 clips"):
        load_clips("ramps")


def test_kth_clips(data_root):
    kth = data_root / "video" / "kth"
    if not kth.is_dir():
        pytest.skip("no KTH sample clips")
    clips = load_clips(
        "kth", kth, frames=4, max_clips=2, dataset_kwargs={"persons": [1], "scenarios": [1]}
    )
    assert clips.names[0].startswith("person01_") and clips.names[0].endswith("@0")
    assert clips.names[1].endswith("@4")
    assert clips[0].frames.shape == (4, 1, 64, 64) and clips[0].fps == 25.0


def test_yuv_sequences_rgb_metrics(tmp_path):
    torch.manual_seed(0)
    frames = torch.rand(3, 3, 48, 64)
    write_yuv420(tmp_path / yuv420_name("ramp", 64, 48, 25), frames)
    clips = load_clips("yuv", tmp_path)
    assert clips.names == ["ramp_64x48_25Hz_8bit_P420"] and clips[0].fps == 25.0
    assert clips[0].frames.shape == (3, 3, 48, 64)  # the whole sequence is one clip
    windows = load_clips("yuv", tmp_path, frames=2, dataset_kwargs={"stride": 1})
    assert windows.names == ["ramp_64x48_25Hz_8bit_P420@0", "ramp_64x48_25Hz_8bit_P420@1"]
    data = evaluate_models([tiny_hyperprior()], clips=clips, lpips=None, progress=False)
    res = data["results"]
    assert data["heads"] == ["mse", "fmd"]
    # CompressAI's names for RGB data; mse-rgb is on the 0..255 scale
    assert res["psnr-rgb"] == res["psnr"]
    assert res["mse-rgb"][0] == pytest.approx(res["mse"][0] * 255**2)
    assert res["ms-ssim-rgb"] == res["ms-ssim"]  # 48 px: a 3x3 window fits
    assert "ms-ssim" in build_metric_suite("yuv", 3, 32, 64, lpips=None).unavailable
    seq = data["sequences"]["model0"][0]["results"]
    # hyperprior bits: whole bytes of rANS strings; payload never exceeds the file
    assert sum(seq["bits-per-frame"]) == seq["payload-bits"] < seq["file-bits"]
    assert seq["bitrate"] == pytest.approx(seq["file-bits"] * 25 / 3 / 1000)


def test_dataset_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset"):
        load_clips("vimeo", tmp_path)
    with pytest.raises(FileNotFoundError):
        load_clips("yuv", tmp_path)  # no .yuv files
    with pytest.raises(ValueError, match="needs data_root"):
        load_clips("yuv")
    with pytest.raises(FileNotFoundError):
        load_clips("mmnist", tmp_path)
    with pytest.raises(ValueError, match="max_clips"):
        load_clips("mmnist", tmp_path, max_clips=0)


def test_checkpoint_models(tmp_path, monkeypatch):
    monkeypatch.setattr("compressai_plf.zoo.pretrained.WEIGHTS_DIR", tmp_path)  # none shipped
    net = tiny_fixed()
    src = from_checkpoint(save_checkpoint(net, tmp_path / "run-q3.pth.tar"))
    assert src.label == "run-q3" and src.model.decoders == net.decoders
    assert not src.model.training
    for k, v in net.state_dict().items():
        if isinstance(v, torch.Tensor):
            assert torch.equal(src.model.state_dict()[k], v), k
    # other CompressAI checkpoint keys, a bare state dict, a DDP prefix
    torch.save({"network": net.state_dict()}, tmp_path / "a.pt")
    torch.save(net.state_dict(), tmp_path / "b.pth")
    torch.save(
        {"state_dict": {f"module.{k}": v for k, v in net.state_dict().items()}}, tmp_path / "c.ckpt"
    )
    for name in ("a.pt", "b.pth", "c.ckpt"):
        assert from_checkpoint(tmp_path / name).model.config == net.config
    torch.save({"state_dict": {"w": torch.zeros(1)}}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="no ScaleSpaceFlowPLF state dict"):
        from_checkpoint(tmp_path / "foreign.pt")
    with pytest.raises(FileNotFoundError):
        from_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(FileNotFoundError, match="no pretrained weights"):
        from_zoo(9, "fixed")
    with pytest.raises(ValueError, match="quality"):
        from_zoo(10, "fixed")
    assert checkpoint_label("x/q1.tar.pth") == "q1" and checkpoint_label("weights") == "weights"
    assert checkpoint_label("runs/q1-mse/checkpoint.pth.tar") == "q1-mse"
    assert checkpoint_label("checkpoint.pth.tar") == "checkpoint"


def test_parse_qualities():
    assert parse_qualities("3,1-2, 3") == [1, 2, 3]
    assert parse_qualities([5, 4]) == [4, 5]
    with pytest.raises(ValueError, match="quality"):
        parse_qualities("a")
    with pytest.raises(ValueError, match="empty"):
        parse_qualities(",")


def test_zoo_source_loads_shipped_weights(tmp_path, monkeypatch):
    monkeypatch.setattr("compressai_plf.zoo.pretrained.WEIGHTS_DIR", tmp_path)
    net = tiny_fixed()
    save_checkpoint(net, tmp_path / "ssf_plf-fixed-mse-q2.pth.tar")
    src = from_zoo(2, "fixed")
    assert src.label == "ssf_plf-fixed-mse-q2" and "quality 2" in src.origin
    assert src.model.config == net.config and not src.model.training


def _gray_hyperprior(channels: int = 1) -> ScaleSpaceFlowPLF:
    torch.manual_seed(0)
    arch = {**tiny_architecture("hyperprior"), "decoders": ("mse",), "channels": channels}
    net = ScaleSpaceFlowPLF(**arch)
    net.update(force=True)
    return net.eval()


def test_gray_model_on_yuv_codes_the_luma_plane(tmp_path):
    from compressai_plf.datasets.raw_yuv import read_yuv420_planes
    from compressai_plf.eval.clips import clips_for_channels
    from compressai_plf.eval.container_codec import ContainerCodec

    torch.manual_seed(0)
    path = tmp_path / yuv420_name("ramp", 64, 64, 25)
    write_yuv420(path, torch.rand(2, 3, 64, 64))
    clips = load_clips("yuv", tmp_path)
    luma = clips_for_channels(clips, 1)
    y = torch.from_numpy(read_yuv420_planes(path)[0]).float() / 255
    assert luma.planes == "y" and torch.equal(luma[0].frames, y.unsqueeze(1))
    assert clips_for_channels(clips, 3) is clips
    net = _gray_hyperprior()
    data = evaluate_models([net], clips=clips, lpips=None, progress=False)
    assert data["settings"]["planes"] == "y" and "luma plane" in data["description"]
    # the MMSE head's MSE is that of an independent decode of the luma plane
    codec = ContainerCodec(net, "gray", ("mse",))
    try:
        decoded = codec.code(luma[0], 0).decoded["mse"]
    finally:
        codec.close()
    assert data["results"]["mse"][0] == pytest.approx(
        float(((decoded - luma[0].frames) ** 2).mean())
    )
    with pytest.raises(ValueError, match="2-channel frames, the yuv clips have 3"):
        evaluate_models([_gray_hyperprior(2)], clips=clips, lpips=None, progress=False)


def test_eval_cli_refuses_other_channel_counts_in_one_line(tmp_path):
    from compressai_plf.eval.__main__ import main

    write_yuv420(tmp_path / yuv420_name("ramp", 64, 64, 25), torch.rand(2, 3, 64, 64))
    ckpt = save_checkpoint(_gray_hyperprior(2), tmp_path / "two.pth.tar")
    argv = ["--checkpoint", ckpt, "--dataset", "yuv", "--data-root", str(tmp_path)]
    with pytest.raises(SystemExit, match="^error: the model codes 2-channel frames"):
        main([*argv, "--out", str(tmp_path / "o"), "--lpips", "none", "--no-progress"])
