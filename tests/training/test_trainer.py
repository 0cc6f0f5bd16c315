"""Training stages end to end, exact resume, checkpoints the eval tool loads."""

from __future__ import annotations

import json
import math

import pytest
import torch

from compressai_plf.training import load_checkpoint, train
from compressai_plf.utils.video.eval_model import load_checkpoint as eval_load

from .conftest import TINY_FIXED, TINY_HYPER


def _params(path):
    sd = load_checkpoint(path)["state_dict"]
    return {k: v for k, v in sd.items() if isinstance(v, torch.Tensor)}


@pytest.mark.parametrize(
    "stage, extra",
    [
        ("mse", {"plf": ["jd"]}),
        ("universal", {"plf": ["jd", "fmd", "sa"]}),
        ("plf", {"plf": ["fmd"]}),
        (
            "recon3d",
            {
                "lambda_p": 0.0,
                "frames": 2,
                "patch_size": 32,
                "model_args": dict(TINY_HYPER),
                "dataset_args": {"train_size": 64, "image_size": 32, "digit_size": 16},
                "critic_args": {"widths_3d": [4, 4], "widths_2d": [8, 8, 8]},
            },
        ),
    ],
)
def test_each_stage_trains_and_writes_a_checkpoint_the_eval_tool_loads(tiny_args, stage, extra):
    args = tiny_args(stage=stage, eval_interval=2, **extra)
    summary = train(args)
    assert summary["steps"] == 2 and torch.isfinite(torch.tensor(summary["loss"]))
    ckpt = load_checkpoint(summary["checkpoint"])
    assert ckpt["final"] and ckpt["step"] == 2 and ckpt["stage_name"] == stage
    net = eval_load("ssf_plf", False, summary["checkpoint"])
    assert (
        net.config["rate_mode"] == args.model_args["rate_mode"]
        if "rate_mode" in args.model_args
        else True
    )
    log = [json.loads(line) for line in open(args.save_dir + "/log.jsonl")]
    assert {row["kind"] for row in log} == {"train", "eval"}
    assert [row["step"] for row in log if row["kind"] == "train"] == [1, 2]


def test_universal_stage_keeps_the_bitstream(tiny_args, tmp_path):
    base = train(tiny_args(stage="mse", save_dir=str(tmp_path / "a")))
    uni = train(
        tiny_args(
            stage="universal", plf=["jd"], init=base["checkpoint"], save_dir=str(tmp_path / "b")
        )
    )
    before, after = _params(base["checkpoint"]), _params(uni["checkpoint"])
    encoder_side = [k for k in before if not k.startswith("heads.")]
    assert encoder_side and all(torch.equal(before[k], after[k]) for k in encoder_side)
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("heads.jd."))
    # ...and the lmbda that bitstream was trained with, whatever its own (unused) lmbda is
    lmbda = load_checkpoint(base["checkpoint"])["args"]["lmbda"]
    assert load_checkpoint(base["checkpoint"])["bitstream_lmbda"] == lmbda
    other = train(
        tiny_args(
            stage="universal",
            plf=["jd"],
            init=uni["checkpoint"],
            lmbda=lmbda * 7,
            save_dir=str(tmp_path / "c"),
        )
    )
    assert load_checkpoint(other["checkpoint"])["bitstream_lmbda"] == lmbda
    end_to_end = tiny_args(  # the encoder side is trained anew, with this stage's lmbda
        stage="plf", plf=["jd"], init=other["checkpoint"], lmbda=lmbda * 3
    )
    end_to_end.save_dir = str(tmp_path / "d")
    retrained = train(end_to_end)
    assert load_checkpoint(retrained["checkpoint"])["bitstream_lmbda"] == lmbda * 3


def test_init_starts_untrained_heads_from_the_mmse_head(tiny_args, tmp_path):
    # residual heads share the MMSE head's architecture, so they can start as copies of it
    residual = {**TINY_FIXED, "head_arch": "residual", "perceptual_iframe": "per_head"}
    from compressai_plf.training import init_from_checkpoint
    from compressai_plf.training.trainer import build_model

    base = train(tiny_args(model_args=residual, stage="mse", save_dir=str(tmp_path / "a")))
    uni = train(
        tiny_args(
            model_args=residual,
            stage="universal",
            plf=["jd"],
            init=base["checkpoint"],
            save_dir=str(tmp_path / "b"),
        )
    )
    mse_ckpt, uni_ckpt = _params(base["checkpoint"]), _params(uni["checkpoint"])
    # from an mse-stage checkpoint every perceptual head (random there) starts as the MMSE head
    model = build_model(tiny_args(model_args=residual))
    info = init_from_checkpoint(model, base["checkpoint"])
    sd = model.state_dict()
    head_keys = [k for k in sd if k.startswith("heads.fmd.")]
    assert head_keys and info["heads_from_mse"] == 3 * len(head_keys)
    for k in head_keys:
        assert torch.equal(sd[k], mse_ckpt[k[len("heads.fmd.") :]])
    # from a universal checkpoint the head it trained is kept, the others come from MMSE
    model = build_model(tiny_args(model_args=residual))
    init_from_checkpoint(model, uni["checkpoint"])
    sd = model.state_dict()
    assert all(torch.equal(sd[k], uni_ckpt[k]) for k in sd if k.startswith("heads.jd."))
    assert any(
        not torch.equal(sd[k], sd[k.replace("heads.jd.", "")])
        for k in sd
        if k.startswith("heads.jd.")
    )
    assert all(
        torch.equal(sd[k], sd[k.replace("heads.sa.", "")]) for k in sd if k.startswith("heads.sa.")
    )
    # a bare state dict without some heads: those start from its MMSE head, the rest are kept
    bare = {k: v for k, v in uni_ckpt.items() if not k.startswith("heads.sa.")}
    bare["_extra_state"] = load_checkpoint(uni["checkpoint"])["state_dict"]["_extra_state"]
    torch.save(bare, tmp_path / "bare.pth.tar")
    model = build_model(tiny_args(model_args=residual))
    init_from_checkpoint(model, str(tmp_path / "bare.pth.tar"))
    sd = model.state_dict()
    assert all(torch.equal(sd[k], uni_ckpt[k]) for k in sd if k.startswith("heads.jd."))
    assert all(
        torch.equal(sd[k], sd[k.replace("heads.sa.", "")]) for k in sd if k.startswith("heads.sa.")
    )


def test_init_keeps_own_past_heads_at_their_initialisation(tiny_args, tmp_path):
    from compressai_plf.training import init_from_checkpoint
    from compressai_plf.training.trainer import build_model

    # An mse-stage source never trained its perceptual heads: own-past heads keep this model's
    # own initialisation (neither the source's random heads nor its MMSE head are copied).
    base = train(tiny_args(stage="mse", save_dir=str(tmp_path / "a")))
    source = _params(base["checkpoint"])
    torch.manual_seed(123)
    model = build_model(tiny_args())
    before = {k: v.clone() for k, v in model.state_dict().items() if torch.is_tensor(v)}
    info = init_from_checkpoint(model, base["checkpoint"])
    assert info["heads_from_mse"] == 0
    sd = model.state_dict()
    heads = [k for k in sd if k.startswith("heads.jd.")]
    assert heads and all(torch.equal(sd[k], before[k]) for k in heads)
    assert any(not torch.equal(before[k], source[k]) for k in heads)  # copying would show
    trained = [k for k in sd if k.startswith("context_net.")]  # the MMSE head is copied
    assert trained and all(torch.equal(sd[k], source[k]) for k in trained)


def test_init_keeps_the_mmse_start_of_own_past_heads(tiny_args, tmp_path):
    from compressai_plf.training import init_from_checkpoint
    from compressai_plf.training.trainer import build_model

    base = train(tiny_args(stage="mse", save_dir=str(tmp_path / "a")))
    args = tiny_args()
    args.model_args = {**args.model_args, "synthesis_start": "mmse"}
    model = build_model(args)
    init_from_checkpoint(model, base["checkpoint"])
    gate_bias = model.heads["jd"].fusion[-1].bias[-1]
    assert gate_bias.item() == -2.0  # the designed start, not the source's random head


def test_init_keeps_a_head_trained_under_another_synthesis_start_at_its_own_init(
    tiny_args, tmp_path
):
    from compressai_plf.training import init_from_checkpoint
    from compressai_plf.training.trainer import build_model

    # A universal run trained JD and FMD (start "none"). A model whose JD starts from the MMSE
    # prediction keeps its own JD initialisation (the same tensors would decode another frame
    # there) and copies the FMD head, whose start is unchanged.
    src = train(tiny_args(stage="universal", plf=["jd", "fmd"], save_dir=str(tmp_path / "u")))
    source = _params(src["checkpoint"])
    args = tiny_args()
    starts = {h: "none" for h in args.model_args["decoders"] if h != "mse"}
    args.model_args = {**args.model_args, "synthesis_start": {**starts, "jd": "mmse"}}
    torch.manual_seed(5)
    model = build_model(args)
    before = {k: v.clone() for k, v in model.state_dict().items() if torch.is_tensor(v)}
    info = init_from_checkpoint(model, src["checkpoint"])
    assert info["not_copied_other_start"] == {"jd": ("none", "mmse")}
    sd = model.state_dict()
    jd = [k for k in sd if k.startswith("heads.jd.")]
    fmd = [k for k in sd if k.startswith("heads.fmd.")]
    assert jd and all(torch.equal(sd[k], before[k]) for k in jd)
    assert model.heads["jd"].fusion[-1].bias[-1].item() == -2.0  # its designed start
    assert fmd and all(torch.equal(sd[k], source[k]) for k in fmd)


def test_heads_trained_by_earlier_universal_runs_stay_trained_through_later_ones(
    tiny_args, tmp_path
):
    from compressai_plf.training import init_from_checkpoint
    from compressai_plf.training.trainer import build_model

    # run 1 trains JD and FMD; run 2 trains only JD anew (another start) from run 1, so FMD is
    # copied and frozen; run 3 starts from run 2: both heads are trained for the bitstream and
    # are copied, whichever run trained them. An mse stage retrains the encoder side: the
    # heads it inherits are not trained for its bitstream.
    one = train(tiny_args(stage="universal", plf=["jd", "fmd"], save_dir=str(tmp_path / "1")))
    starts = {h: "none" for h in tiny_args().model_args["decoders"] if h != "mse"}
    two_args = tiny_args(
        stage="universal", plf=["jd"], init=one["checkpoint"], save_dir=str(tmp_path / "2")
    )
    two_args.model_args = {**two_args.model_args, "synthesis_start": {**starts, "jd": "mmse"}}
    two = train(two_args)
    assert load_checkpoint(two["checkpoint"])["trained_heads"] == ["fmd", "jd"]
    fmd_one = {k: v for k, v in _params(one["checkpoint"]).items() if k.startswith("heads.fmd.")}
    three = build_model(two_args)
    info = init_from_checkpoint(three, two["checkpoint"])
    assert info["trained_heads"] == ["fmd", "jd"]
    sd = three.state_dict()
    assert fmd_one and all(torch.equal(sd[k], v) for k, v in fmd_one.items())
    mse = train(tiny_args(stage="mse", init=two["checkpoint"], save_dir=str(tmp_path / "m")))
    assert load_checkpoint(mse["checkpoint"])["trained_heads"] == []


def test_resume_continues_exactly_and_refuses_another_stage(tiny_args, tmp_path):
    extra = {"stage": "universal", "plf": ["jd", "sa"]}
    full = train(tiny_args(steps=4, save_dir=str(tmp_path / "full"), **extra))
    train(tiny_args(steps=2, save_dir=str(tmp_path / "part"), **extra))
    resumed = train(tiny_args(steps=4, save_dir=str(tmp_path / "part"), resume=True, **extra))
    a, b = _params(full["checkpoint"]), _params(resumed["checkpoint"])
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    ca = load_checkpoint(full["checkpoint"])["stage"]["critics"]
    cb = load_checkpoint(resumed["checkpoint"])["stage"]["critics"]
    assert all(torch.equal(ca[k], cb[k]) for k in ca)
    with pytest.raises(ValueError, match="'universal' checkpoint"):
        train(tiny_args(stage="mse", resume=True, save_dir=str(tmp_path / "part")))


def test_hyperprior_mode_trains_aux(tiny_args):
    """The aux step moves the entropy bottlenecks' quantiles (only the aux optimizer owns them:
    without the step they would keep their initial values)."""
    from compressai_plf.models import ScaleSpaceFlowPLF

    args = tiny_args(stage="mse", model_args=dict(TINY_HYPER), plf=[])
    summary = train(args)
    assert summary["aux_loss"] > 0
    trained = _params(summary["checkpoint"])
    initial = ScaleSpaceFlowPLF(**TINY_HYPER).state_dict()
    quantiles = [k for k in trained if k.endswith(".quantiles")]
    assert quantiles
    for k in quantiles:
        assert not torch.equal(trained[k], initial[k]), f"{k} was not trained"


def test_compressai_ssf2020_trains_in_the_mse_stage(tiny_args, tmp_path):
    """A registry model without decoder heads (CompressAI's ssf2020) trains as the mse head."""
    summary = train(
        tiny_args(
            model="ssf2020",
            model_args={},
            stage="mse",
            steps=1,
            batch_size=2,
            patch_size=128,  # ssf2020's hyperprior needs multiples of 128
            dataset_args={"train_size": 64, "channels": 3, "image_size": 128},
        )
    )
    sd = _params(summary["checkpoint"])
    assert "img_encoder.0.weight" in sd and summary["steps"] == 1
    assert math.isfinite(summary["loss"]) and summary["loss"] > 0  # a real RD loss was trained
    with pytest.raises(ValueError, match="no decoder head"):
        train(
            tiny_args(
                model="ssf2020",
                model_args={},
                stage="universal",
                plf=["jd"],
                save_dir=str(tmp_path / "universal"),
            )
        )


def test_init_reads_checkpoints_like_every_reader(tmp_path):
    """A checkpoint under ``network`` with a DistributedDataParallel prefix initialises a
    stage; one without a state dict is a named CheckpointError, not a KeyError."""
    from compressai_plf.checkpoint import CheckpointError, save_atomic
    from compressai_plf.models import ScaleSpaceFlowPLF
    from compressai_plf.training import init_from_checkpoint

    torch.manual_seed(0)
    source = ScaleSpaceFlowPLF(**TINY_FIXED)
    wrapped = {f"module.{k}": v for k, v in source.state_dict().items()}
    path = save_atomic({"network": wrapped}, tmp_path / "ddp.pth.tar")
    torch.manual_seed(1)
    model = ScaleSpaceFlowPLF(**TINY_FIXED)
    info = init_from_checkpoint(model, str(path))
    tensors = [k for k, v in source.state_dict().items() if isinstance(v, torch.Tensor)]
    assert info["copied"] == len(tensors)
    assert all(torch.equal(model.state_dict()[k], source.state_dict()[k]) for k in tensors)
    save_atomic({"state_dict": [1, 2]}, tmp_path / "bad.pth.tar")
    with pytest.raises(CheckpointError, match="bad.pth.tar holds no state dict"):
        init_from_checkpoint(model, str(tmp_path / "bad.pth.tar"))


def test_resume_compares_non_finite_options_as_stored():
    """Checkpoint ``args`` keep inf/NaN (a torch file stores them), so resuming with the same
    non-finite option is no change, and a different one is still refused."""
    from argparse import Namespace
    from pathlib import Path

    from compressai_plf.results import json_ready
    from compressai_plf.training.trainer import reuse_model_args

    given = {**TINY_FIXED, "note": [math.nan, math.inf]}
    stored = json_ready({"model_args": given}, finite=False)
    assert math.isnan(stored["model_args"]["note"][0]) and stored["model_args"]["note"][1] > 0
    args = Namespace(model_args=dict(given))
    reuse_model_args(args, stored, Path("c.pth.tar"))
    assert args.model_args is stored["model_args"]
    with pytest.raises(ValueError, match="--model-args .* differs from the one c.pth.tar"):
        reuse_model_args(Namespace(model_args={**given, "note": [1.0]}), stored, Path("c.pth.tar"))
