"""Our Fréchet distance against torchmetrics' FID formula (test-only dependency)."""

from __future__ import annotations

import pytest
import torch

from compressai_plf.metrics import frechet_distance

fid = pytest.importorskip("torchmetrics.image.fid")


@pytest.mark.parametrize("dim, n", [(8, 500), (64, 2000)])
def test_frechet_distance_agrees_with_torchmetrics(dim, n):
    g = torch.Generator().manual_seed(dim)
    real = torch.randn(n, dim, generator=g, dtype=torch.float64)
    mix = torch.randn(dim, dim, generator=g, dtype=torch.float64) / dim**0.5
    fake = real @ mix + 0.3 * torch.randn(n, dim, generator=g, dtype=torch.float64) + 0.2
    expected = fid._compute_fid(real.mean(0), torch.cov(real.T), fake.mean(0), torch.cov(fake.T))
    assert frechet_distance(real, fake) == pytest.approx(float(expected), rel=1e-8)
    assert frechet_distance(real, real) == pytest.approx(0.0, abs=1e-8)
