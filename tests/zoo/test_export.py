"""Exporting a training checkpoint as a zoo weight file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

import compressai_plf.zoo.pretrained as pretrained
from compressai_plf.checkpoint import CheckpointError, save_atomic
from compressai_plf.zoo import ssf_plf
from compressai_plf.zoo.export import export_weights, half_state_dict, main


@pytest.fixture
def fixed_q2_checkpoint(tmp_path):
    torch.manual_seed(0)
    net = ssf_plf(2, rate_mode="fixed", decoders=("mse", "jd"))
    path = tmp_path / "checkpoint.pth.tar"
    args = {"plf": ["jd"], "lmbda": 1.0, "lambda_p": 0.02}
    state = {"state_dict": net.state_dict(), "stage_name": "universal", "step": 7, "args": args}
    save_atomic(state, path)
    return path


def test_half_export_loads_through_the_zoo_and_codes_the_same_bits(
    fixed_q2_checkpoint, tmp_path, monkeypatch
):
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path / "weights")
    full = export_weights(fixed_q2_checkpoint, 2, "fixed", out=tmp_path / "full.pth.tar")
    half = export_weights(fixed_q2_checkpoint, 2, "fixed", half=True)
    assert half["path"] == str(pretrained.weights_path(2, "mse", "fixed"))
    assert pretrained.weights_path(2, "mse", "fixed").stat().st_mode & 0o777 == 0o644
    assert 0.4 < half["bytes"] / full["bytes"] < 0.6  # float16 halves the weights
    assert full["identical_bitstreams"] == "8/8"
    assert all(d == 0.0 for d in full["max_abs_decode_diff"].values())
    # float16 rounding of random weights may flip a latent bit, but decodes stay close
    assert all(d < 0.25 for d in half["max_abs_decode_diff"].values())
    assert (half["stage"], half["step"]) == ("universal", 7)
    assert half["source"] == f"{fixed_q2_checkpoint.parent.name}/checkpoint.pth.tar"
    meta = torch.load(half["path"], weights_only=True)["meta"]  # the operating point is recorded
    # lmbda weighs rate in the mse stage only; this checkpoint is a universal one
    assert (meta["plf"], meta["lmbda"], meta["lambda_p"]) == (["jd"], None, 0.02)
    net = ssf_plf(2, rate_mode="fixed", pretrained=True)
    assert net.decoders == ("mse", "jd")
    assert all(p.dtype == torch.float32 for p in net.parameters())


def test_export_keeps_only_the_named_heads_and_drops_the_iframe_generator(tmp_path):
    from compressai_plf.io import weights_hash

    torch.manual_seed(0)
    heads = ("mse", "jd", "fmd", "sa")
    # trained with a shared I-frame generator, as the campaign's runs were
    net = ssf_plf(2, rate_mode="fixed", decoders=heads, perceptual_iframe="shared")
    path = save_atomic({"state_dict": net.state_dict(), "step": 3}, tmp_path / "c.pth.tar")
    with pytest.raises(SystemExit, match=r"perceptual_iframe.: \('shared', 'mmse'\)"):
        main([str(path), "--quality", "2", "--out", str(tmp_path / "w.pth.tar")])
    out = main(
        [str(path), "--quality", "2", "--out", str(tmp_path / "w.pth.tar")]
        + ["--decoders", "mse,fmd", "--perceptual-iframe", "mmse"]
    )
    assert out["identical_bitstreams"] == "8/8" and out["reads_checkpoint_bitstreams"]
    assert set(out["max_abs_decode_diff"]) == {"mse", "fmd"}
    small = pretrained.load_weights_file(tmp_path / "w.pth.tar")
    assert small.decoders == ("mse", "fmd") and small.config["perceptual_iframe"] == "mmse"
    keys = small.state_dict()
    assert not any(k.startswith(("iframe_decoder.", "heads.jd.")) for k in keys)
    assert weights_hash(small) == weights_hash(net)  # it reads the checkpoint's clips


def test_export_assembles_heads_of_separate_runs(tmp_path):
    from compressai_plf.zoo.weight_cards import make_card

    torch.manual_seed(0)
    shared = {"rate_mode": "fixed", "perceptual_iframe": "shared"}
    a = ssf_plf(2, decoders=("mse", "fmd"), synthesis_start="mmse_frame", **shared)
    torch.manual_seed(1)
    b = ssf_plf(2, decoders=("mse", "jd"), synthesis_start="own", **shared)
    shared = {k: v for k, v in a.state_dict().items() if not k.startswith(("heads.", "_"))}
    b.load_state_dict(shared, strict=False)  # one frozen encoder side, two universal runs
    b_args = {"plf": ["jd"], "lambda_p": 0.5}
    pa = save_atomic({"state_dict": a.state_dict(), "step": 9}, tmp_path / "a" / "c.pth.tar")
    pb = save_atomic(
        {"state_dict": b.state_dict(), "step": 5, "args": b_args}, tmp_path / "b" / "c.pth.tar"
    )
    out = main(
        [str(pa), "--quality", "2", "--out", str(tmp_path / "w.pth.tar"), "--head", f"jd={pb}"]
        + ["--perceptual-iframe", "mmse"]
    )
    assert out["reads_checkpoint_bitstreams"] and out["identical_bitstreams"] == "8/8"
    net = pretrained.load_weights_file(tmp_path / "w.pth.tar")
    assert net.decoders == ("mse", "jd", "fmd")
    assert net.config["synthesis_start"] == {"jd": "own", "fmd": "mmse_frame"}
    assert torch.equal(net.heads.jd.res_decoder[0].weight, b.heads.jd.res_decoder[0].weight)
    card = make_card(tmp_path / "w.pth.tar", 2, "fixed")
    assert card["heads_from"]["jd"]["source"] == "b/c.pth.tar"
    assert (card["heads_from"]["jd"]["step"], card["heads_from"]["jd"]["lambda_p"]) == (5, 0.5)
    with pytest.raises(SystemExit, match="--head: expected NAME=CHECKPOINT"):
        main([str(pa), "--quality", "2", "--head", "jd"])


def test_export_refuses_another_architecture(fixed_q2_checkpoint, tmp_path):
    with pytest.raises(ValueError, match="q3 mmnist fixed architecture"):
        export_weights(fixed_q2_checkpoint, 3, "fixed", out=tmp_path / "x.pth.tar")


def test_export_reads_the_checkpoint_like_every_reader(fixed_q2_checkpoint, tmp_path):
    # under ``network`` with a DistributedDataParallel ``module.`` prefix: the same model
    ckpt = torch.load(fixed_q2_checkpoint, weights_only=True)
    wrapped = {f"module.{k}": v for k, v in ckpt.pop("state_dict").items()}
    path = save_atomic({**ckpt, "network": wrapped}, tmp_path / "ddp.pth.tar")
    out = export_weights(path, 2, "fixed", out=tmp_path / "w.pth.tar")
    assert out["identical_bitstreams"] == "8/8"
    save_atomic({"step": 1, "args": {}}, tmp_path / "empty.pth.tar")
    with pytest.raises(CheckpointError, match="empty.pth.tar holds no ScaleSpaceFlowPLF"):
        export_weights(tmp_path / "empty.pth.tar", 2, "fixed", out=tmp_path / "x.pth.tar")


def test_half_keeps_entropy_models_and_integers():
    sd = {
        "conv.weight": torch.ones(2),
        "entropy_bottleneck.quantiles": torch.ones(2),
        "gaussian_conditional._offset": torch.ones(2, dtype=torch.int32),
    }
    out = half_state_dict(sd)
    assert out["conv.weight"].dtype == torch.float16
    assert out["entropy_bottleneck.quantiles"].dtype == torch.float32
    assert out["gaussian_conditional._offset"].dtype == torch.int32


def test_natural_family_exports_under_its_own_name(tmp_path, monkeypatch):
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path / "weights")
    net = ssf_plf(3)  # natural RGB family, hyperprior
    ckpt = tmp_path / "rgb.pth.tar"
    save_atomic({"state_dict": net.state_dict(), "args": {"lmbda": 0.0067}}, ckpt)
    info = export_weights(ckpt, 3, "hyperprior", half=True, family="natural")
    assert info["path"].endswith("ssf_plf-natural-hyperprior-mse-q3.pth.tar")
    assert ssf_plf(3, pretrained=True).channels == 3
    card = (tmp_path / "weights" / "ssf_plf-natural-hyperprior-mse-q3.json").read_text()
    assert "family='natural'" in card
    with pytest.raises(ValueError, match=r"mmnist hyperprior architecture.*channels.: \(3, 1\)"):
        export_weights(ckpt, 3, "hyperprior", out=tmp_path / "x.pth.tar", family="mmnist")


REPO = Path(__file__).resolve().parents[2]


def test_export_checks_describe_the_shipped_files():
    """zoo/export_checks.json (`python -m compressai_plf.zoo.export --refresh ...`) records
    each shipped file's current bytes, sha256 and metadata."""
    reports = json.loads((REPO / "zoo" / "export_checks.json").read_text())
    for name, report in reports.items():
        weights = REPO / report["path"]
        assert report["bytes"] == weights.stat().st_size, name
        assert report["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest(), name
        meta = torch.load(weights, map_location="cpu", weights_only=True)["meta"]
        assert all(report[k] == v for k, v in meta.items()), name


def test_refresh_follows_a_metadata_rewrite_and_keeps_the_decode_check(
    fixed_q2_checkpoint, tmp_path, monkeypatch
):
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path / "weights")
    report = export_weights(fixed_q2_checkpoint, 2, "fixed", half=True)
    reports = tmp_path / "checks.json"
    reports.write_text(json.dumps({"fixed-q2": report}))
    data = torch.load(report["path"], weights_only=True)
    data["meta"]["lambda_p"] = 0.5  # a metadata-only rewrite
    torch.save(data, report["path"])
    main(["--refresh", str(reports)])
    fresh = json.loads(reports.read_text())["fixed-q2"]
    assert fresh["sha256"] == hashlib.sha256(Path(report["path"]).read_bytes()).hexdigest()
    assert fresh["sha256"] != report["sha256"] and fresh["lambda_p"] == 0.5
    assert fresh["identical_bitstreams"] == report["identical_bitstreams"]
    with pytest.raises(SystemExit, match="^error: give CHECKPOINT and --quality"):
        main([])
