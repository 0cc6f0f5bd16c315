"""A fifth, test-only PLF registered in one place trains and evaluates through the normal code
paths (critics, PLFLoss, decoder heads, the universal stage, evaluation critics)."""

from __future__ import annotations

import pytest
import torch

from compressai_plf.eval.eval_critic import EvalCritics
from compressai_plf.models import ScaleSpaceFlowPLF
from compressai_plf.plfs import PLFS, PerceptionLossFunction, head_names, plf_names, register_plf
from compressai_plf.training import load_checkpoint, train
from compressai_plf.training.cli import finalize, parse_args
from compressai_plf.training.trainer import namespace
from compressai_plf.zoo.presets import tiny_architecture


class PairMarginal(PerceptionLossFunction):
    """Test-only: consecutive reconstructed pairs must look like real consecutive pairs."""

    name = "pair"
    title = "PLF-pair"
    first_frame = 1

    def stacked_frames(self, j):
        return 2

    def build_inputs(self, frames, recon, j):
        return torch.cat([frames[j - 1], frames[j]], 1), torch.cat([recon[j - 1], recon[j]], 1)


@pytest.fixture
def pair_plf():
    register_plf(PairMarginal)
    yield PLFS["pair"]
    del PLFS["pair"]


def test_registry_lists_builtins_in_order():
    assert plf_names()[:3] == ("jd", "fmd", "sa")
    assert head_names()[:4] == ("mse", "jd", "fmd", "sa")


def test_registration_is_checked():
    class Mse(PerceptionLossFunction):
        name = "mse"

    with pytest.raises(ValueError, match="lower-case name"):
        register_plf(Mse)

    class OtherJD(PerceptionLossFunction):
        name = "jd"

    with pytest.raises(ValueError, match="already registered"):
        register_plf(OtherJD)


def test_a_fifth_plf_trains_and_evaluates(pair_plf, mnist_root, tmp_path):
    assert "pair" in plf_names() and "pair" in head_names()
    # the command line accepts it, the model builds a head for it
    args = parse_args(["--stage", "universal", "--plf", "pair"])
    assert args.plf == ["pair"]
    net = ScaleSpaceFlowPLF(**{**tiny_architecture("fixed"), "decoders": ("mse", "jd", "pair")})
    assert list(net.heads) == ["jd", "pair"]
    # universal training of its head with its critic; held-out evaluation measures its W1
    model_args = {**tiny_architecture("fixed"), "mid_planes": 8, "decoders": ["mse", "pair"]}
    run = namespace(
        stage="universal",
        plf=["pair"],
        model_args=model_args,
        data_root=str(mnist_root),
        dataset_args={"train_size": 64},
        steps=2,
        batch_size=4,
        eval_interval=2,
        eval_batch_size=4,
        critic_steps=1,
        critic_args={"widths": [8, 16, 16, 16]},
        save_dir=str(tmp_path / "pair"),
    )
    run.patch_size = [64]
    run = finalize(run)
    summary = train(run)
    assert "eval.critic.pair_w1" in summary and torch.isfinite(torch.tensor(summary["loss"]))
    ckpt = load_checkpoint(summary["checkpoint"])
    critics = ckpt["stage"]["critics"]
    # one critic per constrained frame (1 and 2; frame 0 is the shared frozen I-frame)
    assert {k.split(".")[2] for k in critics if k.startswith("pair.critics.")} == {"1", "2"}
    trained = ScaleSpaceFlowPLF.from_state_dict(ckpt["state_dict"]).eval()
    frames = [torch.rand(2, 1, 64, 64) for _ in range(3)]
    out = trained.forward_heads(frames)["x_hat"]
    assert set(out) == {"mse", "pair"}
    # evaluation critics for it, as for the built-in PLFs
    eval_critics = EvalCritics(
        {"pair": {"num_frames": 3, "channels": 1, "image_size": 64, "widths": [8, 8, 8, 8]}}
    )
    assert eval_critics.plfs == ("pair",)
