import pytest
import torch
from compressai.registry import CRITERIONS
from torch import nn

from compressai_plf.losses import PLFLoss
from compressai_plf.modules import PLFCritic


class LinearCritic(nn.Module):
    """D(x) = a * sum(x) per sample: gradient norm a * sqrt(numel) everywhere."""

    def __init__(self, a):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(float(a)))

    def forward(self, x):
        return self.a * x.flatten(1).sum(1)


class ToyCodec(nn.Module):
    """Per-frame 1x1 conv 'codec' with a fixed-rate likelihood structure."""

    def __init__(self, c=1):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 1)

    def forward(self, frames):
        b = frames[0].shape[0]
        lk = [{"keyframe": {"y": torch.full((b, 4), 0.5)}}]
        lk += [
            {"motion": {"y": torch.full((b, 2), 0.5)}, "residual": {"y": torch.full((b, 2), 0.5)}}
        ] * (len(frames) - 1)
        return {"x_hat": [torch.sigmoid(self.conv(f)) for f in frames], "likelihoods": lk}


def constant_clip(values, b=2, c=1, s=4):
    return [torch.full((b, c, s, s), float(v)) for v in values]


def test_codec_loss_by_hand():
    frames = constant_clip([0.0, 0.5, 1.0])
    recon = constant_clip([0.25, 0.25, 0.75])
    b, npx = 2, 16  # pixels per frame
    lk = [{"y": torch.full((b, 6), 0.5)}] * 3  # 6 bits per sample and frame
    output = {"x_hat": recon, "likelihoods": lk}
    crit = CRITERIONS["PLFLoss"](lmbda=2.0, plf={"jd": 0.5, "fmd": 0.25, "sa": 0.125})
    critics = {name: LinearCritic(a) for name, a in [("jd", 1.0), ("fmd", 2.0), ("sa", 3.0)]}
    out = crit(output, frames, critics)
    mse = ((0.25**2) + (0.25**2) + (0.25**2)) / 3
    bpp = 3 * b * 6 / (3 * b * npx)
    # -E D(fake_j) (a * sum of the stacked frames' pixels) over JD's frames j = 1, 2 and over
    # FMD's and SA's frames j = 0, 1, 2 (the I-frame included):
    jd = -1.0 * npx * ((0.25 + 0.25) + (0.25 + 0.25 + 0.75)) / 2
    fmd = -2.0 * npx * (0.25 + 0.25 + 0.75) / 3
    sa = -3.0 * npx * (0.25 + (0.25 + 0.25) + (0.25 + 0.25 + 0.75)) / 3
    assert out["mse_loss"].item() == pytest.approx(mse)
    assert out["bpp_loss"].item() == pytest.approx(bpp)
    assert out["jd_loss"].item() == pytest.approx(jd)
    assert out["fmd_loss"].item() == pytest.approx(fmd)
    assert out["sa_loss"].item() == pytest.approx(sa)
    expected = bpp + 2.0 * mse + 0.5 * jd + 0.25 * fmd + 0.125 * sa
    assert out["loss"].item() == pytest.approx(expected)


def test_critic_loss_by_hand():
    frames = constant_clip([0.0, 0.5, 1.0])
    recon = constant_clip([0.25, 0.25, 0.75])
    crit = PLFLoss(lmbda=1.0, plf={"fmd": 1.0, "jd": 0.0})
    critics = {"fmd": LinearCritic(0.5), "jd": LinearCritic(0.25)}
    out = crit.critic_loss(recon, frames, critics)
    npx = 16
    # FMD, j = 0, 1, 2: E D(fake) - E D(real) = 0.5 * 16 * ((0.25 - 0) + (0.25 - 0.5) +
    # (0.75 - 1.0)); gradient norm of D is 0.5 * sqrt(16) = 2 at every interpolate -> GP =
    # (2 - 1)^2 per frame.
    fmd = 0.5 * npx * (0.25 - 0.25 - 0.25) + 3 * 10 * (2 - 1) ** 2
    # JD, j = 1: 2 stacked frames (32 px), j = 2: 3 frames (48 px).
    jd_w = 0.25 * npx * ((0.25 + 0.25) - (0.0 + 0.5)) + 0.25 * npx * ((1.25) - (1.5))
    jd = jd_w + 10 * ((0.25 * 32**0.5 - 1) ** 2 + (0.25 * 48**0.5 - 1) ** 2)
    assert out["fmd_critic_loss"].item() == pytest.approx(fmd, rel=1e-5)
    assert out["jd_critic_loss"].item() == pytest.approx(jd, rel=1e-5)
    assert out["loss"].item() == pytest.approx(fmd + jd, rel=1e-5)
    assert out["fmd_w1"].item() == pytest.approx(0.5 * npx * (-0.25 + 0.25 + 0.25) / 3)
    assert out["fmd_gp"].item() == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("cap, margin_counts", [(10.0, True), (1.0, False)])
def test_margin_cap_stops_the_gradient_of_a_margin_above_it(cap, margin_counts):
    # FMD, LinearCritic(a): margin per frame a * 16 * (real - fake) summed over frames j:
    # a * 16 * ((0 - 0.25) + (0.5 - 0.25) + (1.0 - 0.75)) / 3 per frame on average, i.e. the
    # frame margins are -4a, 4a, 4a at a = 1: below a cap of 10, above a cap of 1 (except j=0).
    frames, recon = constant_clip([0.0, 0.5, 1.0]), constant_clip([0.25, 0.25, 0.75])
    crit = PLFLoss(lmbda=1.0, plf={"fmd": 1.0}, gp_weight=0.0)
    critic = LinearCritic(1.0)
    out = crit.critic_loss(recon, frames, {"fmd": critic}, margin_cap=cap)
    out["loss"].backward()
    npx = 16
    margins = [npx * (0.0 - 0.25), npx * (0.5 - 0.25), npx * (1.0 - 0.75)]  # -4, 4, 4
    # d(-min(a * m, cap))/da = -m where a * m < cap, else 0.
    expected = -sum(m for m in margins if margin_counts or m < cap)
    assert critic.a.grad.item() == pytest.approx(expected)
    # The reported W1 is the uncapped margin either way.
    assert out["fmd_w1"].item() == pytest.approx(sum(margins) / 3)
    with pytest.raises(ValueError, match="margin_cap"):
        crit.critic_loss(recon, frames, {"fmd": critic}, margin_cap=0.0)


def grads(module):
    return [p.grad for p in module.parameters()]


@pytest.mark.parametrize("plf", ["jd", "fmd", "sa"])
def test_gradient_separation(plf):
    torch.manual_seed(0)
    frames = [torch.rand(2, 1, 32, 32) for _ in range(3)]
    codec = ToyCodec()
    critic = PLFCritic(plf=plf, num_frames=3, channels=1, image_size=32, widths=(8, 16))
    crit = PLFLoss(lmbda=1.0, plf={plf: 0.1})
    output = codec(frames)

    crit(output, frames, {plf: critic})["loss"].backward()
    assert all(g is None for g in grads(critic)), "codec loss wrote critic gradients"
    assert all(g is not None and g.abs().sum() > 0 for g in grads(codec))
    assert all(p.requires_grad for p in critic.parameters()), "critic flags not restored"

    codec.zero_grad(set_to_none=True)
    crit.critic_loss(output, frames, {plf: critic})["loss"].backward()
    assert all(g is None for g in grads(codec)), "critic loss wrote codec gradients"
    assert all(g is not None for g in grads(critic))


def test_codec_gradient_is_generator_term():
    # With lmbda = 0 and a constant rate, the codec gradient is w * d(-E D(fake))/dtheta,
    # FMD's generator term being the mean over frames 0 and 1 (the I-frame included).
    torch.manual_seed(0)
    frames = [torch.rand(2, 1, 8, 8) for _ in range(2)]
    codec = ToyCodec()
    critic = LinearCritic(1.5)
    PLFLoss(lmbda=0.0, plf={"fmd": 0.2})(codec(frames), frames, {"fmd": critic})["loss"].backward()
    got = codec.conv.weight.grad.clone()
    codec.zero_grad()
    r0, r1 = codec(frames)["x_hat"]
    terms = [-1.5 * r.flatten(1).sum(1).mean() for r in (r0, r1)]
    (0.2 * (terms[0] + terms[1]) / 2).backward()
    assert torch.allclose(got, codec.conv.weight.grad)


def test_three_channel_two_frame_clip_with_3d_critics():
    frames = [torch.rand(2, 3, 32, 32) for _ in range(2)]
    output = ToyCodec(c=3)(frames)
    crit = PLFLoss(plf={"jd": 0.01, "sa": 0.01})
    critics = {p: PLFCritic(p, 2, 3, 32, arch="3d", widths=(4, 8)) for p in ("jd", "sa")}
    out = crit(output, frames, critics)
    assert torch.isfinite(out["loss"])
    c = crit.critic_loss(output, frames, critics)
    assert set(c) == {
        "jd_critic_loss",
        "jd_w1",
        "jd_gp",
        "sa_critic_loss",
        "sa_w1",
        "sa_gp",
        "loss",
    }


def test_bad_inputs():
    frames = constant_clip([0, 1])
    output = {"x_hat": constant_clip([0, 1]), "likelihoods": [torch.ones(1)] * 2}
    with pytest.raises(ValueError, match="unknown PLF"):
        PLFLoss(plf={"xd": 1.0})
    with pytest.raises(ValueError, match=">= 0"):
        PLFLoss(plf={"jd": -1.0})
    with pytest.raises(ValueError, match="no critic"):
        PLFLoss(plf={"jd": 1.0})(output, frames, {"fmd": LinearCritic(1)})
    with pytest.raises(ValueError, match="at least 2 frames"):
        PLFLoss(plf="fmd")(
            {"x_hat": frames[:1], "likelihoods": [torch.ones(1)]},
            frames[:1],
            {"fmd": LinearCritic(1)},
        )


def test_piecewise_backward_matches_backward_of_the_sum():
    torch.manual_seed(0)
    frames = [torch.rand(3, 1, 32, 32) for _ in range(3)]
    recon = [torch.rand(3, 1, 32, 32) for _ in range(3)]
    critics = {
        p: PLFCritic(plf=p, num_frames=3, channels=1, image_size=32, widths=(8, 16)).eval()
        for p in ("jd", "sa")
    }  # eval: spectral norm's power iteration must not move between the two runs
    crit = PLFLoss(plf={"jd": 1.0, "sa": 1.0})

    def run(backward):
        for c in critics.values():
            c.zero_grad(set_to_none=True)
        torch.manual_seed(1)  # same interpolates
        out = crit.critic_loss(recon, frames, critics, backward=backward)
        if not backward:
            out["loss"].backward()
        grads = [p.grad.clone() for c in critics.values() for p in c.parameters()]
        return out, grads

    whole, g_whole = run(False)
    piece, g_piece = run(True)
    assert not piece["loss"].requires_grad
    for k in whole:
        assert piece[k].item() == pytest.approx(whole[k].item(), rel=1e-5), k
    for a, b in zip(g_piece, g_whole, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
