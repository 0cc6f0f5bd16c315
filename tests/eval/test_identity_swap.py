"""Identity-swap fakes, the common past of W1-SA, and a JD critic that detects identity."""

import numpy as np
import pytest
import torch

from compressai_plf.eval import EvalCritics
from compressai_plf.eval.build_eval_critics import train_eval_critics, validate_eval_critics
from compressai_plf.eval.critic_clips import draw_trajectories, render_clips
from compressai_plf.eval.degradations import degrade
from compressai_plf.eval.eval_critic import reads_reconstructed_past
from compressai_plf.plfs import get_plf, plf_names


def _digits(n=40, seed=0):
    """Synthetic 'digits' of two classes: a bar (class 1) and a ring (class 0)."""
    g = np.random.default_rng(seed)
    out = np.zeros((n, 28, 28), np.uint8)
    labels = np.arange(n) % 2
    for i in range(n):
        w = int(g.integers(3, 6))
        if labels[i]:
            out[i, 4:24, 12 : 12 + w] = 255
        else:
            out[i, 5:23, 5:23] = 255
            out[i, 5 + w : 23 - w, 5 + w : 23 - w] = 0
    return out, labels


def test_swap_keeps_the_trajectory_and_changes_the_class():
    digits, labels = _digits()
    traj = draw_trajectories(digits, labels, 12, frames=4, seed=3)
    real = traj.render(torch.arange(12), traj.clip_digits.view(-1, 1).repeat(1, 4))
    torch.testing.assert_close(real, render_clips(digits, 12, 4, seed=3))  # same clips
    fake = traj.swap(torch.arange(12), torch.Generator().manual_seed(0))
    for i in range(12):
        same = [torch.equal(fake[i, t], real[i, t]) for t in range(4)]
        k = same.index(False)  # the first swapped frame: 1..3, then swapped to the end
        assert k >= 1 and not any(same[k:])
        # Same place: the swapped frame's content lies in the digit's 32x32 box of that frame.
        top, left = traj.paths[i, k].tolist()
        inside = fake[i, k, 0, top : top + 32, left : left + 32].sum()
        assert inside == pytest.approx(fake[i, k].sum().item())
    with pytest.raises(ValueError, match="trajectories"):
        degrade(real, ["identity"], torch.Generator())


def test_sa_is_measured_against_the_source_past():
    sa, jd = get_plf("sa"), get_plf("jd")
    frames = list(torch.rand(2, 3, 1, 64, 64).unbind(1))
    assert reads_reconstructed_past(sa, frames, 2) and not reads_reconstructed_past(jd, frames, 2)
    critics = EvalCritics(
        {p: {"num_frames": 3, "channels": 1, "image_size": 64, "widths": [4, 8, 8, 8]}
         for p in plf_names()}
    )  # fmt: skip
    x = torch.rand(4, 3, 1, 64, 64)
    a, b = x.clone(), x.clone()
    a[:, 0], b[:, 0] = 0.0, 1.0  # two heads: different pasts, the same frames 1 and 2
    a[:, 2] = b[:, 2] = 0.5
    common = [critics.w1_per_frame("sa", x, r, past="source")[2] for r in (a, b)]
    own = [critics.w1_per_frame("sa", x, r, past="own")[2] for r in (a, b)]
    assert common[0] == common[1] and own[0] != own[1]
    # With the source past the real side is the source clip for every head: W1 of the
    # source itself is 0.
    assert critics.w1_per_frame("sa", x, x)[1:].abs().max() == 0


STEPS = 150


@pytest.mark.parametrize("plf", ["jd"])
def test_rebuilt_jd_critic_detects_identity_swaps(plf):
    """A small JD critic trained with identity swaps among its fakes scores identity-swapped
    held-out clips well below real ones (W1 clearly above 0)."""
    torch.manual_seed(0)
    digits, labels = _digits(60)
    size = {"image_size": 32, "digit_size": 16, "max_speed": 2}  # small frames: fast
    traj = draw_trajectories(digits[:40], labels[:40], 200, frames=2, seed=0, **size)
    val = draw_trajectories(digits[40:], labels[40:], 100, frames=2, seed=1, **size)
    own = lambda t: t.clip_digits.view(-1, 1).repeat(1, 2)  # noqa: E731
    clips = traj.render(torch.arange(200), own(traj))
    critics, _ = train_eval_critics(
        clips, ["blur", "identity"], plf, steps=STEPS, batch_size=16, lr=1e-3,
        widths=(8, 16, 16, 16), progress=False, trajectories=traj,
    )  # fmt: skip
    table = validate_eval_critics(
        critics,
        val.render(torch.arange(100), own(val)),
        ["identity"],
        trajectories=val,
        train_clips=clips[:100],
    )[plf]
    # Held-out swaps score far below held-out real clips; training and held-out real clips
    # score alike (the critic separates identity, it did not memorise its clips).
    ident, gap = table["identity"], table["generalisation_gap"]
    assert ident["w1"] > 5 * ident["se"] > 0
    assert ident["w1"] > abs(gap["w1"]) + 3 * gap["se"]
