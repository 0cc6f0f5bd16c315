import pytest
import torch

from compressai_plf.eval.degradations import (
    DEGRADATIONS,
    blur,
    degrade,
    freeze,
    ghost,
    noise,
    parse_reference,
    shuffle,
    swap,
)


def _clips(n=6, t=3):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, t, 1, 16, 16, generator=g)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_temporal_degradations_reuse_real_frames():
    x = _clips()
    f = freeze(x, _gen())
    for i in range(x.shape[0]):
        changed = [j for j in range(3) if not torch.equal(f[i, j], x[i, j])]
        assert changed and changed[0] >= 1  # the I-frame is never touched
        k = changed[0]
        assert all(torch.equal(f[i, j], x[i, k - 1]) for j in range(k, 3))
    s = shuffle(x, _gen())
    for i in range(x.shape[0]):
        matches = [[torch.equal(s[i, a], x[i, b]) for b in range(3)] for a in range(3)]
        assert all(sum(row) == 1 for row in matches)  # a permutation of the clip's frames
        assert not torch.equal(s[i], x[i])  # never the identity
    w = swap(x, _gen())
    for i in range(x.shape[0]):
        assert torch.equal(w[i, 0], x[i, 0])
        assert not torch.equal(w[i, 2], x[i, 2])  # the last frame always comes from elsewhere
        assert any(torch.equal(w[i, 2], x[o, 2]) for o in range(x.shape[0]) if o != i)


def test_frame_degradations_change_values_and_stay_in_range():
    x = _clips()
    for fn in (blur, noise, ghost):
        y = fn(x, _gen())
        assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
        assert not torch.allclose(y[:, 1:], x[:, 1:])
    # blur keeps a constant image constant (normalised kernel, replicate padding)
    const = torch.full((2, 3, 1, 16, 16), 0.3)
    torch.testing.assert_close(blur(const, _gen()), const)
    # ghost: frame t is a convex combination of frames t and t-1, frame 0 untouched
    g = ghost(x, _gen())
    assert torch.equal(g[:, 0], x[:, 0])
    a = (g[:, 1] - x[:, 1]) / (x[:, 0] - x[:, 1])
    a0 = a.flatten(1)[:, 0:1]
    assert torch.all((a0 >= 0.2 - 1e-4) & (a0 <= 0.6 + 1e-4))


def test_degrade_is_seeded_and_mixes():
    x = _clips(n=32)
    a = degrade(x, list(DEGRADATIONS), _gen(3))
    b = degrade(x, list(DEGRADATIONS), _gen(3))
    assert torch.equal(a, b)
    assert not torch.equal(a, degrade(x, list(DEGRADATIONS), _gen(4)))
    only_blur = degrade(x, ["blur"], _gen(3))
    assert not torch.equal(only_blur, a)


def test_degrade_reports_each_clips_degradation():
    x = _clips(n=32)
    out, choice = degrade(x, ["freeze", "noise"], _gen(5), return_choice=True)
    assert torch.equal(out, degrade(x, ["freeze", "noise"], _gen(5)))  # same draws
    assert set(choice.tolist()) == {0, 1}
    # freeze repeats a frame up to the last one; noise changes every frame independently.
    frozen = (out[:, -1] == out[:, -2]).flatten(1).all(1)
    assert torch.equal(frozen, choice == 0)


def test_bad_inputs():
    with pytest.raises(ValueError, match="unknown reference"):
        parse_reference("blur,sharpen")
    with pytest.raises(ValueError, match="unknown reference"):
        parse_reference("")
    assert parse_reference(" blur, noise ,blur") == ("blur", "noise")
    with pytest.raises(ValueError, match="clips"):
        degrade(torch.rand(2, 1, 1, 8, 8), ["blur"], _gen())
    with pytest.raises(ValueError, match="at least 2"):
        swap(torch.rand(1, 3, 1, 8, 8), _gen())
