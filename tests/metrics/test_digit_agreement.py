import pytest
import torch
import torch.nn as nn

from compressai_plf.metrics import digit_agreement_per_frame


class BrightnessStub(nn.Module):
    """Class 1 for bright frames (mean > 0.5), class 0 otherwise."""

    def forward(self, x):
        bright = (x.mean(dim=(1, 2, 3)) > 0.5).long()
        return nn.functional.one_hot(bright, 10).float()


def test_agreement_per_frame_with_stub():
    stub = BrightnessStub()
    src = torch.rand(4, 3, 1, 8, 8) * 0.4  # all dark: class 0
    rec = src.clone()
    rec[:, 1] = 1 - rec[:, 1]  # frame 1 bright in all clips
    rec[:2, 2] = 1 - rec[:2, 2]  # frame 2 bright in half the clips
    assert digit_agreement_per_frame(stub, src, src).tolist() == [1.0, 1.0, 1.0]
    assert digit_agreement_per_frame(stub, src, rec).tolist() == [1.0, 0.0, 0.5]
    labels = torch.tensor([1, 1, 0, 0])
    assert digit_agreement_per_frame(stub, src, rec, labels=labels).tolist() == [0.5, 0.5, 1.0]
    hits = digit_agreement_per_frame(stub, src, rec, reduction="none")
    assert hits.shape == (4, 3)


def test_bad_labels():
    x = torch.rand(4, 2, 1, 8, 8)
    with pytest.raises(ValueError, match="labels"):
        digit_agreement_per_frame(BrightnessStub(), x, x, labels=torch.zeros(3))
