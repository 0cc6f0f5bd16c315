import pytest
import torch

from compressai_plf.plfs import get_plf


def clip(t=4, b=2, c=3, base=0.0, grad=False):
    # Frame i is constant base + i: each stacked slot can be identified by value.
    return [torch.full((b, c, 8, 8), base + i, requires_grad=grad) for i in range(t)]


def slots(stack, c=3):
    return [stack[:, k * c : (k + 1) * c].unique().tolist() for k in range(stack.shape[1] // c)]


@pytest.mark.parametrize("t", [2, 3, 5])
def test_table_for_every_frame(t):
    x, r = clip(t), clip(t, base=100.0)
    for j in range(t):
        real, fake = get_plf("jd").critic_inputs(x, r, j)
        assert slots(real) == [[float(i)] for i in range(j + 1)]
        assert slots(fake) == [[100.0 + i] for i in range(j + 1)]
        real, fake = get_plf("fmd").critic_inputs(x, r, j)
        assert slots(real) == [[float(j)]] and slots(fake) == [[100.0 + j]]
        real, fake = get_plf("sa").critic_inputs(x, r, j)
        past = [[100.0 + i] for i in range(j)]
        assert slots(real) == past + [[float(j)]]
        assert slots(fake) == past + [[100.0 + j]]
        for plf in ("jd", "fmd", "sa"):
            assert get_plf(plf).critic_inputs(x, r, j)[0].shape[1] == 3 * get_plf(
                plf
            ).stacked_frames(j)


def test_sa_detaches_the_past_and_jd_does_not():
    x, r = clip(3), clip(3, base=100.0, grad=True)
    real, fake = get_plf("sa").critic_inputs(x, r, 2)
    fake.sum().backward()
    assert r[0].grad is None and r[1].grad is None
    assert torch.equal(r[2].grad, torch.ones_like(r[2]))
    # The real SA stack holds the reconstructed past, detached.
    real_sa, _ = get_plf("sa").critic_inputs(x, r, 2)
    assert real_sa.requires_grad is False
    r2 = clip(3, base=100.0, grad=True)
    _, fake_jd = get_plf("jd").critic_inputs(x, r2, 2)
    fake_jd.sum().backward()
    assert all(torch.equal(f.grad, torch.ones_like(f)) for f in r2)


def test_one_channel_frames():
    x, r = clip(3, c=1), clip(3, c=1, base=100.0)
    real, fake = get_plf("jd").critic_inputs(x, r, 2)
    assert real.shape == (2, 3, 8, 8) and slots(fake, c=1) == [[100.0], [101.0], [102.0]]


def test_bad_inputs():
    x, r = clip(3), clip(3)
    with pytest.raises(ValueError, match="unknown PLF"):
        get_plf("w1").critic_inputs(x, r, 1)
    with pytest.raises(ValueError, match="out of range"):
        get_plf("jd").critic_inputs(x, r, 3)
    with pytest.raises(ValueError, match="equal length"):
        get_plf("jd").critic_inputs(x, r[:2], 1)
    with pytest.raises(ValueError, match="matching"):
        get_plf("jd").critic_inputs(x, [f[:, :1] for f in r], 1)
