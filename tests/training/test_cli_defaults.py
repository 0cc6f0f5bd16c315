"""`examples/train_video.py` with its defaults trains on the data it defaults to; --channels
reaches the dataset; --init says what it copied and refuses to copy nothing (issue 20)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from compressai_plf.training.cli import parse_args
from compressai_plf.training.trainer import build_dataset, build_model, train

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train_video.py"


def _example_main():
    spec = importlib.util.spec_from_file_location("train_video_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def _argv(mnist_root, tmp_path, *extra) -> list[str]:
    small = json.dumps({"train_size": 8})
    return [
        *("-d", str(mnist_root), "--steps", "1", "--batch-size", "2", "--eval-interval", "0"),
        *("--save-dir", str(tmp_path / "run"), "--dataset-args", small, *extra),
    ]


def test_defaults_train_on_moving_mnist(mnist_root, tmp_path):
    torch.set_num_threads(1)
    args = parse_args(_argv(mnist_root, tmp_path))
    # MovingMNIST is gray: the default model is the zoo's 1-channel hyperprior architecture
    assert args.dataset == "MovingMNIST" and args.channels == 1
    assert args.model_args["channels"] == 1 and args.model_args["stages"] == 4
    summary = train(args)
    assert summary["steps"] == 1 and summary["loss"] > 0


def test_channels_reach_the_dataset_and_the_model(mnist_root, tmp_path):
    args = parse_args(_argv(mnist_root, tmp_path, "--channels", "3"))
    assert build_dataset(args, "train")[0][0].shape == (3, 64, 64)
    assert build_model(args).channels == 3
    gray = parse_args(_argv(mnist_root, tmp_path))
    assert build_dataset(gray, "train")[0][0].shape == (1, 64, 64)


def test_init_reports_the_count_and_refuses_to_copy_nothing(mnist_root, tmp_path, capsys):
    torch.set_num_threads(1)
    main = _example_main()
    foreign = tmp_path / "foreign.pth.tar"
    torch.save({"state_dict": {"not.a.layer": torch.zeros(3)}}, foreign)
    with pytest.raises(SystemExit, match=r"^error: --init .*none of its 1 tensors matches"):
        main(_argv(mnist_root, tmp_path, "--init", str(foreign)))
    first = tmp_path / "first"
    main(_argv(mnist_root, tmp_path, "--save-dir", str(first)))
    main(
        _argv(
            mnist_root,
            tmp_path,
            "--save-dir",
            str(tmp_path / "b"),
            "--init",
            str(first / "checkpoint.pth.tar"),
        )
    )
    out = capsys.readouterr().out
    copied = int(out.split("copied ")[1].split()[0])
    total = int(out.split(" of the model's ")[1].split()[0])
    # the same architecture: every parameter (entropy tables of another size are rebuilt)
    params = len(list(build_model(parse_args(_argv(mnist_root, tmp_path))).parameters()))
    assert params <= copied <= total
