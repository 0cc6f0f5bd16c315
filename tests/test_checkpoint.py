"""Checkpoint files: atomic writes, safe loading, clear errors."""

from __future__ import annotations

import os
import pickle

import pytest
import torch

from compressai_plf.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_ssf_plf,
    save_atomic,
    state_dict_of,
)
from compressai_plf.models import ScaleSpaceFlowPLF
from compressai_plf.training.rng_state import rng_state, set_rng_state
from compressai_plf.utils.update_model import plugin as update_model_plugin
from compressai_plf.zoo.presets import tiny_architecture


def test_round_trip_and_no_temporary_left(tmp_path):
    path = save_atomic({"step": 3, "w": torch.arange(4.0)}, tmp_path / "c.pth.tar")
    assert load_checkpoint(path)["step"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["c.pth.tar"]


def test_failed_write_keeps_previous_checkpoint(tmp_path):
    path = save_atomic({"step": 1}, tmp_path / "c.pth.tar")

    class Unsaveable:
        def __reduce__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        save_atomic({"step": 2, "bad": Unsaveable()}, path)
    assert load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.pth.tar"]


def test_truncated_checkpoint_is_a_clear_error(tmp_path):
    path = save_atomic({"w": torch.zeros(1000)}, tmp_path / "c.pth.tar")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="damaged"):
        load_checkpoint(path)


def test_pickled_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "evil.pth.tar"
    with open(path, "wb") as f:
        pickle.dump({"x": Evil()}, f)
    with pytest.raises(ValueError, match="not a safe torch checkpoint"):
        load_checkpoint(path)


def test_missing_and_non_dict(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "nope.pth.tar")
    torch.save(torch.zeros(2), tmp_path / "t.pth.tar")
    with pytest.raises(ValueError, match="does not hold a dict"):
        load_checkpoint(tmp_path / "t.pth.tar")


def test_rng_state_round_trip_through_a_safe_checkpoint(tmp_path):
    import random

    import numpy as np

    state = rng_state()
    expected = (torch.rand(3), random.random(), np.random.rand())
    path = save_atomic({"rng": state}, tmp_path / "r.pth.tar")
    set_rng_state(load_checkpoint(path)["rng"])
    again = (torch.rand(3), random.random(), np.random.rand())
    assert torch.equal(expected[0], again[0]) and expected[1:] == again[1:]


@pytest.mark.parametrize("key", ["state_dict", "network", "model_state_dict", None])
def test_state_dict_found_under_each_key_and_wrapper_prefix_removed(key):
    sd = {"module.a": torch.zeros(1), "module.b": torch.ones(2)}
    ckpt = {key: sd, "epoch": 3} if key else sd
    assert list(state_dict_of(ckpt)) == ["a", "b"]
    # a prefix on only some keys is part of the names, not a wrapper's
    assert list(state_dict_of({"module.a": 1, "b": 2})) == ["module.a", "b"]


def test_state_dict_key_order_is_compressais_and_the_update_plugins(tmp_path):
    # CompressAI's eval_model and update_model read ``network`` before ``state_dict``
    a, b = torch.zeros(1), torch.ones(1)
    ckpt = {"state_dict": {"a": a}, "network": {"b": b}, "model_state_dict": {"c": a}}
    assert state_dict_of(ckpt) == {"b": b}
    path = save_atomic(ckpt, tmp_path / "both.pth.tar")
    assert list(update_model_plugin.load_checkpoint(path, "ssf_plf")) == ["b"]


def test_state_dict_that_is_not_a_dict_is_named():
    with pytest.raises(CheckpointError, match="x.pt holds no state dict"):
        state_dict_of({"state_dict": [1, 2]}, "x.pt")


def test_load_ssf_plf_rebuilds_the_stored_architecture(tmp_path):
    net = ScaleSpaceFlowPLF(**tiny_architecture("fixed"))
    path = save_atomic({"state_dict": net.state_dict(), "step": 1}, tmp_path / "c.pth.tar")
    back = load_ssf_plf(path)
    assert back.config == net.config
    for k, v in net.state_dict().items():
        if isinstance(v, torch.Tensor):
            assert torch.equal(back.state_dict()[k], v), k
    save_atomic({"state_dict": {"w": torch.zeros(1)}}, tmp_path / "other.pth.tar")
    with pytest.raises(CheckpointError, match="no ScaleSpaceFlowPLF state dict"):
        load_ssf_plf(tmp_path / "other.pth.tar")


def test_not_found_message_says_what_and_how(tmp_path):
    with pytest.raises(FileNotFoundError, match="critics not found: .*; build them"):
        load_checkpoint(tmp_path / "x.pt", what="critics", hint="build them")


def test_training_weights_from_weight_file_meta_or_checkpoint_args():
    from compressai_plf.checkpoint import training_weights

    meta = {"meta": {"lmbda": None, "lambda_p": 0.01, "stage": "universal"}}
    assert training_weights(meta) == {"lmbda": None, "lambda_p": 0.01, "plf_weights": None}
    mse = {"stage_name": "mse", "args": {"lmbda": 0.025, "lambda_p": 0.5, "plf": []}}
    # no PLF head trained
    assert training_weights(mse) == {"lmbda": 0.025, "lambda_p": None, "plf_weights": None}
    uni = {"stage_name": "universal", "args": {"lmbda": 1.0, "lambda_p": 0.05, "plf": ["fmd"]}}
    assert training_weights(uni) == {"lmbda": None, "lambda_p": 0.05, "plf_weights": None}
    # the trainer's record of the bitstream's lmbda wins (carried through --init, so a
    # universal stage reports its MMSE stage's, not its own unused default)
    assert training_weights({**uni, "bitstream_lmbda": 0.025})["lmbda"] == 0.025
    assert training_weights({**mse, "bitstream_lmbda": None})["lmbda"] is None
    # heads at their own weights (--plf-weights): recorded beside lambda_p, from args or meta
    own = {"jd": 0.5, "fmd": 0.1}
    per_head = {"stage_name": "universal", "args": {**uni["args"], "plf_weights": own}}
    assert training_weights(per_head)["plf_weights"] == own
    assert training_weights({"meta": {**meta["meta"], "plf_weights": own}})["plf_weights"] == own


def test_every_shipped_weight_file_records_its_training_weights():
    """The metadata is the weights' record; it must say what the recipe of the file's last
    stage (``zoo/ssf_plf-<rate_mode>-q<Q>-<stage>.json``, natural files
    ``zoo/ssf_plf-natural-q<Q>-<stage>.json``, its preset expanded) trained with."""
    import json
    from pathlib import Path

    from compressai_plf.checkpoint import training_weights
    from compressai_plf.training.trainer import BITSTREAM_KEEPING_STAGES
    from compressai_plf.zoo.presets import expand_preset
    from compressai_plf.zoo.pretrained import WEIGHTS_DIR

    recipes = Path(__file__).parents[1] / "zoo"
    files = sorted(WEIGHTS_DIR.glob("ssf_plf-*.pth.tar"))
    assert files
    for path in files:
        ckpt = load_checkpoint(path)
        *family, rate_mode, _, q = path.name.removesuffix(".pth.tar").split("-")[1:]
        stage = ckpt["meta"]["stage"]
        # natural files: ssf_plf-natural-hyperprior-mse-qQ, recipes ssf_plf-natural-qQ-stage;
        # the fixed family's: the campaign recipe whose save_dir is the file's source run
        recipe_path = recipes / f"ssf_plf-{(family or [rate_mode])[0]}-{q}-{stage}.json"
        if rate_mode == "fixed":
            run = Path(ckpt["meta"]["source"]).parent.name
            campaign = sorted((recipes / "campaign").glob("*.json"))
            named = [p for p in campaign if Path(json.loads(p.read_text())["save_dir"]).name == run]
            assert len(named) == 1, (path.name, run)
            recipe_path = named[0]
        recipe = expand_preset(json.loads(recipe_path.read_text()))
        # a stage that keeps an entropy-coded bitstream reports its MMSE stage's lmbda: the
        # same quality's preset (the recipes of one entry share it)
        keeps = stage in BITSTREAM_KEEPING_STAGES and rate_mode == "hyperprior"
        expected = {
            "lmbda": recipe.get("lmbda") if stage == "mse" or keeps else None,
            "lambda_p": recipe.get("lambda_p") if recipe.get("plf") else None,
            "plf_weights": recipe.get("plf_weights") if recipe.get("plf") else None,
        }
        got = training_weights(ckpt)
        if rate_mode == "fixed" and got["lmbda"] is not None:
            # the bitstream's MMSE stage (recorded through --init since the campaign): the
            # same quality's campaign MMSE recipe
            mmse = expand_preset(json.loads((recipes / "campaign" / f"{q}-mse.json").read_text()))
            expected["lmbda"] = mmse["lmbda"]
        assert got == expected, (path.name, recipe_path.name)
