import pytest
import torch
from compressai.registry import CRITERIONS
from torch import nn

from compressai_plf.losses import VideoReconstructionLoss
from compressai_plf.modules import Discriminator3D


class ToyCodec(nn.Module):
    def __init__(self, c=1):
        super().__init__()
        self.hidden = nn.Conv2d(c, 4, 1)
        self.last = nn.Conv2d(4, c, 1)

    def forward(self, frames):
        b = frames[0].shape[0]
        lk = [{"y": torch.full((b, 8), 0.5)} for _ in frames]  # 8 bits per frame and sample
        return {
            "x_hat": [torch.sigmoid(self.last(torch.tanh(self.hidden(f)))) for f in frames],
            "likelihoods": lk,
        }


class RecordingPerceptual(nn.Module):
    """LPIPS stand-in: mean absolute difference per sample; records its inputs."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def forward(self, x_hat, x):
        self.calls.append((x_hat.detach(), x.detach()))
        return (x_hat - x).abs().flatten(1).mean(1)


class LinearClipCritic(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(float(a)))
        self.calls = 0

    def forward(self, clip):
        self.calls += 1
        return self.a * clip.flatten(1).sum(1)


def make(**kw):
    kw.setdefault("perceptual", RecordingPerceptual())
    return CRITERIONS["VideoReconstructionLoss"](**kw)


def test_lpips_uses_the_same_random_frame_for_source_and_reconstruction():
    crit = make(lambda_p=1.0, lambda_adv=0.0)
    b, t = 64, 4
    frames = [torch.full((b, 1, 8, 8), 0.1 * k) for k in range(t)]
    recon = [f + 0.01 * (k + 1) for k, f in enumerate(frames)]  # frame k offset by 0.01 (k+1)
    out = crit({"x_hat": recon, "likelihoods": [torch.ones(b, 1)] * t}, frames)
    x_hat_t, x_t = crit.perceptual.calls[-1]
    src_k = (x_t[:, 0, 0, 0] / 0.1).round()
    rec_k = ((x_hat_t - x_t)[:, 0, 0, 0] / 0.01).round() - 1
    assert torch.equal(src_k, rec_k)
    assert len(src_k.unique()) > 1  # frames are drawn per clip, not one for the whole batch
    assert out["lpips_loss"].item() == pytest.approx(((src_k + 1) * 0.01).mean().item(), rel=1e-4)
    # An explicit frame index is honoured.
    idx = torch.arange(b) % t
    crit({"x_hat": recon, "likelihoods": [torch.ones(b, 1)] * t}, frames, frame_index=idx)
    assert torch.equal(crit.perceptual.calls[-1][1][:, 0, 0, 0], 0.1 * idx.float())


def test_generator_before_and_after_disc_start():
    torch.manual_seed(0)
    frames = [torch.rand(2, 1, 8, 8) for _ in range(3)]
    codec, critic = ToyCodec(), LinearClipCritic(0.3)
    crit = make(lambda_q=0.5, lambda_p=2.0, lambda_adv=0.1, disc_start=10)
    idx = torch.tensor([0, 2])
    output = codec(frames)
    mse = torch.stack(
        [((r - x) ** 2).mean() for r, x in zip(output["x_hat"], frames, strict=True)]
    ).mean()
    bpp = 3 * 2 * 8 / (3 * 2 * 64)
    lp = torch.stack(
        [(output["x_hat"][k][i] - frames[k][i]).abs().mean() for i, k in enumerate(idx.tolist())]
    ).mean()
    rec = mse + 0.5 * bpp + 2.0 * lp

    before = crit(output, frames, critic, codec.last.weight, step=9, frame_index=idx)
    assert critic.calls == 0
    assert before["loss"].item() == pytest.approx(rec.item(), rel=1e-6)
    assert before["disc_active"].item() == 0 and before["adv_loss"].item() == 0

    after = crit(output, frames, critic, codec.last.weight, step=10, frame_index=idx)
    assert critic.calls == 1
    g = -(0.3 * torch.stack(output["x_hat"], 2).flatten(1).sum(1)).mean()
    w_ref = torch.autograd.grad(2.0 * lp, codec.last.weight, retain_graph=True)[0].norm()
    w_adv = torch.autograd.grad(g, codec.last.weight, retain_graph=True)[0].norm()
    w = (w_ref / w_adv).item()
    assert after["adv_loss"].item() == pytest.approx(g.item(), rel=1e-6)
    assert after["adaptive_weight"].item() == pytest.approx(w, rel=1e-5)
    assert after["loss"].item() == pytest.approx(rec.item() + 0.1 * w * g.item(), rel=1e-5)

    # VQGAN reference: the numerator also holds the MSE.
    crit_rec = make(lambda_p=2.0, disc_start=0, adaptive_reference="reconstruction")
    out = crit_rec(output, frames, critic, codec.last.weight, frame_index=idx)
    w_ref2 = torch.autograd.grad(mse + 2.0 * lp, codec.last.weight, retain_graph=True)[0].norm()
    assert out["adaptive_weight"].item() == pytest.approx((w_ref2 / w_adv).item(), rel=1e-5)


def test_discriminator_gating_and_value():
    frames = [torch.full((2, 1, 4, 4), 0.5) for _ in range(2)]
    recon = [torch.full((2, 1, 4, 4), 0.25) for _ in range(2)]
    critic = LinearClipCritic(0.01)
    crit = make(lambda_gp=10.0, disc_start=5)
    off = crit.discriminator_loss(recon, frames, critic, step=4)
    off["loss"].backward()  # a no-op, not an error
    assert critic.calls == 0 and off["loss"].item() == 0 and critic.a.grad is None
    on = crit.discriminator_loss(recon, frames, critic, step=5)
    # D(real) = 0.01 * 32 * 0.5 = 0.16, D(fake) = 0.08; |grad D| = 0.01 * sqrt(32).
    hinge = (1 - 0.16) + (1 + 0.08)
    gp = (0.01 * 32**0.5 - 1) ** 2
    assert on["hinge_loss"].item() == pytest.approx(hinge, rel=1e-5)
    assert on["gp_loss"].item() == pytest.approx(gp, rel=1e-5)
    assert on["loss"].item() == pytest.approx(hinge + 10 * gp, rel=1e-5)
    assert on["disc_active"].item() == 1
    on["loss"].backward()
    assert critic.a.grad is not None


def test_gradient_separation_with_3d_discriminator():
    torch.manual_seed(0)
    frames = [torch.rand(2, 1, 32, 32) for _ in range(3)]
    codec = ToyCodec()
    disc = Discriminator3D(
        frames=3, image_size=32, channels=1, widths_3d=(4, 8), widths_2d=(8, 8, 8)
    )
    crit = make(lambda_p=1.0, lambda_adv=0.5)
    output = codec(frames)
    crit(output, frames, disc, codec.last.weight, step=0)["loss"].backward()
    assert all(p.grad is None for p in disc.parameters())
    assert all(p.grad is not None for p in codec.parameters())
    assert all(p.requires_grad for p in disc.parameters())
    codec.zero_grad(set_to_none=True)
    crit.discriminator_loss(output, frames, disc, step=0)[
        "loss"
    ].backward()  # double backward via blur
    assert all(p.grad is None for p in codec.parameters())
    assert all(p.grad is not None for p in disc.parameters())


def test_validation_without_autograd():
    frames = [torch.rand(2, 1, 8, 8) for _ in range(2)]
    codec, critic = ToyCodec(), LinearClipCritic(0.1)
    with torch.no_grad():
        out = make(nonfinite_weight=0.0)(codec(frames), frames, critic, codec.last.weight)
    assert out["adaptive_weight"].item() == 0.0 and torch.isfinite(out["loss"])


def test_missing_lpips_weights_named(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(FileNotFoundError, match="alexnet-owt-7be5be79.pth"):
        VideoReconstructionLoss(lambda_p=1.0)
    VideoReconstructionLoss(lambda_p=0.0, adaptive_reference="reconstruction")  # no LPIPS needed


def test_bad_arguments():
    with pytest.raises(ValueError, match="lambda_p > 0"):
        make(lambda_p=0.0, lambda_adv=0.1)
    with pytest.raises(ValueError, match="adaptive_reference"):
        make(adaptive_reference="both")
    with pytest.raises(ValueError, match="disc_start"):
        make(disc_start=-1)
    frames = [torch.rand(1, 1, 8, 8) for _ in range(2)]
    output = ToyCodec()(frames)
    with pytest.raises(ValueError, match="discriminator"):
        make()(output, frames, step=0)
    with pytest.raises(ValueError, match="last_layer_weight"):
        make()(output, frames, LinearClipCritic(1.0), step=0)
    with pytest.raises(ValueError, match="frame_index"):
        make()(output, frames, frame_index=torch.tensor([5]), step=0)
