import math

import pytest
import torch

from compressai_plf.metrics.identity_statistics import (
    class_tv_distance,
    identity_hits,
    identity_summary,
)

NAN = math.nan


def test_copying_own_wrong_frame0_is_permanence_one():
    # Sources are digits 3 and 5; the decoder draws a wrong digit (7, 1) at frame 0 and
    # copies it: every wrong clip keeps its digit.
    true = torch.tensor([3, 5])
    labels = torch.tensor([[7, 7, 7], [1, 1, 1]])
    conf = torch.full(labels.shape, 0.95)
    s = identity_summary(labels, conf, true)
    assert s["permanence"] == [1.0, 1.0, 1.0]
    assert s["correction"] == [0.0, 0.0, 0.0]
    assert s["self-consistency"] == [1.0, 1.0, 1.0]
    assert s["digit-accuracy"] == [0.0, 0.0, 0.0]
    assert s["confident"] == [1.0, 1.0, 1.0]


def test_returning_to_the_source_is_correction_one():
    true = torch.tensor([3, 5, 2])
    labels = torch.tensor([[7, 3, 3], [1, 1, 5], [2, 2, 2]])  # clip 2: right from the start
    conf = torch.tensor([[0.5, 0.95, 0.99], [0.2, 0.3, 0.91], [0.9, 0.8, 0.95]])
    s = identity_summary(labels, conf, true)
    # Only the two wrong-first clips define permanence and correction.
    assert s["correction"] == [0.0, 0.5, 1.0]
    assert s["permanence"] == [1.0, 0.5, 0.0]
    assert s["self-consistency"] == pytest.approx([1.0, 2 / 3, 1 / 3])
    assert s["digit-accuracy"] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert s["confident"] == pytest.approx([1 / 3, 1 / 3, 1.0])
    hits = identity_hits(labels, conf, true)
    assert torch.isnan(hits["permanence"][2]).all()  # right frame 0: undefined


def test_no_wrong_first_frame_leaves_permanence_undefined():
    s = identity_summary(torch.tensor([[4, 4]]), torch.ones(1, 2), torch.tensor([4]))
    assert all(math.isnan(v) for v in s["permanence"] + s["correction"])


def test_class_tv_distance_known_histograms():
    true = torch.tensor([0, 0, 1, 1])
    assert class_tv_distance(torch.tensor([[1], [0], [0], [1]]), true) == [0.0]  # same histogram
    assert class_tv_distance(torch.tensor([[2], [2], [2], [2]]), true) == [1.0]  # disjoint
    assert class_tv_distance(torch.tensor([[0], [0], [0], [1]]), true) == [0.25]


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="one true digit per clip"):
        identity_hits(torch.zeros(2, 3, dtype=torch.long), torch.ones(2, 3), torch.zeros(3))
    with pytest.raises(ValueError, match=r"\(N, T\)"):
        identity_hits(torch.zeros(2, dtype=torch.long), torch.ones(2), torch.zeros(2))
