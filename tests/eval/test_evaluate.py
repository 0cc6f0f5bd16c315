import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from compressai.utils.video.plot.__main__ import main as compressai_plot_main
from compressai.utils.video.plot.__main__ import parse_json_file

from compressai_plf.datasets import MovingMNIST
from compressai_plf.eval import EvalCritics, evaluate_models
from compressai_plf.eval.clip_metrics import build_metric_suite
from compressai_plf.io import inspect_clip, read_clip
from compressai_plf.plot import load_results, validate_results
from compressai_plf.plot.__main__ import main as plf_plot_main

from .conftest import HEADS, StubClassifier, save_checkpoint, tiny_fixed

N, T = 4, 3
TINY_CRITIC = {"num_frames": 3, "channels": 1, "image_size": 64, "widths": [4, 8, 8, 8]}


@pytest.fixture(scope="module")
def run(mnist_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    net = tiny_fixed()
    ckpt = save_checkpoint(net, out / "tiny.pth.tar")
    torch.manual_seed(0)
    critics = EvalCritics({p: TINY_CRITIC for p in ("jd", "fmd", "sa")}, meta={"dataset": "mmnist"})
    data = evaluate_models(
        [ckpt],
        "mmnist",
        mnist_root,
        max_clips=N,
        classifier=StubClassifier(),
        eval_critics=critics,
        lpips=None,
        out_dir=out,
        grid=True,
        grid_clips=2,
        keep_bitstreams=True,
        progress=False,
    )
    return {"data": data, "out": out, "critics": critics, "mnist_root": mnist_root}


def test_results_layout(run):
    data, out = run["data"], run["out"]
    saved = load_results(out / "ssf_plf-mmnist.json")  # validates the layout
    assert saved["name"] == "ssf_plf-mmnist" and saved["heads"] == list(HEADS)
    res = saved["results"]
    assert res["q"] == ["tiny"]
    assert all(len(v) == 1 for v in res.values())  # one rate point
    assert "lpips" in saved["unavailable"] and not any(k.startswith("lpips") for k in res)
    for head in HEADS:
        for metric in ("mse", "psnr", "ms-ssim", "flow-diff", "w1-jd", "w1-fmd", "w1-sa",
                       "digit-agreement", "digit-accuracy", "fd", "fd-pairs"):  # fmt: skip
            assert f"{metric}/{head}" in res and f"{metric}-per-frame/{head}" in res
    # per-frame list lengths: T per frame, T - 1 per consecutive pair
    for key, values in res.items():
        if "-per-frame" not in key:
            continue
        pairs = key.startswith(("flow-diff", "fd-pairs"))
        assert len(values[0]) == (T - 1 if pairs else T), key
    # the unsuffixed keys are the MMSE head's, as CompressAI's tool would report them
    for key in ("mse", "psnr", "w1-jd", "fd", "mse-per-frame"):
        assert res[key] == res[f"{key}/mse"]
    # JD's W1 is undefined at the I-frame (no critic); SA's covers every frame
    assert res["w1-jd-per-frame/jd"][0][0] is None
    assert all(isinstance(v, float) for v in res["w1-jd-per-frame/jd"][0][1:])
    assert all(isinstance(v, float) for v in res["w1-sa-per-frame/jd"][0])
    assert data["files"][0].endswith("ssf_plf-mmnist.json")


def test_bits_are_counted_from_the_written_files(run):
    out = run["out"]
    records = json.loads((out / "sequences" / "tiny.json").read_text())
    assert [r["source"] for r in records] == [f"mmnist-{k:05d}" for k in range(N)]
    file_bits = []
    for r in records:
        path = out / "bitstreams" / "tiny" / f"{r['source']}.plf"
        res = r["results"]
        assert res["file-bits"] == 8 * path.stat().st_size == 8 * res["file-bytes"]
        # 12 one-bit keyframe latents, then 2 + 2 one-bit latents per P-frame
        assert res["payload-bits"] == inspect_clip(path).payload_bits == 12 + 4 * (T - 1)
        assert res["bits-per-frame"] == [12.0, 4.0, 4.0]
        assert res["file-bytes"] == 71 + 3  # fixed-mode header + ceil(20 / 8) payload bytes
        assert res["bpp-payload"] == pytest.approx(20 / (T * 64 * 64))
        assert res["bpp"] == res["bpp-file"] == pytest.approx(res["file-bits"] / (T * 64 * 64))
        assert res["bitrate"] == pytest.approx(res["file-bits"] * 30 / T / 1000)
        file_bits.append(res["file-bits"])
    agg = run["data"]["results"]
    assert agg["file-bits"][0] == pytest.approx(np.mean(file_bits))


def test_metrics_match_an_independent_decode(run):
    out, critics = run["out"], run["critics"]
    net = tiny_fixed()  # same seed: same weights as the evaluated checkpoint
    test = MovingMNIST(run["mnist_root"], split="test", frames=T, return_labels=True)
    stub = StubClassifier()
    records = json.loads((out / "sequences" / "tiny.json").read_text())
    for k, r in enumerate(records[:2]):
        frames, labels = test[k]
        src = torch.stack(frames)
        path = out / "bitstreams" / "tiny" / f"{r['source']}.plf"
        for head in HEADS:
            rec = torch.cat(read_clip(path, net, head)).clamp(0, 1)
            mse = ((src - rec) ** 2).mean(dim=(1, 2, 3))
            np.testing.assert_allclose(r["results"][f"mse-per-frame/{head}"], mse, rtol=1e-5)
            psnr = [10 * math.log10(1 / m) for m in mse.tolist()]
            np.testing.assert_allclose(r["results"][f"psnr-per-frame/{head}"], psnr, rtol=1e-5)
            agree = (stub(rec).argmax(1) == stub(src).argmax(1)).double()
            assert r["results"][f"digit-agreement-per-frame/{head}"] == agree.tolist()
            acc = (stub(rec).argmax(1) == int(labels)).double()
            assert r["results"][f"digit-accuracy-per-frame/{head}"] == acc.tolist()
            w1 = critics.w1_per_frame("jd", src[None], rec[None])
            np.testing.assert_allclose(
                r["results"][f"w1-jd-per-frame/{head}"][1:], w1[1:], rtol=1e-5, atol=1e-7
            )


def test_identical_reconstruction_scores():
    suite = build_metric_suite(
        "mmnist", 1, 64, 64, classifier=StubClassifier(),
        eval_critics=EvalCritics({p: TINY_CRITIC for p in ("jd", "fmd", "sa")}), lpips=None,
    )  # fmt: skip
    src = torch.rand(1, T, 1, 64, 64) * 0.3
    pf = suite.per_frame(src, src.clone(), labels=torch.tensor([9]))
    assert pf["digit-agreement"] == [1.0] * T
    assert pf["mse"] == [0.0] * T and pf["psnr"] == [math.inf] * T
    assert pf["flow-diff"] == [0.0] * (T - 1)
    assert math.isnan(pf["w1-jd"][0]) and pf["w1-jd"][1:] == [0.0] * (T - 1)
    for plf in ("fmd", "sa"):  # these critics measure the I-frame too
        assert pf[f"w1-{plf}"] == [0.0] * T


def test_readable_by_compressai_plot_tools(run, tmp_path):
    path = run["out"] / "ssf_plf-mmnist.json"
    rv = parse_json_file(path, "psnr")
    assert rv["name"] == "ssf_plf-mmnist"
    assert rv["xs"] == run["data"]["results"]["bitrate"]
    assert list(parse_json_file(path, "mse/jd")["ys"]) == run["data"]["results"]["mse/jd"]
    png = tmp_path / "rd.png"
    compressai_plot_main(["-f", str(path), "-m", "psnr", "-o", str(png)])
    assert png.stat().st_size > 0


def test_grid_file_plots(run, tmp_path):
    grid = run["out"] / "grids" / "tiny.npz"
    with np.load(grid) as f:
        assert f.files == ["source", *HEADS]
        assert all(f[k].shape == (2, T, 1, 64, 64) for k in f.files)
        assert f["source"].min() >= 0 and f["source"].max() <= 1
    written = plf_plot_main(["--grid", str(grid), "--out", str(tmp_path)])
    assert [p.name for p in written] == ["grid-tiny.png"]


def test_several_models_and_cli(run, tmp_path):
    from compressai_plf.eval.__main__ import main

    a = save_checkpoint(tiny_fixed(), tmp_path / "a.pth.tar")
    b = save_checkpoint(tiny_fixed(decoders=("mse", "jd"), seed=1), tmp_path / "b.pth.tar")
    data = main(
        ["--checkpoint", a, b, "--dataset", "mmnist", "--data-root", str(run["mnist_root"]),
         "--max-clips", "1", "--out", str(tmp_path / "out"), "--lpips", "none", "--no-progress",
         "--rate-count", "payload", "--name", "two"]
    )  # fmt: skip
    saved = json.loads((tmp_path / "out" / "two.json").read_text())
    validate_results(saved)
    res = saved["results"]
    assert res["q"] == ["a", "b"] and saved["heads"] == list(HEADS)
    assert res["bitrate"] == res["bitrate-payload"]
    assert res["bitrate"][0] == pytest.approx(20 * 30 / T / 1000)
    # b has no FMD/SA heads: null (scalars) and [] (per-frame lists) at its point
    assert res["mse/fmd"][1] is None and res["mse-per-frame/fmd"][1] == []
    assert res["mse/jd"][1] is not None
    assert res["digit-agreement/jd"][0] is not None  # the shipped classifier, by default
    assert data["files"][0].endswith("two.json")


def test_errors(run, tmp_path, monkeypatch):
    monkeypatch.setattr("compressai_plf.zoo.pretrained.WEIGHTS_DIR", tmp_path)  # none shipped
    from compressai_plf.eval.__main__ import main

    net = tiny_fixed(decoders=("mse", "jd"))
    root = run["mnist_root"]
    with pytest.raises(ValueError, match="decoder heads"):
        evaluate_models(
            [net], "mmnist", root, max_clips=1, heads=["sa"], lpips=None, progress=False
        )
    with pytest.raises(ValueError, match="Moving MNIST only"):
        build_metric_suite("kth", 1, 64, 64, classifier=StubClassifier(), lpips=None)
    critics = EvalCritics({"jd": TINY_CRITIC}, meta={"dataset": "mmnist"})
    with pytest.raises(ValueError, match="built on 'mmnist'"):
        build_metric_suite("kth", 1, 64, 64, eval_critics=critics, lpips=None)
    with pytest.raises(ValueError, match="64x64"):
        build_metric_suite("mmnist", 1, 32, 32, eval_critics=critics, lpips=None)
    with pytest.raises(FileNotFoundError, match="LPIPS"):
        build_metric_suite("mmnist", 1, 64, 64, lpips=tmp_path / "alexnet.pth")
    with pytest.raises(ValueError, match="3-channel"):
        from .conftest import tiny_hyperprior

        evaluate_models([tiny_hyperprior()], "mmnist", root, max_clips=1, lpips=None,
                        progress=False)  # fmt: skip
    with pytest.raises(ValueError, match="need out_dir"):
        evaluate_models([net], "mmnist", root, grid=True)
    with pytest.raises(SystemExit, match="checkpoint not found"):
        main(["--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="give models"):
        main(["--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="no pretrained weights"):
        main(["--zoo", "1", "--rate-mode", "fixed", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="dataset-args"):
        main(["--checkpoint", str(tmp_path / "x"), "--dataset-args", "[1]", "--out", "o"])


def test_lpips_auto_is_unavailable_without_weights(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    suite = build_metric_suite("mmnist", 1, 64, 64)
    assert suite.lpips is None and "alexnet-owt-7be5be79.pth" in suite.unavailable["lpips"]
    assert "w1" in suite.unavailable and "digit-agreement" in suite.unavailable
    assert not Path(tmp_path / "checkpoints").exists()  # nothing was downloaded


def test_cli_posterior_iframe_option(run, tmp_path, monkeypatch):
    from compressai_plf.eval import __main__ as cli

    calls = []

    def fake_decoder(root):
        calls.append(Path(root))

        def decode(model, frame0, dither_seed, clip):
            return torch.full_like(frame0, 0.5)

        decode.description = "stub frame-0 sampler"
        return decode

    monkeypatch.setattr(cli, "posterior_iframe_decoder", fake_decoder)
    ckpt = save_checkpoint(tiny_fixed(decoders=("mse", "jd")), tmp_path / "a.pth.tar")
    root = run["mnist_root"]
    cli.main(
        ["--checkpoint", ckpt, "--data-root", str(root), "--max-clips", "1", "--frames", "2",
         "--out", str(tmp_path / "out"), "--lpips", "none", "--no-progress", "--name", "p",
         "--iframe", "posterior"]
    )  # fmt: skip
    saved = json.loads((tmp_path / "out" / "p.json").read_text())
    assert calls == [Path(root)]
    assert saved["settings"]["iframe"] == "stub frame-0 sampler"
    with pytest.raises(SystemExit, match="Moving MNIST only"):
        cli.main(["--checkpoint", ckpt, "--dataset", "kth", "--iframe", "posterior",
                  "--out", str(tmp_path / "o")])  # fmt: skip
