"""Every bad command line ends in one clear line naming the option or file, and a non-zero
exit, never a traceback (issue 17). In process (``main`` raising ``SystemExit``), plus one
real process per tool for the printed line and the exit status."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from compressai_plf.eval.__main__ import main as eval_main
from compressai_plf.plot.__main__ import main as plot_main
from compressai_plf.utils.cli_errors import describe
from compressai_plf.utils.video.eval_model.plugin import main as eval_model_main
from compressai_plf.zoo.export import main as export_main

REPO = Path(__file__).resolve().parents[2]


def _train_main():
    spec = importlib.util.spec_from_file_location(
        "train_video_cli", REPO / "examples/train_video.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def one_line_error(call, *needles: str) -> str:
    """``call()`` exits with one ``error: ...`` line that contains every needle."""
    with pytest.raises(SystemExit) as exc:
        call()
    message = exc.value.code
    assert isinstance(message, str), f"exit code {message!r}, expected a message"
    assert "\n" not in message and message.startswith("error:"), message
    for needle in needles:
        assert needle in message, (needle, message)
    return message


@pytest.fixture
def text_file(tmp_path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("hello, not a checkpoint\n")
    return path


@pytest.fixture
def readonly_dir(tmp_path) -> Path:
    path = tmp_path / "readonly"
    path.mkdir()
    path.chmod(0o500)
    yield path
    path.chmod(0o700)


# ------------------------------------------------------------------ python -m compressai_plf.eval
def _eval(tmp_path, *extra: str) -> list[str]:
    return ["--zoo", "1", "--dataset", "mmnist", "--out", str(tmp_path / "out"), *extra]


@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        (("--threads", "-1"), ("--threads",)),
        (("--device", "foo"), ("--device", "foo")),
        (("--fps", "0"), ("--fps",)),
        (("--fps", "-1"), ("--fps",)),
        (("--fps", "nan"), ("--fps",)),
        (("--frames", "0"), ("--frames",)),
        (("--dataset-args", '{"bogus": 1}'), ("--dataset-args", "bogus")),
        (("--dataset-args", "[1]"), ("--dataset-args",)),
    ],
)
def test_eval_bad_options(tmp_path, extra, needles):
    one_line_error(lambda: eval_main(_eval(tmp_path, *extra)), *needles)


@pytest.mark.parametrize("option", ["--classifier", "--lpips", "--eval-critics", "--checkpoint"])
def test_eval_text_file_as_a_checkpoint(tmp_path, text_file, option):
    one_line_error(
        lambda: eval_main(_eval(tmp_path, option, str(text_file))), option, str(text_file)
    )


def test_eval_out_that_cannot_be_a_directory(tmp_path, text_file):
    out = text_file / "sub"  # under a regular file: refused even for root
    one_line_error(lambda: eval_main(["--zoo", "1", "--out", str(out)]), "--out", str(out))


def test_eval_unwritable_out(tmp_path, readonly_dir):
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    argv = ["--zoo", "1", "--out", str(readonly_dir / "sub")]
    one_line_error(lambda: eval_main(argv), "--out", str(readonly_dir))


def test_eval_unreadable_yuv_names_the_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads anything")
    folder = tmp_path / "yuv"
    folder.mkdir()
    yuv = folder / "clip_64x64_30fps.yuv"
    yuv.write_bytes(bytes(64 * 64 * 3 // 2 * 2))
    yuv.chmod(0)
    argv = ["--zoo", "1", "--dataset", "yuv", "--data-root", str(folder), "--out", str(tmp_path)]
    one_line_error(lambda: eval_main(argv), str(yuv))
    assert not list(tmp_path.rglob("*.bin")) and not list(tmp_path.rglob("*.plf"))


# ------------------------------------------------------------------ python -m compressai_plf.plot
def test_plot_bad_command_lines(tmp_path, text_file, readonly_dir):
    out = str(tmp_path / "figs")
    one_line_error(
        lambda: plot_main([str(tmp_path / "missing.json"), "--out", out]), "missing.json"
    )
    one_line_error(lambda: plot_main([str(text_file), "--out", out]), str(text_file))
    one_line_error(lambda: plot_main(["--grid", str(text_file), "--out", out]), "--grid")
    good = tmp_path / "r.json"
    good.write_text(json.dumps({"name": "a", "results": {"bpp": [0.1], "psnr": [30.0]}}))
    one_line_error(lambda: plot_main([str(good), "--out", out, "--format", "doc"]), "--format")
    if os.geteuid() != 0:
        one_line_error(lambda: plot_main([str(good), "--out", str(readonly_dir / "x")]), "--out")


# ------------------------------------------------------------------ python -m compressai_plf.zoo.export
def test_export_bad_command_lines(tmp_path, text_file):
    missing = str(tmp_path / "missing.pth.tar")
    one_line_error(lambda: export_main([missing, "--quality", "1"]), missing)
    one_line_error(lambda: export_main([str(text_file), "--quality", "1"]), str(text_file))
    ckpt = tmp_path / "c.pth.tar"
    torch.save({"state_dict": {}}, ckpt)
    one_line_error(lambda: export_main([str(ckpt), "--quality", "99"]), "quality")
    one_line_error(lambda: export_main([str(ckpt), "--quality", "1"]), str(ckpt))


# ------------------------------------------------------------------ compressai_plf.utils.video.eval_model
def test_eval_model_bad_sequences(tmp_path, text_file):
    seqs = tmp_path / "seqs"
    seqs.mkdir()
    (seqs / "noname.yuv").write_bytes(bytes(100))
    out = str(tmp_path / "out")
    argv = ["checkpoint", str(seqs), out, "-a", "ssf_plf", "-p", str(text_file)]
    one_line_error(lambda: eval_model_main(argv), "noname.yuv", "frame size")
    (seqs / "noname.yuv").unlink()
    (seqs / "clip_64x48_30fps_420_8bit.yuv").write_bytes(bytes(1000))  # not whole 64x48 frames
    one_line_error(lambda: eval_model_main(argv), "clip_64x48_30fps_420_8bit.yuv", "4:2:0 frames")
    (seqs / "clip_64x48_30fps_420_8bit.yuv").write_bytes(bytes(64 * 48 * 3 // 2 * 2))
    one_line_error(lambda: eval_model_main(argv), "checkpoint", str(text_file))
    missing = str(tmp_path / "none")
    one_line_error(
        lambda: eval_model_main(["checkpoint", missing, out, "-a", "ssf_plf", "-p", "x"]), missing
    )


# ------------------------------------------------------------------ examples/train_video.py
def _train_argv(mnist_root, tmp_path, *extra: str) -> list[str]:
    return [
        "-d",
        str(mnist_root),
        "--model-args",
        json.dumps({"channels": 1, "rate_mode": "fixed", "stages": 6, "mid_planes": 8}),
        "--stage",
        "mse",
        "--steps",
        "1",
        "--batch-size",
        "2",
        "--save-dir",
        str(tmp_path / "run"),
        "--dataset-args",
        '{"train_size": 8}',
        "--eval-interval",
        "0",
        *extra,
    ]


def test_train_bad_command_lines(mnist_root, tmp_path, text_file):
    main = _train_main()
    argv = _train_argv(mnist_root, tmp_path)
    one_line_error(lambda: main([*argv, "--lambda", "nan"]), "--lambda")
    one_line_error(lambda: main([*argv, "--lambda-p", "-1"]), "--lambda-p")
    one_line_error(lambda: main([*argv, "--channels", "3"]), "--channels 3", "1-channel")
    one_line_error(lambda: main([*argv, "--model", "nope"]), "nope")
    one_line_error(lambda: main([*argv, "--resume", str(text_file)]), str(text_file))
    one_line_error(lambda: main([*argv, "--init", str(text_file)]), str(text_file))
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    one_line_error(lambda: main(["--config", str(bad_json)]), str(bad_json))
    array = tmp_path / "array.json"
    array.write_text("[1, 2]")
    one_line_error(lambda: main(["--config", str(array)]), str(array), "JSON object")


def test_describe_names_the_file_of_an_os_error(tmp_path):
    try:
        open(tmp_path / "nope.bin")  # noqa: SIM115
    except OSError as err:
        assert describe(err) == f"No such file or directory: {tmp_path / 'nope.bin'}"


# ------------------------------------------------------------------ the real processes
@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "compressai_plf.eval", "--zoo", "1", "--out", "OUT", "--device", "foo"],
        ["-m", "compressai_plf.plot", "TEXT", "--out", "OUT"],
        ["-m", "compressai_plf.zoo.export", "TEXT", "--quality", "1"],
        ["-m", "compressai_plf.utils.video.eval_model", "checkpoint", "OUT", "OUT", "-a", "ssf_plf"]
        + ["-p", "x"],
    ],
)
def test_processes_print_one_line_and_exit_non_zero(tmp_path, text_file, argv):
    argv = [a.replace("OUT", str(tmp_path / "out")).replace("TEXT", str(text_file)) for a in argv]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, timeout=300, env=env, cwd=REPO
    )
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error:"), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
