import pytest
import torch

from compressai_plf.datasets import load_mnist_tensors as load_mnist
from compressai_plf.datasets import place_digits
from compressai_plf.metrics.build_classifier import placed_digit_accuracy
from compressai_plf.metrics.codec_artifacts import codec_artifacts, digit_mixtures, gaussian_blur
from compressai_plf.metrics.digit_classifier import classify_frames, load_digit_classifier
from compressai_plf.metrics.packaged import packaged_classifier_path


def test_blur_keeps_mass_and_spreads_a_point():
    x = torch.zeros(2, 1, 33, 33)
    x[:, :, 16, 16] = 1.0
    out = gaussian_blur(x, torch.tensor([0.0, 2.0]))
    assert torch.equal(out[0], x[0])  # sigma 0: unchanged
    assert out[1].sum().item() == pytest.approx(1.0, abs=1e-5)  # far from the border
    # A Gaussian of sigma 2: the centre keeps 1 / (2 pi sigma^2) of the mass (to discretisation).
    assert out[1, 0, 16, 16].item() == pytest.approx(1 / (2 * torch.pi * 4), rel=0.05)


def test_artifacts_are_seeded_and_stay_in_range():
    x = torch.rand(16, 1, 64, 64)
    a = codec_artifacts(x, torch.Generator().manual_seed(3), prob=1.0)
    b = codec_artifacts(x, torch.Generator().manual_seed(3), prob=1.0)
    assert torch.equal(a, b) and a.shape == x.shape
    assert a.min() >= 0 and a.max() <= 1 and not torch.equal(a, x)
    assert torch.equal(codec_artifacts(x, torch.Generator(), prob=0.0), x)
    with pytest.raises(ValueError, match="prob"):
        codec_artifacts(x, torch.Generator(), prob=2.0)


def test_mixtures_average_digits_and_labels():
    digits = torch.zeros(2, 28, 28, dtype=torch.uint8)
    digits[0, 10:18, 10:18] = 255  # a square labelled 3, an empty digit labelled 5
    labels = torch.tensor([3, 5])
    frames, targets = digit_mixtures(
        digits, labels, 200, torch.Generator().manual_seed(0), min_components=4, max_components=4
    )
    torch.testing.assert_close(targets.sum(1), torch.ones(200))
    # The brightness of a mixture is the share of squares in it: its weight on class 3.
    share = frames.flatten(1).max(1).values
    torch.testing.assert_close(share, targets[:, 3], atol=1e-6, rtol=0)
    assert set(targets[:, 3].unique().tolist()) <= {0.0, 0.25, 0.5, 0.75, 1.0}


@pytest.fixture(scope="module")
def shipped():
    path = packaged_classifier_path()
    if path is None:
        pytest.skip("no shipped digit classifier in this installation")
    return load_digit_classifier(path)


def test_shipped_classifier_reads_degraded_digits_and_doubts_blobs(mnist_root, shipped):
    images, labels = load_mnist(mnist_root, train=False)
    images, labels = images[:500], labels[:500]
    assert placed_digit_accuracy(shipped, images, labels) >= 0.98
    for sigma in (1.5, 2.5):
        blur = lambda x, g, s=sigma: gaussian_blur(x, torch.full((x.shape[0],), s))  # noqa: E731
        assert placed_digit_accuracy(shipped, images, labels, transform=blur) >= 0.93
    noisy = lambda x, g: (x + 0.25 * torch.randn(x.shape, generator=g)).clamp(0, 1)  # noqa: E731
    assert placed_digit_accuracy(shipped, images, labels, transform=noisy) >= 0.95
    # An MMSE-like blob (average of 8 digits at one place) is not a digit: low confidence,
    # and not one class for every blob (the old classifier called all of them "8").
    blobs, _ = digit_mixtures(
        images, labels, 300, torch.Generator().manual_seed(1), min_components=8
    )
    pred, conf = classify_frames(shipped, blobs.unsqueeze(1))
    assert (conf >= 0.9).float().mean() < 0.05
    assert torch.bincount(pred.flatten(), minlength=10).max() < 0.5 * 300
    clean = place_digits(images[:300], generator=torch.Generator().manual_seed(2))
    _, conf_clean = classify_frames(shipped, clean.unsqueeze(1))
    assert (conf_clean >= 0.9).float().mean() > 0.9
