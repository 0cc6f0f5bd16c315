"""Training recipes that name a zoo preset and override only what differs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compressai_plf.training.cli import load_recipe, parse_args
from compressai_plf.zoo.presets import HYPERPRIOR_LAMBDAS, architecture, expand_preset


def test_preset_gives_the_zoo_architecture_then_the_overrides():
    recipe = {
        "preset": {"quality": 5, "rate_mode": "fixed"},
        "model_args": {"decoders": ["mse", "jd"], "head_arch": "own_past"},
        "lambda_p": 0.05,
    }
    out = expand_preset(recipe)
    assert out["model"] == "ssf_plf" and out["lambda_p"] == 0.05 and "preset" not in out
    assert out["model_args"] == {
        **architecture(5, "fixed"),
        "decoders": ["mse", "jd"],
        "head_arch": "own_past",
    }
    assert out["model_args"]["motion_planes"] == 8  # 16 bits per P-frame
    assert "lmbda" not in out  # the fixed family has no rate-distortion lambda
    assert "preset" in recipe  # the input is left alone


def test_hyperprior_preset_brings_its_lambda_unless_overridden():
    assert expand_preset({"preset": {"quality": 7, "rate_mode": "hyperprior"}})["lmbda"] == 0.0932
    assert HYPERPRIOR_LAMBDAS[7] == 0.0932
    out = expand_preset({"preset": {"quality": 7, "rate_mode": "hyperprior"}, "lmbda": 0.5})
    assert out["lmbda"] == 0.5


def test_preset_family_defaults_to_mmnist_for_fixed_and_natural_for_hyperprior():
    gray = expand_preset({"preset": {"quality": 3, "rate_mode": "hyperprior", "family": "mmnist"}})
    rgb = expand_preset({"preset": {"quality": 3, "rate_mode": "hyperprior"}})
    assert gray["model_args"]["channels"] == 1 and rgb["model_args"]["channels"] == 3
    fixed = expand_preset({"preset": {"quality": 3, "rate_mode": "fixed"}})
    assert fixed["model_args"] == architecture(3, "fixed", "mmnist")


def test_recipe_without_preset_is_unchanged():
    recipe = {"model": "ssf2020", "model_args": {}, "lmbda": 0.025}
    assert expand_preset(recipe) == recipe


@pytest.mark.parametrize(
    "preset, match",
    [
        ({"quality": 10, "rate_mode": "fixed"}, "quality"),
        ({"quality": 3, "rate_mode": "lossless"}, "rate_mode"),
        ({"quality": 3, "kind": "fixed"}, "preset"),
        ({"quality": 3, "family": "fixed"}, "family"),
        ({"quality": 3, "family": "natural", "rate_mode": "fixed"}, "mmnist"),
        ([3, "fixed"], "preset"),
    ],
)
def test_bad_presets_are_named(preset, match):
    with pytest.raises(ValueError, match=match):
        expand_preset({"preset": preset})
    with pytest.raises(ValueError, match="ssf_plf"):
        expand_preset({"preset": {"quality": 1, "rate_mode": "fixed"}, "model": "ssf2020"})


def test_cli_reads_a_preset_recipe(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(
        json.dumps(
            {
                "_comment": "q3 fixed, mse stage",
                "preset": {"quality": 3, "rate_mode": "fixed"},
                "model_args": {"decoders": ["mse"]},
                "stage": "mse",
                "lmbda": 1.0,
            }
        )
    )
    assert load_recipe(path)["model_args"]["motion_planes"] == 4
    args = parse_args(["--config", str(path), "-d", "x", "--batch-size", "4"])
    assert args.model == "ssf_plf" and args.channels == 1 and args.batch_size == 4
    assert args.model_args == {**architecture(3, "fixed"), "decoders": ["mse"]}
    path.write_text(json.dumps({"preset": {"quality": 0, "rate_mode": "fixed"}}))
    with pytest.raises(SystemExit, match="quality"):
        load_recipe(path)


REPO = Path(__file__).resolve().parents[2]
#: Every recipe's settings (``load_recipe``) as they were before the recipes named their
#: presets: the conversion changed how they are written, not what they train.
SETTINGS = json.loads((Path(__file__).with_name("recipe_settings.json")).read_text())


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_converted_recipe_resolves_to_the_settings_it_had(name):
    assert load_recipe(REPO / name) == SETTINGS[name]


def test_zoo_recipes_name_their_preset_and_state_no_zoo_architecture():
    for name in SETTINGS:
        raw = json.loads((REPO / name).read_text())
        if raw.get("model", "ssf_plf") != "ssf_plf":
            continue  # CompressAI's ssf2020 has no zoo preset
        assert "preset" in raw and "model" not in raw, name
        preset = raw["preset"]
        arch = architecture(preset["quality"], preset["rate_mode"], preset.get("family"))
        # an override that differs is the recipe's point (a 64-bit q9, the residual heads the
        # first family trained); one that restates the preset is noise
        given = raw.get("model_args", {})
        repeated = {k for k in set(given) & set(arch) if given[k] == arch[k]}
        assert not repeated, f"{name} repeats the preset's {sorted(repeated)}"


def test_every_recipe_in_the_repository_parses(tmp_path):
    from compressai_plf.models.own_past_head import head_synthesis_starts

    per_head = 0
    for path in sorted((REPO / "zoo").rglob("*.json")):
        if path.name == "export_checks.json":
            continue
        args = parse_args(["--config", str(path), "-d", str(tmp_path)])
        assert args.model_args is not None and args.save_dir, path
        start = args.model_args.get("synthesis_start")
        if isinstance(start, dict):  # a misspelt head would otherwise fail at training start
            heads = [h for h in args.model_args["decoders"] if h != "mse"]
            assert set(head_synthesis_starts(start, heads)) == set(heads), path
            per_head += 1
    assert per_head >= 3  # the campaign's per-head runs


@pytest.mark.parametrize("key", ["metric", "lmbda", "qualty"])
def test_preset_refuses_keys_it_would_ignore(key):
    with pytest.raises(ValueError, match=rf"unknown keys \['{key}'\]"):
        expand_preset({"preset": {"quality": 3, "rate_mode": "fixed", key: "mse"}})
    with pytest.raises(ValueError, match="must be"):
        expand_preset({"preset": 3})


def test_natural_family_recipes_build_the_rgb_zoo_architecture():
    """zoo/ssf_plf-natural-*.json: the natural RGB family (MMSE head + universal PLF-FMD head)
    on VideoClipFolder crops; each quality starts from the base run, its I-frame stage from
    its own MMSE run and its universal stage from its I-frame run, with one architecture."""
    recipes = sorted((REPO / "zoo").glob("ssf_plf-natural-*.json"))
    assert len(recipes) == 10
    for path in recipes:
        r = load_recipe(path)
        assert r["dataset"] == "VideoClipFolder" and r["model_args"]["channels"] == 3, path
        assert r["model_args"]["decoders"] == ["mse", "fmd"], path
        assert {k: r["model_args"][k] for k in architecture(5)} == architecture(5), path
    decode_time = {"perceptual_iframe": "shared", "iframe_start": "mmse"}
    decode_time["synthesis_start"] = "mmse_frame"
    for q, lmbda in ((3, 0.0067), (5, 0.025), (7, 0.0932)):
        mse = load_recipe(REPO / f"zoo/ssf_plf-natural-q{q}-mse.json")
        assert (
            mse["lmbda"] == lmbda
            and mse["init"] == "runs/ssf_plf-natural-base-mse/checkpoint.pth.tar"
        )
        iframe = load_recipe(REPO / f"zoo/ssf_plf-natural-q{q}-iframe.json")
        assert iframe["stage"] == "iframe" and iframe["frames"] == 1
        assert iframe["init"] == f"{mse['save_dir']}/checkpoint.pth.tar"
        uni = load_recipe(REPO / f"zoo/ssf_plf-natural-q{q}-universal.json")
        assert uni["stage"] == "universal" and uni["plf"] == ["fmd"]
        assert uni["init"] == f"{iframe['save_dir']}/checkpoint.pth.tar"
        for r in (mse, iframe, uni):  # the exported file has one configuration
            assert {k: r["model_args"][k] for k in decode_time} == decode_time
