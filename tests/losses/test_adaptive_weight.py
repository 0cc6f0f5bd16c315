import math

import pytest
import torch

from compressai_plf.losses import adaptive_weight


def toy_decoder():
    # Last layer y = W h with h fixed; both losses are closed-form in W.
    torch.manual_seed(1)
    w = torch.randn(3, 4, requires_grad=True)
    h = torch.randn(4)
    target = torch.randn(3)
    v = torch.randn(3)
    return w, h, target, v


def test_ratio_of_independent_gradient_norms():
    w, h, target, v = toy_decoder()
    y = w @ h
    num = ((y - target) ** 2).sum()  # dnum/dW = 2 (W h - t) h^T
    den = (v * y).sum()  # dden/dW = v h^T
    with torch.no_grad():
        g_num = 2 * torch.outer(w @ h - target, h)
        g_den = torch.outer(v, h)
        expected = g_num.norm() / g_den.norm()
    got = adaptive_weight(num, den, w)
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)
    assert not got.requires_grad and got.dtype == torch.float32
    # Graphs are retained: the caller can still back-propagate both losses.
    (num + den).backward()
    assert w.grad is not None


def test_clamp_and_eps_floor():
    w, h, target, v = toy_decoder()
    y = w @ h
    num = ((y - target) ** 2).sum()
    tiny = 1e-9 * (v * y).sum()  # gradient norm far below eps -> denominator eps
    with torch.no_grad():
        g_num = (2 * torch.outer(w @ h - target, h)).norm().item()
    assert adaptive_weight(num, tiny, w, eps=1e-2).item() == pytest.approx(g_num / 1e-2, rel=1e-5)
    assert adaptive_weight(num, tiny, w, eps=1e-4, max_weight=5.0).item() == 5.0
    # A denominator that does not depend on W: norm 0 -> eps floor, then the clamp.
    assert adaptive_weight(num, h.sum() * 0 + 1.0, w, max_weight=7.0).item() == 7.0


def test_non_finite_gives_safe_value():
    w, h, target, v = toy_decoder()
    y = w @ h
    den = (v * y).sum()
    for bad in (math.inf, math.nan):
        num = bad * y.sum()
        assert adaptive_weight(num, den, w).item() == 0.0
        assert adaptive_weight(num, den, w, nonfinite_value=1.0).item() == 1.0


def test_fp16_gradients_normed_in_fp32():
    # 4096 fp16 gradient entries of 300: a naive fp16 sum of squares (3.7e8) would overflow.
    w = torch.zeros(4096, dtype=torch.float16, requires_grad=True)
    num = (w * 300.0).sum()
    den = (w * 3.0).sum()
    assert adaptive_weight(num, den, w).item() == pytest.approx(100.0, rel=1e-3)


def test_bad_arguments():
    w, h, *_ = toy_decoder()
    with pytest.raises(ValueError, match="requires grad"):
        adaptive_weight((w @ h).sum(), (w @ h).sum(), w.detach())
    with pytest.raises(ValueError, match="scalars"):
        adaptive_weight(w @ h, (w @ h).sum(), w)
