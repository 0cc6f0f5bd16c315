"""The one Moving MNIST frame renderer (`place_digits`) and MNIST as tensors."""

import pytest
import torch

from compressai_plf.datasets import load_mnist_tensors, place_digits


def test_digit_resized_and_fully_inside_canvas():
    digits = torch.full((200, 28, 28), 255, dtype=torch.uint8)
    frames = place_digits(digits, generator=torch.Generator().manual_seed(0))
    assert frames.shape == (200, 1, 64, 64)
    # An all-white 28x28 digit becomes a 32x32 block of ones, nothing clipped at the borders.
    torch.testing.assert_close(frames.sum(dim=(1, 2, 3)), torch.full((200,), 32.0 * 32))
    rows = frames[:, 0].amax(dim=2) > 0
    tops = rows.float().argmax(dim=1)
    # Positions are uniform over 0..32: both extremes show up in 200 draws.
    assert tops.min() == 0 and tops.max() == 32


def test_float_digits_and_bad_input():
    frames = place_digits(torch.rand(3, 28, 28), frame_size=40, digit_size=20)
    assert frames.shape == (3, 1, 40, 40) and frames.min() >= 0 and frames.max() <= 1
    with pytest.raises(ValueError, match="digit_size"):
        place_digits(torch.rand(3, 28, 28), frame_size=32, digit_size=40)
    with pytest.raises(ValueError, match="B, H, W"):
        place_digits(torch.rand(3, 1, 28, 28))


def test_given_positions_place_the_patch_exactly():
    digits = torch.full((2, 28, 28), 255, dtype=torch.uint8)
    frames = place_digits(digits, positions=torch.tensor([[0, 32], [5, 7]]))
    expected = torch.zeros(2, 1, 64, 64)
    expected[0, 0, 0:32, 32:64] = 1
    expected[1, 0, 5:37, 7:39] = 1
    assert torch.equal(frames, expected)


def test_load_mnist_tensors(mnist_root):
    images, labels = load_mnist_tensors(mnist_root, train=False)
    assert images.shape == (10000, 28, 28) and images.dtype == torch.uint8
    assert labels.dtype == torch.int64 and set(labels.unique().tolist()) == set(range(10))
    images[0, 0, 0] = 1  # a copy: the cached arrays stay read-only and untouched


def test_load_mnist_tensors_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="download"):
        load_mnist_tensors(tmp_path)
