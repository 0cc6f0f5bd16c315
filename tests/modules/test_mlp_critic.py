"""MLPCritic: per-frame critics for vector frames, usable by PLFLoss."""

import pytest
import torch

from compressai_plf.losses import PLFLoss
from compressai_plf.modules.mlp_critic import MLPCritic
from compressai_plf.plfs import get_plf, plf_names


@pytest.mark.parametrize("plf", plf_names())
def test_one_critic_per_constrained_frame(plf):
    critic = MLPCritic(plf, num_frames=3, dim=5, hidden=8)
    assert critic.frames == tuple(get_plf(plf).constrained_frames(3))
    for j in critic.frames:
        k = get_plf(plf).stacked_frames(j)
        assert critic(torch.randn(4, k, 1, 5), j).shape == (4,)
    with pytest.raises(ValueError, match="numbers per sample"):
        critic(torch.randn(4, 9, 1, 5), critic.frames[0])
    with pytest.raises(ValueError, match="frame index"):
        critic(torch.randn(4, 1, 1, 5), 7)


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_frames"):
        MLPCritic("jd", num_frames=1)
    with pytest.raises(ValueError, match="unknown PLF"):
        MLPCritic("nope")


def test_plf_loss_trains_it():
    frames = [torch.randn(16, 1, 1, 4) for _ in range(2)]
    recon = [f + 0.5 * torch.randn_like(f) for f in frames]
    critics = {name: MLPCritic(name, 2, 4, 16) for name in plf_names()}
    loss = PLFLoss(plf={name: 1.0 for name in plf_names()}, rate_weight=0)
    out = loss.critic_loss(recon, frames, critics)
    out["loss"].backward()
    for critic in critics.values():
        assert all(p.grad is not None for p in critic.parameters())
