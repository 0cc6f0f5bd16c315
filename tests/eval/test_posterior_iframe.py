import pytest
import torch

from compressai_plf.eval.posterior_iframe import (
    PosteriorIFrameSampler,
    factor_of_two,
    keyframe_encoder_key,
)
from compressai_plf.utils.cache_dir import CACHE_ENV, cache_dir

from .conftest import tiny_fixed


def test_factor_of_two_on_a_two_frame_posterior():
    # Two frames a, b share one code: the posterior mean is (a + b) / 2 (MSE |a-b|^2 / 4);
    # a posterior sample is a or b with probability 1/2 each, independent of the source
    # (expected MSE |a-b|^2 / 2). Enumerating every (source, sample) pair gives exactly 2.
    a, b = torch.zeros(1, 4), torch.tensor([[1.0, 0.0, 2.0, 0.0]])
    source = torch.cat([a, a, b, b])
    sample = torch.cat([a, b, a, b])
    mmse = ((a + b) / 2).expand(4, 4)
    out = factor_of_two(source, sample, mmse)
    assert out["ratio"] == pytest.approx(2.0)
    assert out["mse_mmse"] == pytest.approx(5 / 4 / 4)  # |a-b|^2 = 5, over 4 pixels, / 4
    # A sample that copies the source is no posterior sample: ratio 0.
    assert factor_of_two(source, source, mmse)["ratio"] == 0.0
    with pytest.raises(ValueError, match="shapes differ"):
        factor_of_two(source, sample[:2], mmse)


@pytest.fixture(scope="module")
def sampler(mnist_root, tmp_path_factory):
    model = tiny_fixed(("mse", "jd"))
    return PosteriorIFrameSampler(
        model, mnist_root, cache=tmp_path_factory.mktemp("cache"), max_digits=300, progress=False
    )


def test_samples_have_the_received_code(sampler):
    model = sampler.model
    gen = torch.Generator().manual_seed(0)
    x = sampler.frames(torch.arange(0, 40, 4))  # index frames: an exact match exists
    seed = 7
    out = sampler.sample_keyframe(x, seed, gen)
    assert (out.mismatches == 0).all() and (out.matches >= 1).all()
    code, dither = sampler.code_of(x, seed)
    again, _ = sampler.code_of(out.frames, seed)  # the sample, coded with the same dither
    assert torch.equal(again, code)
    assert torch.equal(out.labels, sampler.labels[out.index])
    # What the decoder reads from a real bitstream is the same code and dither.
    with torch.no_grad():
        strings, shapes = model.compress([x[:1]], seed=seed)
    k, u = sampler.code_of_strings(strings[0], shapes[0])
    assert torch.equal(k, code[:1]) and torch.equal(u, dither[:1])


def test_fewest_mismatches_when_nothing_matches(sampler):
    gen = torch.Generator().manual_seed(1)
    code, dither = sampler.code_of(sampler.frames(torch.arange(3)), 0)
    flat = sampler.quantise(sampler.y.flatten(1), dither[0].view(1, -1))
    unseen = code.clone()
    # A code no index frame has: flip symbols until it is absent.
    while (flat == unseen[0].view(1, -1)).all(1).any():
        unseen[0].view(-1)[torch.randint(0, unseen[0].numel(), (1,), generator=gen)] ^= 1
    out = sampler.sample(unseen[:1], dither[:1], gen)
    got = sampler.quantise(sampler.y[out.index].flatten(1), dither[0].view(1, -1))
    wrong = int((got != unseen[0].view(1, -1)).sum())
    assert out.mismatches.item() == wrong >= 1
    best = int((flat != unseen[0].view(1, -1)).sum(1).min())
    assert wrong == best


def test_index_is_cached_and_reused(sampler, mnist_root, monkeypatch, tmp_path):
    assert sampler.cache_path is not None and sampler.cache_path.is_file()
    again = PosteriorIFrameSampler(
        sampler.model, mnist_root, cache=sampler.cache_path.parents[1], max_digits=300
    )
    assert torch.equal(again.y, sampler.y)
    # another P-frame coder on the same keyframe encoder reads the same index
    other = tiny_fixed(seed=5)
    other.img_encoder.load_state_dict(sampler.model.img_encoder.state_dict())
    assert keyframe_encoder_key(other) == keyframe_encoder_key(sampler.model)
    shared = PosteriorIFrameSampler(
        other, mnist_root, cache=sampler.cache_path.parents[1], max_digits=300
    )
    assert shared.cache_path == sampler.cache_path and torch.equal(shared.y, sampler.y)
    with torch.no_grad():
        other.img_encoder.apply(lambda m: m.weight.add_(1) if hasattr(m, "weight") else None)
    assert keyframe_encoder_key(other) != keyframe_encoder_key(sampler.model)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "elsewhere"))
    assert cache_dir() == tmp_path / "elsewhere"


def test_rejects_entropy_coded_models(mnist_root):
    from .conftest import tiny_hyperprior

    with pytest.raises(ValueError, match="fixed-rate"):
        PosteriorIFrameSampler(tiny_hyperprior(), mnist_root, cache=False, max_digits=10)


def test_evaluation_with_a_given_frame0_decoder(mnist_root):
    """Every perceptual head shows the given frame 0; the MMSE head keeps its own."""
    from compressai_plf.eval import evaluate_models

    net = tiny_fixed(("mse", "jd", "fmd"))
    seen = []

    def frame0(model, x0, seed, clip):
        seen.append((seed, clip))
        return torch.zeros_like(x0)  # a black frame: MSE of frame 0 = mean(x0^2)

    kw = dict(max_clips=2, lpips=None, progress=False, heads=["mse", "jd", "fmd"])
    data = evaluate_models([net], "mmnist", mnist_root, iframe_sampler=frame0, **kw)
    plain = evaluate_models([net], "mmnist", mnist_root, **kw)
    res, ref = data["results"], plain["results"]
    first = [s["results"]["mse-per-frame/jd"][0] for s in data["sequences"]["model0"]]
    from compressai_plf.eval.clips import load_clips

    clips = load_clips("mmnist", mnist_root, max_clips=2)
    expect = [float((c.frames[0] ** 2).mean()) for c in clips]
    assert first == pytest.approx(expect, rel=1e-5)
    assert res["mse-per-frame/mse"] == ref["mse-per-frame/mse"]  # MMSE head untouched
    assert seen == [(net.dither_seed, 0), (net.dither_seed, 1)]
    assert "given frame-0 decoder" in data["settings"]["iframe"]
