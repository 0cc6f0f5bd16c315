"""GaussMarkovSource: validation, variance recursion, covariance against samples."""

import numpy as np
import pytest

from compressai_plf.theory import GaussMarkovSource


def test_default_is_stationary():
    src = GaussMarkovSource()
    assert src.frames == 3
    np.testing.assert_allclose(src.variances, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(src.innovation_variances, [0.19, 0.19])


def test_per_frame_parameters_and_covariance():
    src = GaussMarkovSource(
        variance=2.0, rho=[0.5, -0.8], frames=3, innovation_variance=[1.0, 0.25]
    )
    # sigma_2^2 = 0.25 * 2 + 1 = 1.5; sigma_3^2 = 0.64 * 1.5 + 0.25 = 1.21
    np.testing.assert_allclose(src.variances, [2.0, 1.5, 1.21])
    expected = np.array(
        [[2.0, 1.0, -0.8], [1.0, 1.5, -1.2], [-0.8, -1.2, 1.21]]
    )  # Cov(X_i, X_k) = rho_i..rho_(k-1) sigma_i^2
    np.testing.assert_allclose(src.covariance(), expected)
    x = src.sample(400_000, np.random.default_rng(0))
    np.testing.assert_allclose(np.cov(x.T), expected, atol=0.02)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"variance": 0.0},
        {"variance": -1.0},
        {"variance": float("nan")},
        {"rho": 1.5},
        {"rho": [0.5, -1.01]},
        {"rho": [0.5]},
        {"frames": 0},
        {"innovation_variance": -0.1},
        {"innovation_variance": [0.1, 0.2, 0.3]},
    ],
)
def test_bad_parameters_raise(kwargs):
    with pytest.raises(ValueError):
        GaussMarkovSource(**kwargs)


def test_frames_must_be_int():
    with pytest.raises(TypeError):
        GaussMarkovSource(frames=2.5)
