"""Learned Gauss-Markov codecs against the closed-form theory (``compressai_plf.theory.operational``).

The expectations are the theory's closed forms (docs/theory.md) and the operational limit of
one-bit quantisation of a Gaussian (``E(X - E[X | sign X])^2 = 1 - 2/pi``), not values
produced by the code under test.
"""

import json
import math

import numpy as np
import pytest
import torch

from compressai_plf.theory import GaussMarkovSource, error_permanence_limit, fmd, jd, mmse
from compressai_plf.theory.operational import (
    CausalMLPCodec,
    TrainConfig,
    batch_gaussian_w2_squared,
    effective_rates,
    evaluate,
    frame_bits,
    latent_layout,
    run_point,
    sample_sequences,
    train_mmse,
)
from compressai_plf.theory.operational.report import main
from compressai_plf.theory.wasserstein import gaussian_w2_squared

torch.set_num_threads(1)


def test_latent_layout_spreads_bits_over_components():
    assert latent_layout(0, 16) == (0, 2)
    assert latent_layout(4, 16) == (4, 2)
    assert latent_layout(32, 16) == (16, 4)
    assert latent_layout(24, 16) == (12, 4)
    assert frame_bits(0.25, 16) == 4
    with pytest.raises(ValueError, match="whole number of bits"):
        frame_bits(0.3, 16)
    with pytest.raises(ValueError, match="whole number of bits"):
        frame_bits(-1, 16)


def test_sampled_sequences_have_the_source_covariance():
    src = GaussMarkovSource(2.0, 0.8, 3)
    x = sample_sequences(src, 4, 50_000, torch.Generator().manual_seed(0))
    flat = x.permute(0, 2, 1).reshape(-1, 3).double().numpy()
    cov = np.cov(flat.T)
    expected = 2.0 * 0.8 ** np.abs(np.subtract.outer(np.arange(3), np.arange(3)))
    np.testing.assert_allclose(cov, expected, atol=0.03)
    with pytest.raises(ValueError, match="dim"):
        sample_sequences(src, 0, 10)


def test_batch_gaussian_w2_matches_the_numpy_formula_and_has_gradients():
    gen = torch.Generator().manual_seed(1)
    real = torch.randn(4000, 3, generator=gen) @ torch.tensor(
        [[1.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 0.7]]
    )
    fake = (0.6 * torch.randn(4000, 3, generator=gen) + 0.2).requires_grad_(True)
    value = batch_gaussian_w2_squared(real, fake, eps=0.0)
    r, f = real.double().numpy(), fake.detach().double().numpy()
    expected = gaussian_w2_squared(np.cov(r.T, ddof=0), np.cov(f.T, ddof=0))
    expected += float(np.square(r.mean(0) - f.mean(0)).sum())
    assert value.item() == pytest.approx(expected, rel=1e-5)
    value.backward()
    assert torch.isfinite(fake.grad).all() and fake.grad.abs().sum() > 0
    # a singular (deterministic, low-rank) fake still gets finite gradients
    low = torch.zeros(100, 3, requires_grad=True)
    batch_gaussian_w2_squared(real[:100], low).backward()
    assert torch.isfinite(low.grad).all()
    with pytest.raises(ValueError, match="equal-shaped"):
        batch_gaussian_w2_squared(real, fake[:10])


def test_effective_rates_invert_the_mmse_recursion():
    src = GaussMarkovSource(1.0, 0.9, 3)
    rates = [0.5, 1.25, 0.0]
    np.testing.assert_allclose(effective_rates(src, mmse(src, rates)), rates, atol=1e-12)


def test_learned_mmse_codec_reaches_the_theory_at_a_quarter_bit():
    """d = 16, 0.25 bits per component (4 one-bit latents per frame), rho = 0.9.

    Theory (Gaussian test channel): D1 = 2^-0.5 = 0.707, D2 = 0.539. A fixed-rate scalar
    quantiser cannot reach it: one bit on each of 4 of the 16 components (or projections)
    gives ``(12 + 4 (1 - 2/pi)) / 16 = 0.841``, 1.19 times the theory, for frame 1. Stated
    tolerance: frame 1 within 2% of that operational limit, frame 2 within 1.45 times the
    theory (measured 1.33 after 2000 steps); never below the theory beyond sampling noise.
    """
    src = GaussMarkovSource(1.0, 0.9, 2)
    torch.manual_seed(0)
    codec = CausalMLPCodec(16, [0.25, 0.25])
    train_mmse(codec, src, TrainConfig(mmse_steps=800), torch.Generator().manual_seed(0))
    learned = np.array(evaluate(codec, {}, src, 20_000, 1)["mse"]["distortion"])
    theory = mmse(src, 0.25)
    sign_limit = (12 + 4 * (1 - 2 / math.pi)) / 16
    assert np.all(learned > 0.98 * theory), (learned, theory)
    assert learned[0] < 1.02 * sign_limit, (learned, sign_limit)
    assert learned[1] < 1.45 * theory[1], (learned, theory)
    # frame 2 uses frame 1: far below coding it alone (prediction error 1 - 0.81 (1 - m1))
    assert learned[1] < 0.9 * learned[0]


def test_jd_floor_against_fmd_fall_after_a_zero_rate_i_frame():
    """Frame 1 at rate 0, frame 2 at 2 bits per component: the theory's zero-perception JD
    distortion of frame 2 is 1.156 (limit 2 - 2 sqrt(0.19) = 1.128), FMD's 0.064."""
    src = GaussMarkovSource(1.0, 0.9, 2)
    config = TrainConfig(mmse_steps=600, plf_steps=400)
    point = run_point(src, 8, [0.0, 2.0], config, seed=0, eval_samples=20_000, plfs=["jd", "fmd"])
    d_jd = point["learned"]["jd"]["distortion"][1]
    d_fmd = point["learned"]["fmd"]["distortion"][1]
    d_mmse = point["learned"]["mse"]["distortion"][1]
    assert jd(src, [0, 2])[1] == pytest.approx(1.1559, abs=1e-4)  # the reference itself
    assert d_jd > 0.9 * jd(src, [0, 2])[1], point["learned"]["jd"]
    assert d_fmd < 2.5 * d_mmse < 0.5 * d_jd, (d_fmd, d_mmse, d_jd)
    # each decoder meets its own constraint: small Gaussian W2^2 per component
    assert max(point["learned"]["jd"]["perception"]) < 0.02
    assert max(point["learned"]["fmd"]["perception"]) < 0.02
    # frame 1 has no bits: every perceptual decoder draws it from noise, D1 ~ 2 sigma^2
    assert point["learned"]["fmd"]["distortion"][0] == pytest.approx(2.0, abs=0.15)


def test_command_writes_json_table_and_figure(tmp_path, capsys):
    out = tmp_path / "op"
    argv = [
        "--out",
        str(out),
        "--dim",
        "8",
        "--rates",
        "1",
        "--p-rates",
        "2",
        "--mmse-steps",
        "30",
        "--plf-steps",
        "10",
        "--eval-samples",
        "2000",
        "--rho",
        "0.8",
    ]
    assert main(argv) == 0
    assert {p.name for p in out.iterdir()} == {
        "operational.json",
        "operational.md",
        "operational.png",
    }
    assert (out / "operational.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = json.loads((out / "operational.json").read_text())
    src = GaussMarkovSource(1.0, 0.8, 2)
    sweep = res["rate_sweep"]["points"][0]
    np.testing.assert_allclose(sweep["theory"]["mse"], mmse(src, 1.0))
    np.testing.assert_allclose(sweep["theory_zero_perception"]["fmd"], fmd(src, 1.0))
    assert sweep["bits"] == [8, 8] and sweep["latents"] == [8, 8]
    ep = res["error_permanence"]
    assert ep["points"][0]["rates"] == [0.0, 2.0]
    assert ep["jd_limit_frame2"] == pytest.approx(error_permanence_limit(src, 2))
    assert ep["jd_limit_frame2"] == pytest.approx(2 - 2 * 0.6)
    for p in (sweep, ep["points"][0]):
        for name in res["plfs"]:
            learned = np.array(p["learned"][name]["distortion"])
            ratio = np.array(p["ratio"][name]["theory"], dtype=float)
            np.testing.assert_allclose(ratio, learned / np.array(p["theory"][name]))
    table = (out / "operational.md").read_text()
    assert "| mse |" in table and "MMSE |" not in table and "mmse" not in sweep["learned"]
    assert table.count("\n") == 2 + 2 * (1 + len(res["plfs"]))
    assert "operational.json" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--rates", "0.3"], "whole number of bits"),
        (["--frames", "1"], "--frames must be >= 2"),
        (["--plfs", "nope"], "unknown PLF"),
        (["--rho", "1.5"], "rho"),
        (["--critic", "lpips"], "invalid choice"),
    ],
)
def test_bad_options_print_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
