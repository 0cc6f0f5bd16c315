"""The GAN recipe of the PLF stages: the I-frame stage, critic warm-up and initialisation,
shared critic batches with a cached MMSE chain, lazy gradient penalty, schedulers, frozen
keyframe codec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from compressai_plf.models.fixed_rate_coder import FixedRateLatentCoder
from compressai_plf.training import load_checkpoint, train
from compressai_plf.training.stages import CRITIC_BETAS, make_stage
from compressai_plf.training.trainer import build_model, init_critics

from .conftest import TINY_FIXED


def _tensors(module):
    return {
        k: v.detach().clone()
        for k, v in module.state_dict().items()
        if torch.is_tensor(v) and v.is_floating_point()
    }


def _fixed_batches(batch, frames, seed=1, steps=4):
    g = torch.Generator().manual_seed(seed)
    data = [
        [torch.rand(batch, 1, 64, 64, generator=g) for _ in range(frames)] for _ in range(steps)
    ]

    def batches(step, draw):
        torch.manual_seed(1000 * step + draw)  # as StepBatches: the RNG depends on the step
        return [x.clone() for x in data[(step + draw) % steps]]

    return batches


def test_iframe_stage_trains_only_the_shared_iframe_decoder(tiny_args, tmp_path):
    base = train(tiny_args(stage="mse", save_dir=str(tmp_path / "a")))
    args = tiny_args(
        stage="iframe",
        init=base["checkpoint"],
        lambda_p=1.0,
        eval_interval=2,
        save_dir=str(tmp_path / "b"),
    )
    summary = train(args)
    before = load_checkpoint(base["checkpoint"])["state_dict"]
    after = load_checkpoint(summary["checkpoint"])["state_dict"]
    changed = {
        k for k in before if torch.is_tensor(before[k]) and not torch.equal(before[k], after[k])
    }
    assert changed and all(k.startswith("iframe_decoder.") for k in changed)
    rows = [json.loads(line) for line in open(tmp_path / "b" / "log.jsonl")]
    ev = [r for r in rows if r["kind"] == "eval"][-1]
    assert "critic.iframe_w1" in ev and ev["mse_loss"] > 0


def test_iframe_stage_needs_a_shared_iframe_decoder(tiny_args):
    args = tiny_args(stage="iframe", model_args={**TINY_FIXED, "decoders": ["mse"]})
    with pytest.raises(ValueError, match="perceptual_iframe='shared'"):
        make_stage("iframe", build_model(args), args)


def test_warm_up_trains_the_critics_before_any_codec_update(tiny_args):
    args = tiny_args(stage="universal", plf=["jd", "fmd"])
    stage = make_stage("universal", build_model(args), args)
    codec, critics = _tensors(stage.model), _tensors(stage.critics)
    stage.warm_up_critics(_fixed_batches(4, 3), 3)
    assert all(torch.equal(v, _tensors(stage.model)[k]) for k, v in codec.items())
    after = _tensors(stage.critics)
    assert any(not torch.equal(v, after[k]) for k, v in critics.items())
    assert stage.critic_updates == 3


def test_train_warms_up_first_and_logs_it(tiny_args, tmp_path):
    args = tiny_args(stage="universal", plf=["fmd"], critic_warmup=2, save_dir=str(tmp_path / "w"))
    train(args)
    rows = [json.loads(line) for line in open(tmp_path / "w" / "log.jsonl")]
    assert rows[0]["kind"] == "critic_warmup" and rows[0]["step"] == 0
    assert [r["kind"] for r in rows[1:]] == ["train", "train"]
    # resuming does not warm up again
    train(
        tiny_args(
            stage="universal",
            plf=["fmd"],
            critic_warmup=2,
            steps=3,
            resume=True,
            save_dir=str(tmp_path / "w"),
        )
    )
    rows = [json.loads(line) for line in open(tmp_path / "w" / "log.jsonl")]
    assert [r["kind"] for r in rows].count("critic_warmup") == 1


def test_critics_start_from_an_earlier_run(tiny_args, tmp_path):
    first = train(tiny_args(stage="universal", plf=["jd"], save_dir=str(tmp_path / "a")))
    args = tiny_args(stage="universal", plf=["jd"])
    stage = make_stage("universal", build_model(args), args)
    n = init_critics(stage, first["checkpoint"])
    saved = load_checkpoint(first["checkpoint"])["stage"]["critics"]
    own = stage.critics.state_dict()
    assert n == len(saved) and all(torch.equal(own[k], v) for k, v in saved.items())
    other = tiny_args(stage="universal", plf=["fmd"])
    with pytest.raises(ValueError, match="no critic"):
        init_critics(make_stage("universal", build_model(other), other), first["checkpoint"])


@pytest.mark.parametrize(
    "stage, plateau",
    [("mse", True), ("iframe", False), ("universal", False), ("plf", False)],
)
def test_no_plateau_scheduler_on_losses_with_critic_scores(tiny_args, stage, plateau):
    args = tiny_args(stage=stage, plf=["jd"])
    s = make_stage(stage, build_model(args), args)
    assert (s.lr_scheduler is not None) == plateau
    assert s.critic_optimizer.defaults["betas"] == CRITIC_BETAS


@pytest.mark.parametrize("frames", [2, 3])
def test_cached_chain_step_equals_the_uncached_step(tiny_args, frames):
    def run(cache):
        args = tiny_args(
            stage="universal",
            plf=["jd", "fmd", "sa"],
            critic_steps=2,
            frames=frames,
            critic_batch="shared",
            cache_chain=cache,
        )
        torch.manual_seed(0)
        stage = make_stage("universal", build_model(args), args)
        batches = _fixed_batches(4, frames)
        logs = [stage.train_step(step, batches) for step in range(2)]
        return stage, logs

    (a, la), (b, lb) = run(True), run(False)
    assert la[-1]["loss"] == pytest.approx(lb[-1]["loss"], rel=1e-5)
    for (name, p), q in zip(a.model.named_parameters(), b.model.parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-6), name
    for p, q in zip(a.critics.parameters(), b.critics.parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-6)


def test_shared_critic_batch_decodes_once_per_step(tiny_args, monkeypatch):
    args = tiny_args(stage="universal", plf=["jd"], critic_steps=3, critic_batch="shared")
    stage = make_stage("universal", build_model(args), args)
    calls = []
    chain = stage.model.mmse_chain
    monkeypatch.setattr(
        stage.model, "mmse_chain", lambda *a, **k: calls.append(1) or chain(*a, **k)
    )
    stage.train_step(0, _fixed_batches(4, 3))
    assert len(calls) == 1  # three critic updates and the codec update share one chain


def test_lazy_gradient_penalty_runs_every_k_updates(tiny_args, monkeypatch):
    args = tiny_args(stage="universal", plf=["jd"], critic_steps=4, gp_every=2)
    stage = make_stage("universal", build_model(args), args)
    scales = []
    loss = stage.plf_losses["jd"]
    original = loss.critic_loss
    monkeypatch.setattr(
        loss,
        "critic_loss",
        lambda *a, gp_scale=1.0, **k: (
            scales.append(gp_scale) or original(*a, gp_scale=gp_scale, **k)
        ),
    )
    stage.train_step(0, _fixed_batches(4, 3))
    assert scales == [2.0, 0.0, 2.0, 0.0]


def test_frozen_keyframe_codec_stays_as_initialised(tiny_args, tmp_path):
    base = train(tiny_args(stage="mse", save_dir=str(tmp_path / "a")))
    run = train(
        tiny_args(
            stage="mse", init=base["checkpoint"], freeze_keyframe=True, save_dir=str(tmp_path / "b")
        )
    )
    before = load_checkpoint(base["checkpoint"])["state_dict"]
    after = load_checkpoint(run["checkpoint"])["state_dict"]
    keyframe = [
        k for k in before if k.startswith(("img_encoder.", "img_decoder.", "iframe_decoder."))
    ]
    assert keyframe and all(torch.equal(before[k], after[k]) for k in keyframe)
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("res_encoder."))


def test_universal_critics_skip_a_shared_frozen_iframe(tiny_args):
    args = tiny_args(stage="universal", plf=["jd", "fmd", "sa"])
    stage = make_stage("universal", build_model(args), args)
    assert {p: c.frames for p, c in stage.critics.items()} == {
        "jd": (1, 2),
        "fmd": (1, 2),
        "sa": (1, 2),
    }
    mmse = tiny_args(  # frame 0 is the MMSE I-frame: not the heads' either
        stage="universal", plf=["fmd"], model_args={**TINY_FIXED, "perceptual_iframe": "mmse"}
    )
    assert make_stage("universal", build_model(mmse), mmse).critics["fmd"].frames == (1, 2)
    per_head = tiny_args(
        stage="universal",
        plf=["fmd"],
        model_args={**TINY_FIXED, "head_arch": "residual", "perceptual_iframe": "per_head"},
    )
    stage = make_stage("universal", build_model(per_head), per_head)
    assert stage.critics["fmd"].frames == (0, 1, 2)


def test_posterior_iframe_source_feeds_real_frames_as_frame_zero(tiny_args, mnist_root):
    from compressai_plf.eval.posterior_iframe import PosteriorIFrameSampler

    args = tiny_args(stage="universal", plf=["jd", "fmd"], iframe_source="posterior")
    stage = make_stage("universal", build_model(args), args)
    # a small index (the default indexes the 60k training digits, about a minute)
    stage._sampler = PosteriorIFrameSampler(
        stage.model, mnist_root, cache=False, progress=False, max_digits=200
    )
    frames = _fixed_batches(4, 3)(0, 0)
    chain = stage.prepare_batch(frames, (0, 0))
    index_frames = stage._sampler.frames(torch.arange(200))
    # frame 0 of every head is one of the index's real frames, the same for both heads
    out = stage.decode(chain)["x_hat"]
    assert torch.equal(out["jd"][0], out["fmd"][0])
    for x in out["jd"][0]:
        assert ((index_frames - x).abs().flatten(1).amax(1) == 0).any()
    # reproducible per (step, draw), and the training step runs with it
    again = stage.first_frames(frames, (0, 0))
    assert torch.equal(again, chain.iframe)
    logs = stage.train_step(1, _fixed_batches(4, 3))
    assert torch.isfinite(torch.tensor(logs["loss"]))
    ev = stage.evaluate(frames)
    assert "critic.jd_w1" in ev


def test_init_iframe_copies_only_the_shared_iframe_decoder(tiny_args, tmp_path):
    from compressai_plf.training.trainer import init_iframe_decoder

    first = train(tiny_args(stage="iframe", save_dir=str(tmp_path / "i")))
    source = load_checkpoint(first["checkpoint"])["state_dict"]
    torch.manual_seed(5)
    model = build_model(tiny_args())
    before = {k: v.clone() for k, v in model.state_dict().items() if torch.is_tensor(v)}
    n = init_iframe_decoder(model, first["checkpoint"])
    after = model.state_dict()
    keys = [k for k in after if k.startswith("iframe_decoder.")]
    assert n == len(keys) > 0
    assert all(torch.equal(after[k], source[k]) for k in keys)
    assert all(torch.equal(after[k], v) for k, v in before.items() if k not in keys)
    other = build_model(tiny_args(model_args={**TINY_FIXED, "iframe_planes": 8}))
    with pytest.raises(ValueError, match="tensors of this model's shared"):
        init_iframe_decoder(other, first["checkpoint"])
    # same tensor shapes, another meaning: a generator of the other start is refused
    mmse_start = build_model(tiny_args(model_args={**TINY_FIXED, "iframe_start": "mmse"}))
    with pytest.raises(ValueError, match="trained with iframe_start='none'"):
        init_iframe_decoder(mmse_start, first["checkpoint"])


def _small_sampler(stage, mnist_root):
    from compressai_plf.eval.posterior_iframe import PosteriorIFrameSampler

    stage._sampler = PosteriorIFrameSampler(
        stage.model, mnist_root, cache=False, progress=False, max_digits=200
    )
    return stage._sampler


def test_posterior_iframe_without_the_cached_chain_decodes_the_same(tiny_args, mnist_root):
    # the uncached path passes the sample to forward_heads; the cached one puts it in the chain
    cached = tiny_args(stage="universal", plf=["jd", "fmd"], iframe_source="posterior")
    torch.manual_seed(0)
    model = build_model(cached)
    a = make_stage("universal", model, cached)
    uncached = tiny_args(
        stage="universal", plf=["jd", "fmd"], iframe_source="posterior", cache_chain=False
    )
    b = make_stage("universal", model, uncached)
    _small_sampler(a, mnist_root)
    b._sampler = a._sampler
    model.eval()
    frames = _fixed_batches(4, 3)(0, 0)
    with torch.no_grad():
        out_a = a.decode(a.prepare_batch(frames, (3, 1)))["x_hat"]
        out_b = b.decode(b.prepare_batch(frames, (3, 1)))["x_hat"]
    for head in ("mse", "jd", "fmd"):
        for x, y in zip(out_a[head], out_b[head], strict=True):
            assert torch.allclose(x, y, atol=1e-6)
    full = b.prepare_batch(frames, (3, 1))
    part = b.slice_batch(full, 1, 3)  # a micro-batch keeps its own clips' samples
    assert torch.equal(part.iframe, full.iframe[1:3]) and torch.equal(
        part.frames[2], frames[2][1:3]
    )
    assert not torch.equal(out_b["jd"][0], out_b["mse"][0])  # frame 0 is the sample


def test_end_to_end_stage_continues_a_posterior_sample(tiny_args, mnist_root):
    from compressai_plf.training.trainer import HeadsForward

    args = tiny_args(stage="plf", plf=["fmd"], iframe_source="posterior", freeze_keyframe=True)
    model = build_model(args)
    # through the module DistributedDataParallel would wrap, as the trainer builds it
    stage = make_stage("plf", model, args, HeadsForward(model))
    sampler = _small_sampler(stage, mnist_root)
    index_frames = sampler.frames(torch.arange(200))
    frames = _fixed_batches(4, 3)(0, 0)
    out = stage.decode(stage.prepare_batch(frames, (0, 0)))["x_hat"]
    for x in out["fmd"][0]:  # frame 0 of the head is one of the index's real frames
        assert ((index_frames - x).abs().flatten(1).amax(1) == 0).any()
    keyframe = {k: v.clone() for k, v in stage.model.img_encoder.state_dict().items()}
    residual = {k: v.clone() for k, v in stage.model.res_encoder.state_dict().items()}
    logs = stage.train_step(1, _fixed_batches(4, 3))
    assert torch.isfinite(torch.tensor(logs["loss"]))
    assert "mse.loss" in logs  # the MMSE head keeps its rate-distortion loss
    for k, v in stage.model.img_encoder.state_dict().items():
        assert torch.equal(v, keyframe[k])  # frozen: the sampler's index stays valid
    after = stage.model.res_encoder.state_dict()
    assert any(not torch.equal(after[k], v) for k, v in residual.items())  # end to end
    ev = stage.evaluate(frames)
    assert "critic.fmd_w1" in ev and "fmd.frame1.mse" in ev
    # without a frozen keyframe codec the index would go stale: refused
    free = tiny_args(stage="plf", plf=["fmd"], iframe_source="posterior")
    with pytest.raises(ValueError, match="needs freeze_keyframe"):
        make_stage("plf", build_model(free), free)


def test_per_plf_weights_weigh_each_heads_critic_term(tiny_args, tmp_path):
    args = tiny_args(
        stage="universal",
        plf=["jd", "fmd"],
        lambda_p=1.0,
        plf_weights={"jd": 0.5, "fmd": 0.1},
        save_dir=str(tmp_path / "w"),
    )
    train(args)
    row = [json.loads(line) for line in open(tmp_path / "w" / "log.jsonl")][-1]
    # the codec loss is each head's MSE plus its own weight times its critic term
    expected = (
        row["jd.mse_loss"]
        + 0.5 * row["jd.jd_loss"]
        + row["fmd.mse_loss"]
        + 0.1 * row["fmd.fmd_loss"]
    )
    assert row["loss"] == pytest.approx(expected, rel=1e-5, abs=1e-6)
    # a head not named keeps --lambda-p
    args = tiny_args(stage="universal", plf=["jd", "fmd"], lambda_p=0.3, plf_weights={"jd": 0.5})
    stage = make_stage("universal", build_model(args), args)
    assert stage.plf_losses["fmd"].plf == {"fmd": 0.3}


@pytest.mark.parametrize(
    "weights, match",
    [
        ({"sa": 0.1}, "not among the heads trained"),
        ({"jd": -1.0}, "finite number >= 0"),
        ({"jd": float("nan")}, "finite number >= 0"),
        ([0.1], "must be a JSON object"),
    ],
)
def test_per_plf_weights_are_checked(tiny_args, weights, match):
    with pytest.raises(SystemExit, match=match):
        tiny_args(stage="universal", plf=["jd"], plf_weights=weights)


def test_encoder_learning_rate_moves_the_code_slower_than_the_heads(tiny_args):
    # Adam's first step moves each weight by its group's learning rate (times sign(grad)):
    # the encoder side (bitstream and MMSE head) at 1e-6, the perceptual head at 1e-3
    args = tiny_args(stage="plf", plf=["fmd"], learning_rate=1e-3, encoder_learning_rate=1e-6)
    torch.manual_seed(0)
    model = build_model(args)
    stage = make_stage("plf", model, args)
    assert sorted(g["lr"] for g in stage.optimizer.param_groups) == [1e-6, 1e-3]
    encoder = {id(p) for m in model.encoder_side_modules() for p in m.parameters()}
    slow = next(g for g in stage.optimizer.param_groups if g["lr"] == 1e-6)["params"]
    assert {id(p) for p in slow} == {id(p) for p in stage.net_params if id(p) in encoder}
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    stage.train_step(1, _fixed_batches(4, 2))
    moved = {n: (p.detach() - before[n]).abs().max().item() for n, p in model.named_parameters()}
    enc = [n for n, p in model.named_parameters() if id(p) in encoder and p.requires_grad]
    enc = [n for n in enc if not n.endswith(".quantiles")]  # the aux loss's own optimiser
    head = [n for n in moved if n.startswith("heads.fmd.")]
    assert enc and head
    assert 0 < max(moved[n] for n in enc) <= 1.01e-6
    assert max(moved[n] for n in head) > 1e-4
    # a checkpoint of a run without the encoder group does not resume into one with it
    plain = tiny_args(stage="plf", plf=["fmd"], learning_rate=1e-3)
    saved = make_stage("plf", build_model(plain), plain).state_dict()
    with pytest.raises(ValueError, match="parameter group"):
        stage.load_state_dict(saved)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"stage": "universal", "encoder_learning_rate": 1e-5}, "stage 'plf' only"),
        ({"stage": "mse", "encoder_learning_rate": 1e-5}, "stage 'plf' only"),
        ({"stage": "plf", "encoder_learning_rate": 0.0}, "must be > 0"),
        ({"stage": "plf", "encoder_learning_rate": float("inf")}, "must be > 0"),
    ],
)
def test_encoder_learning_rate_is_refused_where_it_cannot_apply(tiny_args, kw, match):
    with pytest.raises(SystemExit, match=match):
        tiny_args(plf=["fmd"], **kw)


def test_detached_head_references_keep_the_critic_gradient_out_of_the_mmse_head(tiny_args):
    # with the references detached, a loss on the FMD head alone leaves no gradient on the MMSE
    # head's decoder but still reaches the encoder through the latents; without, it reaches both
    def grads(detach):
        starts = {"jd": "own", "fmd": "mmse_frame", "sa": "mmse_frame"}  # FMD reads MMSE frames
        model_args = {**TINY_FIXED, "head_arch": "own_past", "synthesis_start": starts}
        args = tiny_args(
            stage="plf", plf=["fmd"], model_args=model_args, detach_head_references=detach
        )
        torch.manual_seed(0)
        model = build_model(args)
        stage = make_stage("plf", model, args)
        frames = [torch.rand(2, 1, 64, 64) for _ in range(2)]
        out = stage.forward(frames, ("mse", "fmd"))
        out["x_hat"]["fmd"][1].square().mean().backward()

        def norm(module):
            return sum(float(p.grad.abs().sum()) for p in module.parameters() if p.grad is not None)

        return norm(model.res_decoder), norm(model.res_encoder), out

    mmse_head, encoder, out = grads(True)
    assert mmse_head == 0.0 and encoder > 0.0
    both_head, both_encoder, plain = grads(False)
    assert both_head > 0.0 and both_encoder > 0.0
    # values are unchanged: the same frames either way
    for head in ("mse", "fmd"):
        for a, b in zip(out["x_hat"][head], plain["x_hat"][head], strict=True):
            assert torch.allclose(a, b)


def test_detached_head_references_are_a_plf_stage_option(tiny_args):
    with pytest.raises(SystemExit, match="stage 'plf' only"):
        tiny_args(stage="universal", plf=["fmd"], detach_head_references=True)


def test_latent_pullback_reaches_the_coders_and_bad_values_are_refused(tiny_args, monkeypatch):
    import compressai_plf.training.trainer as trainer

    seen = []
    original = trainer.set_latent_pullback

    def spy(model, strength):  # the trainer's call, then what the coders hold after it
        count = original(model, strength)
        coders = [m for m in model.modules() if isinstance(m, FixedRateLatentCoder)]
        seen.append((count, strength, sorted({c.pullback for c in coders})))
        return count

    monkeypatch.setattr(trainer, "set_latent_pullback", spy)
    args = tiny_args(stage="plf", plf=["fmd"], latent_pullback=0.5, steps=1)
    train(args)
    assert seen == [(3, 0.5, [0.5])]  # keyframe, motion and residual coders
    ckpt = load_checkpoint(Path(args.save_dir) / "checkpoint.pth.tar")
    assert ckpt["args"]["latent_pullback"] == 0.5
    for bad in (-1.0, float("nan")):
        with pytest.raises(SystemExit, match="--latent-pullback must be >= 0"):
            tiny_args(stage="plf", plf=["fmd"], latent_pullback=bad)
