"""Identity statistics through the evaluation's metric suite, with the shipped classifier on
real MNIST digits: a decoder that copies its own wrong frame 0 has permanence 1; one that
returns to the source has correction 1; the source itself is the ceiling."""

import pytest
import torch

from compressai_plf.datasets import load_mnist_tensors as load_mnist
from compressai_plf.datasets import place_digits
from compressai_plf.eval.aggregate import average_sequences, class_tv_metrics
from compressai_plf.eval.clip_metrics import build_metric_suite
from compressai_plf.eval.evaluate import _head_metrics
from compressai_plf.metrics.digit_classifier import classify_frames, load_digit_classifier
from compressai_plf.metrics.packaged import packaged_classifier_path


@pytest.fixture(scope="module")
def suite_and_digits(mnist_root):
    path = packaged_classifier_path()
    if path is None:
        pytest.skip("no shipped digit classifier")
    clf = load_digit_classifier(path)
    images, labels = load_mnist(mnist_root, train=False)
    frames = place_digits(images[:200], generator=torch.Generator().manual_seed(0))
    pred, conf = classify_frames(clf, frames.unsqueeze(1))
    keep = ((pred[:, 0] == labels[:200]) & (conf[:, 0] > 0.99)).nonzero().flatten()
    suite = build_metric_suite("mmnist", 1, 64, 64, classifier=clf, lpips=None)
    return suite, frames[keep], labels[:200][keep]


def _clips(frames, labels, decoder: str):
    """Source clips of digit i; decoded clips start with digit i+1 (a different class)."""
    out = []
    n = len(labels)
    for i in range(n - 1):
        j = next(k for k in range(i + 1, n) if labels[k] != labels[i])
        src = torch.stack([frames[i]] * 3).unsqueeze(0)
        wrong = frames[j]
        later = wrong if decoder == "copy" else frames[i]
        rec = torch.stack([wrong, later, later]).unsqueeze(0)
        out.append((src, rec, labels[i : i + 1]))
    return out[:10]


@pytest.mark.parametrize(
    ("decoder", "permanence", "correction"), [("copy", 1.0, 0.0), ("return", 0.0, 1.0)]
)
def test_permanence_and_correction(suite_and_digits, decoder, permanence, correction):
    suite, frames, labels = suite_and_digits
    records, preds, true = [], [], []
    for src, rec, lab in _clips(frames, labels, decoder):
        per_frame = suite.per_frame(src, rec, lab)
        records.append(_head_metrics(per_frame, "jd"))
        preds.append(suite.identity_per_frame(rec)[1])
        true.append(lab)
        ceiling, _ = suite.identity_per_frame(src, lab)
        assert ceiling["digit-accuracy"] == [1.0, 1.0, 1.0]
        assert ceiling["self-consistency"] == [1.0, 1.0, 1.0]
    agg = average_sequences(records)
    assert agg["permanence/jd"] == permanence and agg["correction/jd"] == correction
    assert agg["permanence-per-frame/jd"][0] == 1.0  # frame 0 keeps its own class
    assert agg["digit-accuracy-per-frame/jd"][0] == 0.0
    assert agg["self-consistency/jd"] == pytest.approx(1.0 if decoder == "copy" else 1 / 3)
    tv = class_tv_metrics({"jd": torch.cat(preds)}, torch.cat(true))
    assert tv["class-tv-per-frame/jd"][0] > 0  # the wrong digits change the class histogram
    if decoder == "return":
        assert tv["class-tv-per-frame/jd"][2] == 0.0
