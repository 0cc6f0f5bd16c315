import pytest
import torch

from compressai_plf.losses import hinge_discriminator_loss, hinge_generator_loss


def test_hinge_discriminator_known_logits():
    real = torch.tensor([2.0, 0.5, -1.0])  # relu(1 - r) = 0, 0.5, 2 -> mean 5/6
    fake = torch.tensor([-2.0, 0.0, 1.0])  # relu(1 + f) = 0, 1, 2 -> mean 1
    assert hinge_discriminator_loss(real, fake).item() == pytest.approx(5 / 6 + 1)


def test_hinge_discriminator_zero_when_margins_met():
    real = torch.tensor([[1.0], [3.0]])
    fake = torch.tensor([[-1.0], [-5.0]])
    assert hinge_discriminator_loss(real, fake).item() == 0.0


def test_hinge_generator_known_logits():
    fake = torch.tensor([-2.0, 0.0, 1.0])
    assert hinge_generator_loss(fake).item() == pytest.approx(1 / 3)


def test_hinge_gradients():
    real = torch.tensor([0.5, 2.0], requires_grad=True)
    fake = torch.tensor([0.0, -3.0], requires_grad=True)
    hinge_discriminator_loss(real, fake).backward()
    # d/dr mean(relu(1 - r)) = -1/2 where 1 - r > 0, else 0; same sign logic for fake.
    assert real.grad.tolist() == [-0.5, 0.0]
    assert fake.grad.tolist() == [0.5, 0.0]
