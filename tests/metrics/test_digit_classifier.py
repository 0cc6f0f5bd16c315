import pytest
import torch

from compressai_plf.checkpoint import CheckpointError
from compressai_plf.datasets import load_mnist_tensors as load_mnist
from compressai_plf.datasets import place_digits
from compressai_plf.metrics import (
    DigitClassifier,
    classifier_features,
    digit_agreement_per_frame,
    frechet_distance_per_frame,
    load_digit_classifier,
)
from compressai_plf.metrics.build_classifier import (
    main,
    placed_digit_accuracy,
    save_digit_classifier,
    train_digit_classifier,
)


def test_shapes_and_bad_size():
    model = DigitClassifier().eval()
    x = torch.rand(5, 1, 64, 64)
    assert model(x).shape == (5, 10) and model.features(x).shape == (5, 64)
    with pytest.raises(ValueError, match="64, 64"):
        model(torch.rand(5, 1, 32, 32))
    video = torch.rand(2, 3, 3, 64, 64)  # RGB is reduced to luma
    assert classifier_features(model, video).shape == (2, 3, 64)


def test_save_load_roundtrip_weights_only(tmp_path):
    model = DigitClassifier(feature_dim=32, width=8).eval()
    path = tmp_path / "clf.pt"
    save_digit_classifier(model, path, {"test_accuracy": 0.5})
    loaded = load_digit_classifier(path)
    assert loaded.feature_dim == 32 and not loaded.training
    x = torch.rand(4, 1, 64, 64)
    torch.testing.assert_close(loaded(x), model(x))
    assert torch.load(path, weights_only=True)["meta"] == {"test_accuracy": 0.5}
    with pytest.raises(FileNotFoundError, match="build_classifier"):
        load_digit_classifier(tmp_path / "missing.pt")
    # read like every checkpoint: under ``network`` too, a DDP ``module.`` prefix removed
    wrapped = {f"module.{k}": v for k, v in model.state_dict().items()}
    torch.save({"network": wrapped, "config": {"feature_dim": 32, "width": 8}}, path)
    torch.testing.assert_close(load_digit_classifier(path)(x), model(x))
    torch.save({"state_dict": {"w": torch.zeros(1)}}, path)  # another network's file
    with pytest.raises(CheckpointError, match="not a digit classifier checkpoint"):
        load_digit_classifier(path)


@pytest.fixture(scope="module")
def mnist_test(mnist_root):
    return load_mnist(mnist_root, train=False)


def test_agreement_with_quickly_trained_classifier(mnist_root, mnist_test):
    images, labels = load_mnist(mnist_root, train=True)
    model = train_digit_classifier(images[:400], labels[:400], epochs=1, batch_size=50, width=8)
    test_images, test_labels = mnist_test
    gen = torch.Generator().manual_seed(0)
    clips = torch.stack([place_digits(test_images[:200], generator=gen) for _ in range(3)], 1)
    # Identity reconstructions agree with the source everywhere, whatever the accuracy.
    assert digit_agreement_per_frame(model, clips, clips).tolist() == [1.0, 1.0, 1.0]
    # Against true labels, agreement on frame t is the accuracy on those frames.
    agree = digit_agreement_per_frame(model, clips, clips, labels=test_labels[:200])
    pred = model(clips[:, 2]).argmax(-1)
    assert agree[2].item() == pytest.approx((pred == test_labels[:200]).float().mean().item())


@pytest.mark.slow
def test_training_learns_and_features_separate_blank_frames(mnist_root, mnist_test):
    images, labels = load_mnist(mnist_root, train=True)
    model = train_digit_classifier(images[:6000], labels[:6000], epochs=2)
    test_images, test_labels = mnist_test
    # Chance is 0.1.
    assert placed_digit_accuracy(model, test_images[:1000], test_labels[:1000]) > 0.8
    gen = torch.Generator().manual_seed(0)
    n = 500
    clips = torch.stack([place_digits(test_images[:n], generator=gen) for _ in range(2)], dim=1)
    fresh = torch.stack([place_digits(test_images[n : 2 * n], generator=gen) for _ in range(2)], 1)
    fake = fresh.clone()
    fake[:, 1] = 0
    real_f = classifier_features(model, clips)
    fd_real = frechet_distance_per_frame(real_f, classifier_features(model, fresh))
    fd_fake = frechet_distance_per_frame(real_f, classifier_features(model, fake))
    # Blank frames are far less realistic than a fresh draw of real frames.
    assert fd_fake[1] > 5 * fd_real[1]
    assert fd_fake[0] == pytest.approx(fd_real[0])


def test_build_command(mnist_root, tmp_path):
    out = tmp_path / "clf.pt"
    args = ["--mnist-root", str(mnist_root), "--out", str(out), "--max-train", "128"]
    main(args + ["--max-test", "100", "--epochs", "1", "--batch-size", "64"])
    meta = torch.load(out, weights_only=True)["meta"]
    assert meta["num_train"] == 128 and meta["num_test"] == 100
    assert 0.0 <= meta["test_accuracy"] <= 1.0
    assert isinstance(load_digit_classifier(out), DigitClassifier)
