import math

import pytest
import torch

from compressai_plf.eval import EvalCritics, load_eval_critics
from compressai_plf.eval.build_eval_critics import (
    critic_loss_by_kind,
    critic_references,
    main,
    train_eval_critics,
    validate_eval_critics,
)
from compressai_plf.losses import PLFLoss

TINY = {"num_frames": 3, "channels": 1, "image_size": 64, "widths": [4, 8, 8, 8]}


def _critics(**meta):
    return EvalCritics({p: TINY for p in ("jd", "fmd", "sa")}, meta=meta)


def test_w1_of_identical_inputs_is_zero():
    critics = _critics()
    x = torch.rand(3, 4, 1, 64, 64)  # 4 frames: frame 3 is beyond the 3-frame critics
    for plf in critics.plfs:
        w = critics.w1_per_frame(plf, x, x.clone(), reduction="none")
        assert w.shape == (3, 4)
        first = 1 if plf == "jd" else 0  # FMD and SA also measure the I-frame
        assert torch.isnan(w[:, :first]).all() and torch.isnan(w[:, 3]).all()
        assert torch.equal(w[:, first:3], torch.zeros(3, 3 - first, dtype=w.dtype))
        # a different reconstruction gives a non-zero estimate
        assert w.shape == critics.w1_per_frame(plf, x, x.flip(0), reduction="none").shape
        assert critics.w1_per_frame(plf, x, 1 - x)[1:3].abs().sum() > 0


def test_w1_is_mean_real_minus_mean_fake():
    critics = _critics()
    x, y = torch.rand(5, 3, 1, 64, 64), torch.rand(5, 3, 1, 64, 64)
    c = critics.critics["jd"]
    frames, rec = list(x.unbind(1)), list(y.unbind(1))
    expected = c(torch.cat(frames, 1), 2).mean() - c(torch.cat(rec, 1), 2).mean()
    torch.testing.assert_close(
        critics.w1_per_frame("jd", x, y)[2].float(), expected, rtol=1e-5, atol=1e-6
    )


def test_frozen_and_deterministic():
    critics = _critics()
    assert all(not p.requires_grad for c in critics.critics.values() for p in c.parameters())
    x, y = torch.rand(2, 3, 1, 64, 64), torch.rand(2, 3, 1, 64, 64)
    a = critics.w1_per_frame("sa", x, y)
    b = critics.w1_per_frame("sa", x, y)  # no power iteration in eval mode
    torch.testing.assert_close(a, b, rtol=0, atol=0, equal_nan=True)


def test_save_load_round_trip(tmp_path):
    critics = _critics(dataset="mmnist", note="x")
    path = critics.save(tmp_path / "critics.pt")
    raw = torch.load(path, weights_only=True)  # plain types and tensors only
    assert raw["format"] == "compressai_plf.eval_critics"
    loaded = load_eval_critics(path)
    assert loaded.meta == {"dataset": "mmnist", "note": "x"}
    assert loaded.sha256() == critics.sha256()  # same weights, same identity
    other = load_eval_critics(path)
    with torch.no_grad():
        next(other.critics["fmd"].parameters()).view(-1)[0].add_(1e-3)  # one weight differs
    assert other.sha256() != critics.sha256()
    x, y = torch.rand(2, 3, 1, 64, 64), torch.rand(2, 3, 1, 64, 64)
    for plf in ("jd", "fmd", "sa"):
        torch.testing.assert_close(
            critics.w1_per_frame(plf, x, y),
            loaded.w1_per_frame(plf, x, y),
            rtol=0,
            atol=0,
            equal_nan=True,
        )


def test_non_finite_metadata_survives_the_file(tmp_path):
    # a torch file stores inf/NaN exactly; only JSON output turns them into null
    critics = _critics(dataset="mmnist", validation={"w1": math.nan, "gap": math.inf})
    loaded = load_eval_critics(critics.save(tmp_path / "critics.pt"))
    assert math.isnan(loaded.meta["validation"]["w1"])
    assert loaded.meta["validation"]["gap"] == math.inf


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="build_eval_critics"):
        load_eval_critics(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    torch.save({"state_dict": {}}, bad)
    with pytest.raises(ValueError, match="not an evaluation-critics file"):
        load_eval_critics(bad)
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="damaged"):
        load_eval_critics(tmp_path / "junk.pt")
    with pytest.raises(ValueError, match="unknown PLF"):
        EvalCritics({"xx": TINY})
    with pytest.raises(ValueError, match="disagree"):
        EvalCritics({"jd": TINY, "fmd": {**TINY, "num_frames": 2}})
    critics = _critics()
    with pytest.raises(ValueError, match="64x64"):
        critics.w1_per_frame("jd", torch.rand(1, 3, 1, 32, 32), torch.rand(1, 3, 1, 32, 32))
    with pytest.raises(ValueError, match="no 'xx' critic"):
        critics.w1_per_frame("xx", torch.rand(1, 3, 1, 64, 64), torch.rand(1, 3, 1, 64, 64))
    with pytest.raises(ValueError, match="per-frame degradation"):
        critic_references("fmd", ["freeze", "swap"])
    assert critic_references("fmd", ["blur", "swap"]) == ("blur",)
    assert critic_references("jd", ["blur", "swap"]) == ("blur", "swap")


def test_train_changes_weights_and_validates():
    clips = torch.rand(6, 3, 1, 64, 64)
    torch.manual_seed(0)
    init = {
        p: {k: v.clone() for k, v in _critics().critics[p].state_dict().items()} for p in ("jd",)
    }
    critics, log = train_eval_critics(
        clips, "blur,swap", "jd,fmd", steps=2, batch_size=4, widths=(4, 8, 8, 8), progress=False
    )
    assert critics.plfs == ("jd", "fmd")
    assert set(log) == {"jd_w1", "fmd_w1"}
    assert critics.meta["reference"] == {"jd": ["blur", "swap"], "fmd": ["blur"]}
    trained = critics.critics["jd"].state_dict()
    assert any(not torch.equal(trained[k], v) for k, v in init["jd"].items())
    val = validate_eval_critics(critics, clips[:4], "blur,swap", train_clips=clips[4:])
    assert set(val) == {"jd", "fmd"}
    assert set(val["jd"]) == {"blur", "swap", "generalisation_gap"}
    assert set(val["jd"]["generalisation_gap"]) == {"w1", "se"}
    assert all(math.isfinite(v["w1"]) for v in (val["jd"]["blur"], val["fmd"]["swap"]))
    # frozen again after training: identical inputs give exactly 0
    x = clips[:2]
    assert torch.equal(critics.w1_per_frame("jd", x, x)[1:], torch.zeros(2, dtype=torch.float64))


class _SumCritic(torch.nn.Module):
    """D(x) = a * sum(x) per clip (FMD: one frame)."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(1.0))

    def forward(self, x):
        return self.a * x.flatten(1).sum(1)


def test_critic_loss_by_kind_caps_each_kind_on_its_own():
    # 4 two-frame clips of 2x2 pixels, all real pixels 0.5; fakes: kind 0 (3 clips) at 0.25, a
    # margin of a * 4 * 0.25 = 1 per frame; kind 1 (one clip) at 0.0, margin 2 per frame. The
    # FMD loss sums its two frames' losses; its W1 is their mean.
    real = torch.full((4, 2, 1, 2, 2), 0.5)
    fake = torch.cat([torch.full((3, 2, 1, 2, 2), 0.25), torch.zeros(1, 2, 1, 2, 2)])
    kinds = torch.tensor([0, 0, 0, 1])
    loss_fn = PLFLoss(plf={"fmd": 0.0}, gp_weight=0.0)
    critic = _SumCritic()
    loss, w1 = critic_loss_by_kind(loss_fn, "fmd", critic, real, fake, kinds, margin_cap=1.5)
    # kind 0 below the cap counts (-1 x share 3/4), kind 1 is capped at 1.5 (x 1/4)
    assert loss.item() == pytest.approx(-2 * (0.75 * 1.0 + 0.25 * 1.5))
    assert w1 == pytest.approx(0.75 * 1.0 + 0.25 * 2.0)  # uncapped, the batch's mean margin
    loss.backward()
    # d/da: only kind 0 pulls (margin / a = 1 per frame), kind 1's capped margin passes nothing
    assert critic.a.grad.item() == pytest.approx(-2 * 0.75)
    # no kinds: the plain loss over the batch, every margin counted
    plain, w1_plain = critic_loss_by_kind(loss_fn, "fmd", critic, real, fake)
    assert plain.item() == pytest.approx(-2 * w1) and w1_plain == pytest.approx(w1)
    with pytest.raises(ValueError, match="margin_cap"):
        train_eval_critics(real, "blur", "fmd", steps=1, margin_cap=0.0)


def test_capped_margins_reduce_to_wgan_gp_with_one_kind_of_fake_and_a_high_cap():
    # One kind of fake: one group holding the whole batch, so a cap no margin reaches gives
    # the plain WGAN-GP loss, step for step (same seeds, same draws).
    clips = torch.rand(6, 3, 1, 64, 64)
    kw = dict(steps=2, batch_size=4, widths=(4, 8, 8, 8), progress=False)
    plain, _ = train_eval_critics(clips, "blur", "jd", **kw)
    capped, _ = train_eval_critics(clips, "blur", "jd", margin_cap=1e9, **kw)
    a, b = plain.critics["jd"].state_dict(), capped.critics["jd"].state_dict()
    assert all(torch.allclose(a[k], b[k]) for k in a)
    # Two kinds, a cap far below or far above the margins: different updates.
    tight, _ = train_eval_critics(clips, "blur,noise", "jd", margin_cap=1e-9, **kw)
    loose, _ = train_eval_critics(clips, "blur,noise", "jd", margin_cap=1e9, **kw)
    c, d = tight.critics["jd"].state_dict(), loose.critics["jd"].state_dict()
    assert any(not torch.allclose(c[k], d[k]) for k in c)


def test_build_command(mnist_root, tmp_path):
    out = tmp_path / "critics.pt"
    main(
        [
            "--data-root", str(mnist_root), "--out", str(out), "--steps", "1",
            "--batch-size", "2", "--clips", "4", "--val-clips", "4", "--widths", "4,8,8,8",
            "--reference", "blur,freeze", "--no-progress",
        ]
    )  # fmt: skip
    critics = load_eval_critics(out)
    meta = critics.meta
    assert meta["dataset"] == "mmnist" and meta["steps"] == 1
    assert meta["real_clips"]["reserved_digits"] == [55000, 60000]
    assert meta["real_clips"]["validation_digits"] == 1000
    assert set(meta["validation"]) == {"jd", "fmd", "sa"}
    assert meta["reference"]["fmd"] == ["blur"]
    assert critics.num_frames == 3 and critics.image_size == (64, 64)


def test_build_command_errors(tmp_path):
    with pytest.raises(SystemExit, match="MNIST|idx|not found"):
        main(["--data-root", str(tmp_path), "--out", str(tmp_path / "c.pt")])
    with pytest.raises(SystemExit, match="unknown reference"):
        main(["--data-root", str(tmp_path), "--out", "c.pt", "--reference", "sharpen"])


def test_reserved_split():
    from compressai_plf.eval.critic_clips import split_reserved

    train, val = split_reserved(50, 10, seed=3)
    assert len(train) == 40 and len(val) == 10
    assert sorted(set(train) | set(val)) == list(range(50))  # disjoint and complete
    assert (split_reserved(50, 10, seed=3)[1] == val).all()
    assert not (split_reserved(50, 10, seed=4)[1] == val).all()
    with pytest.raises(ValueError, match="validation"):
        split_reserved(10, 10)


def test_critic_clips_are_rendered_like_the_test_set(mnist_root):
    from compressai_plf.datasets import MovingMNIST, load_mnist
    from compressai_plf.eval.critic_clips import render_clips

    test = MovingMNIST(mnist_root, split="test", frames=3, test_size=3)
    digits, _ = load_mnist(mnist_root, train=False)
    clips = render_clips(digits[:3], 3, frames=3, seed=0)
    for k in range(3):
        assert torch.equal(clips[k], torch.stack(test[k]))
