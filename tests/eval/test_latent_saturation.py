"""Latent saturation of the fixed-rate coders (tiny random models, hand-set latents)."""

from __future__ import annotations

import pytest
import torch

from compressai_plf.eval.latent_saturation import latent_saturation, main

from .conftest import tiny_fixed


def _frames(batch: int = 3) -> list[torch.Tensor]:
    torch.manual_seed(1)
    return [torch.rand(batch, 1, 64, 64) for _ in range(2)]


def _set_motion_latent(net, value: float) -> None:
    """Make the motion encoder output the constant ``value`` at every latent."""
    last = net.motion_encoder[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(value)


@pytest.mark.parametrize(("value", "share"), [(5.0, 1.0), (-5.0, 1.0), (0.5, 0.0)])
def test_constant_latents_give_the_hand_computed_share(value, share):
    net = tiny_fixed()
    _set_motion_latent(net, value)  # |tanh(5)| = 0.99991 > 0.97; |tanh(0.5)| = 0.46
    shares = latent_saturation(net, _frames())
    assert shares["motion_hyperprior"] == share
    assert set(shares) == {"img_hyperprior", "motion_hyperprior", "res_hyperprior"}
    assert all(0.0 <= s <= 1.0 for s in shares.values())


def test_threshold_moves_the_share_and_training_mode_is_restored():
    net = tiny_fixed().train()
    _set_motion_latent(net, 1.0)  # tanh(1) = 0.7616
    assert latent_saturation(net, _frames(), threshold=0.75)["motion_hyperprior"] == 1.0
    assert latent_saturation(net, _frames(), threshold=0.77)["motion_hyperprior"] == 0.0
    assert net.training
    with pytest.raises(ValueError, match="threshold"):
        latent_saturation(net, _frames(), threshold=1.0)


def test_command_line_reads_checkpoints_and_writes_json(tmp_path, mnist_root, capsys):
    net = tiny_fixed()
    _set_motion_latent(net, 5.0)
    path = tmp_path / "m.pth.tar"
    torch.save({"state_dict": net.state_dict()}, path)
    out = main([str(path), "--data-root", str(mnist_root), "--clips", "2", "--json",
                str(tmp_path / "s.json")])  # fmt: skip
    assert out["models"][str(path)]["motion_hyperprior"] == 1.0
    assert (tmp_path / "s.json").is_file() and "motion_hyperprior 100.0%" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="checkpoint"):
        main([str(tmp_path / "missing.pth.tar"), "--data-root", str(mnist_root)])
