"""Closed forms, limits, orderings and the convex solver of compressai_plf.theory.gauss_markov."""

import numpy as np
import pytest

from compressai_plf.theory import (
    PERCEPTION_TOL,
    GaussMarkovSource,
    LinearDecoder,
    MMSERepresentation,
    error_permanence_limit,
    fmd,
    fmd_decoder,
    jd,
    jd_decoder,
    mmse,
    optimal_decoder,
    sa,
    sa_decoder,
    sequential_decoder,
)

SRC = GaussMarkovSource(variance=1.0, rho=0.9, frames=3)


def test_closed_forms_by_hand():
    rates = [1.0, 1.0, 1.0]
    p = np.array([1.0, 0.3925, 0.81 * 0.3925 / 4 + 0.19])
    m = p / 4
    q = p - m
    np.testing.assert_allclose(mmse(SRC, rates), m)
    # FMD at P = 0: m + (1 - sqrt(1 - m))^2 since sigma_j = 1.
    np.testing.assert_allclose(fmd(SRC, rates), m + (1 - np.sqrt(1 - m)) ** 2)
    # FMD with a budget: the gap shrinks by sqrt(P), then MMSE.
    np.testing.assert_allclose(
        fmd(SRC, rates, 0.01), m + np.maximum(1 - np.sqrt(1 - m) - 0.1, 0) ** 2
    )
    np.testing.assert_allclose(fmd(SRC, rates, 1.0), m)
    # JD at P = 0: C1 = sqrt(q1), Cj = 0.81 C(j-1) + sqrt(0.19 qj).
    c1 = np.sqrt(q[0])
    c2 = 0.81 * c1 + np.sqrt(0.19 * q[1])
    c3 = 0.81 * c2 + np.sqrt(0.19 * q[2])
    np.testing.assert_allclose(jd(SRC, rates), 2 - 2 * np.array([c1, c2, c3]))
    # SA at P = 0: 2p - 2 sqrt(pq) = 2p (1 - sqrt(3/4)) at one bit.
    np.testing.assert_allclose(sa(SRC, rates), 2 * p * (1 - np.sqrt(0.75)))


RATE_CASES = [[1.0, 1.0, 1.0], [0.0, 2.0, 2.0], [0.5, 0.1, 3.0], [3.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


@pytest.mark.parametrize("rates", RATE_CASES)
def test_constructed_decoders_match_closed_forms_at_zero_perception(rates):
    rep = MMSERepresentation(SRC, rates)
    for plf, closed in (("fmd", fmd), ("jd", jd), ("sa", sa)):
        dec = optimal_decoder(SRC, rates, plf, 0.0)
        np.testing.assert_allclose(dec.distortion(rep), closed(SRC, rates), atol=1e-12)
        np.testing.assert_allclose(dec.perception(rep, plf), 0.0, atol=1e-10)


@pytest.mark.parametrize("rates", RATE_CASES)
@pytest.mark.parametrize("kind", ["jd", "sa"])
def test_numerical_solver_at_zero_perception_matches_closed_forms(rates, kind):
    rep = MMSERepresentation(SRC, rates)
    dec, how = sequential_decoder(rep, kind, 0.0, numeric_only=True)
    closed = jd(SRC, rates) if kind == "jd" else sa(SRC, rates)
    assert all(h in ("numeric", "mmse") for h in how)
    np.testing.assert_allclose(dec.distortion(rep), closed, atol=1e-5)
    assert np.all(dec.perception(rep, kind) <= 1e-8)


def test_infinite_rate_limits():
    for plf in ("fmd", "jd", "sa"):
        np.testing.assert_allclose(optimal_decoder_d(plf, np.inf, 0.0), 0.0, atol=1e-12)


def optimal_decoder_d(plf, rates, perception):
    return {"fmd": fmd, "jd": jd, "sa": sa}[plf](SRC, rates, perception)


def test_zero_perception_at_most_twice_mmse_for_fmd_and_sa():
    rng = np.random.default_rng(0)
    for _ in range(50):
        src = GaussMarkovSource(
            variance=rng.uniform(0.1, 5),
            rho=rng.uniform(-1, 1, 3),
            frames=4,
            innovation_variance=rng.uniform(0.01, 2, 3),
        )
        rates = rng.uniform(0, 4, 4)
        d_mmse = mmse(src, rates)
        for closed in (fmd, sa):
            d = closed(src, rates)
            assert np.all(d <= 2 * d_mmse * (1 + 1e-12))
            assert np.all(d >= d_mmse - 1e-12)


def test_error_permanence_of_jd():
    # Zero-rate I-frame: JD frame 2 tends to 2 sigma^2 - 2 sN sigma > 0 as the P-rate grows.
    src = GaussMarkovSource(variance=1.0, rho=0.9, frames=2)
    limit = 2 - 2 * np.sqrt(0.19)
    assert error_permanence_limit(src) == pytest.approx(limit)
    d2 = [jd(src, [0.0, r])[1] for r in (0.5, 1, 2, 4, 8, 16, 30)]
    assert np.all(np.diff(d2) < 0)
    assert d2[-1] == pytest.approx(limit, abs=1e-8)
    # FMD and SA recover: their frame-2 distortion vanishes.
    assert fmd(src, [0.0, 30.0])[1] < 1e-8
    assert sa(src, [0.0, 30.0])[1] < 1e-8
    # Non-stationary: 2 sigma_2^2 - 2 sN sigma_2.
    src2 = GaussMarkovSource(variance=2.0, rho=0.5, frames=3, innovation_variance=[1.0, 1.0])
    s2 = np.sqrt(0.25 * 2 + 1)
    assert error_permanence_limit(src2) == pytest.approx(2 * s2**2 - 2 * s2)


BUDGETS = [1e-4, 0.003, 0.02, 0.08]


@pytest.mark.parametrize("rates", [[1.0, 1.0, 1.0], [0.0, 1.5, 1.5], [0.5, 0.1, 3.0]])
def test_solver_orderings_and_budgets(rates):
    rep = MMSERepresentation(SRC, rates)
    d_mmse = mmse(SRC, rates)
    prev = {"jd": jd(SRC, rates), "sa": sa(SRC, rates)}
    for budget in BUDGETS:
        d_fmd = fmd(SRC, rates, budget)
        for kind in ("jd", "sa"):
            dec = jd_decoder(SRC, rates, budget) if kind == "jd" else sa_decoder(SRC, rates, budget)
            d = dec.distortion(rep)
            perc = dec.perception(rep, kind)
            assert np.all(perc <= budget + PERCEPTION_TOL * 3 + 1e-12)
            # Where the decoder is worse than MMSE, the budget is spent.
            active = d > d_mmse + 1e-9
            if kind == "sa":
                np.testing.assert_allclose(perc[active], budget, rtol=1e-6)
            # MMSE <= FMD <= (JD, SA): both joint constraints imply the marginal one.
            assert np.all(d >= d_fmd - 1e-9)
            assert np.all(d_fmd >= d_mmse - 1e-12)
            # Frame 1 has only a marginal: every PLF coincides there.
            assert d[0] == pytest.approx(d_fmd[0], abs=1e-8)
            # More perception budget never hurts a frame whose past is unchanged.
            assert d[0] <= prev[kind][0] + 1e-9
            prev[kind] = d
        np.testing.assert_allclose(
            jd(SRC, rates, budget), jd_decoder(SRC, rates, budget).distortion(rep)
        )


def test_unbounded_perception_gives_mmse():
    rates = [0.7, 1.2, 0.3]
    for kind in ("fmd", "jd", "sa"):
        np.testing.assert_allclose(optimal_decoder_d(kind, rates, np.inf), mmse(SRC, rates))


def test_sa_improves_monotonically_with_budget_when_past_fixed():
    src = GaussMarkovSource(frames=2)
    rates = [np.inf, 0.5]  # frame 1 lossless, so its decoder is the same for every budget
    d2 = [sa(src, rates, [0.0, b])[1] for b in (0.0, 1e-3, 1e-2, 3e-2, 0.1)]
    assert np.all(np.diff(d2) <= 1e-12)
    assert d2[-1] == pytest.approx(mmse(src, rates)[1])


def test_jd_budget_below_spent_raises():
    with pytest.raises(ValueError, match="budget"):
        jd(SRC, [0.0, 1.0, 1.0], [0.1, 0.01, 0.1])


def test_bad_inputs_raise():
    with pytest.raises(ValueError):
        fmd(SRC, 1.0, -0.1)
    with pytest.raises(ValueError):
        sa(SRC, [1.0, 1.0], 0.0)
    with pytest.raises(ValueError):
        optimal_decoder(SRC, 1.0, "gan")
    with pytest.raises(ValueError):
        sequential_decoder(MMSERepresentation(SRC, 1.0), "fmd")
    with pytest.raises(ValueError, match="lower triangular"):
        LinearDecoder(np.ones((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError):
        fmd_decoder(SRC, 1.0, 0.0)(np.zeros((4, 2)))


@pytest.mark.parametrize("rates", [[1.0, 1.0, 1.0], [0.0, 1.5, 1.5], [0.5, 0.1, 3.0]])
@pytest.mark.parametrize("budget", [1e-3, 0.01, 0.05])
def test_sa_within_conditional_coupling_bound(rates, budget):
    # Keeping the past outputs fixed in the coupling gives W2^2 <= |g - u|^2 + (s - w)^2, so
    # D_j <= m_j + max(0, s - sqrt(P) - t)^2 with s^2 = Var(X_j | past), t^2 = Var(X^_j | past).
    rep = MMSERepresentation(SRC, rates)
    dec = sa_decoder(SRC, rates, budget)
    d = dec.distortion(rep)
    k = rep.covariance()
    a, n = dec.coefficients, dec.noise
    cov_y = a @ k @ a.T + n @ n.T
    for j in range(3):
        c = a[:j] @ k[:, j]
        explained = c @ np.linalg.pinv(cov_y[:j, :j]) @ c if j else 0.0
        t2 = rep.estimate_variances[j] - explained
        s2 = SRC.variances[j] - explained
        bound = rep.m[j] + max(0.0, np.sqrt(s2) - np.sqrt(budget) - np.sqrt(t2)) ** 2
        assert d[j] <= bound + 1e-9
