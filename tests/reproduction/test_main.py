"""``python -m compressai_plf.reproduction`` end to end on tiny random models (4 clips)."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from compressai_plf.eval.build_eval_critics import train_eval_critics
from compressai_plf.metrics.build_classifier import save_digit_classifier
from compressai_plf.metrics.digit_classifier import DigitClassifier
from compressai_plf.reproduction.__main__ import main
from compressai_plf.reproduction.family import RUNS
from compressai_plf.results import load_results
from compressai_plf.utils.cache_dir import CACHE_ENV

from ..eval.conftest import tiny_fixed


@pytest.fixture
def runs(tmp_path):
    """The family's runs (RUNS) and one universal and one end-to-end 256-bit experiment, as
    the trainer saves them (training weights, a shared I-frame generator the evaluation
    leaves out)."""
    root = tmp_path / "runs"
    names = [name for name, _ in RUNS.values()]
    names += ["q9-l16-dp-w0.1", "q9-l16-dp-w0.3", "q9-l16-e2e-fmd-w0.1", "q9-l16-dp-w1.0"]
    for i, name in enumerate(names):
        (root / name).mkdir(parents=True)
        args = {"plf": ["jd", "fmd"], "lambda_p": 0.1, "lmbda": None}
        state = {"state_dict": tiny_fixed(seed=i).state_dict(), "stage_name": "universal"}
        final = name != "q9-l16-dp-w1.0"  # that one is still training: not a point
        torch.save({**state, "args": args, "final": final}, root / name / "checkpoint.pth.tar")
    return root


@pytest.fixture
def metric_files(tmp_path):
    torch.manual_seed(0)
    critics, _ = train_eval_critics(
        torch.rand(4, 3, 1, 64, 64), None, "jd,fmd", steps=1, batch_size=2,
        widths=(4, 8, 8, 8), progress=False,
    )  # fmt: skip
    critics_path = critics.save(tmp_path / "critics.pt")
    clf = tmp_path / "clf.pth.tar"
    save_digit_classifier(DigitClassifier(width=4, feature_dim=8), clf)
    return str(critics_path), str(clf)


def test_writes_tables_summary_and_figures(runs, metric_files, mnist_root, tmp_path, monkeypatch):
    critics, clf = metric_files
    out = tmp_path / "out"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))  # the posterior sampler's index
    summary = main(
        [
            "--data-root", str(mnist_root), "--out", str(out), "--runs-dir", str(runs),
            "--work-dir", str(tmp_path / "work"), "--max-clips", "4", "--threads", "1",
            "--eval-critics", critics, "--classifier", clf, "--no-progress",
            "--posterior-digits", "100",
        ]
    )  # fmt: skip
    assert summary["clips"] == 4
    heads = {"mse", "jd", "fmd", "sa", "source"}
    assert {r["head"] for r in summary["error_permanence"]} == heads
    bits = sorted({r["p_bits"] for r in summary["error_permanence"]})
    assert bits == [2, 16, 256]
    # every rate's run trained an SA head
    sa = {r["p_bits"] for r in summary["error_permanence"] if r["head"] == "sa"}
    assert sa == {2, 16, 256}
    assert all(r["accuracy_per_frame"] is not None for r in summary["error_permanence"])
    # The posterior run: frame 0 of every perceptual head is a training frame (a sample).
    f2 = summary["posterior_factor_of_two"]
    assert [r["p_bits"] for r in f2] == [2, 16, 256] and all(r["ratio"] > 0 for r in f2)
    assert {r["head"] for r in summary["posterior_permanence"]} == heads
    assert (out / "posterior-iframe.json").is_file()
    assert any((tmp_path / "cache" / "posterior_iframe").iterdir())
    found = summary["findings"]
    assert {(r["model"], r["head"]) for r in found["realism"]} >= {("q9", "sa"), ("q1", "jd")}
    assert found["permanence"]["model"] == "q9" and "sa_passed" in found["permanence"]
    assert (found["rate"]["low"], found["rate"]["high"]) == ("q1", "q9")
    # weight 0 (the MMSE head), the two universal runs' JD and FMD, the end-to-end FMD
    dp = [(r["training"], r["head"], r["lambda_p"]) for r in summary["dp"]]
    assert dp == [
        ("universal", "mse", 0.0),
        ("universal", "jd", 0.1), ("universal", "fmd", 0.1),
        ("universal", "jd", 0.3), ("universal", "fmd", 0.3),
        ("end-to-end", "fmd", 0.1),
    ]  # fmt: skip
    assert [(r["head"], r["lambda_p"]) for r in summary["universality"]] == [("fmd", 0.1)]
    # realism split by the MMSE frame, per model and perceptual head, from the per-clip records
    given = {(r["model"], r["head"]) for r in summary["realism_given_mmse"]}
    assert given == {(q, h) for q in ("q1", "q5", "q9") for h in ("jd", "fmd", "sa")}
    assert all(r["p_frames"] == 4 for r in summary["realism_given_mmse"])  # 4 clips, 1 P-frame
    assert {r["head"] for r in summary["dp_realism_given_mmse"]} == {"jd", "fmd"}
    assert {r["p_bits"] for r in summary["dp_realism_given_mmse"]} == {256}
    point = summary["universality"][0]  # bracketed or not, by the universal curve's range
    curve = [r["p_confident"] for r in summary["dp"] if r["head"] in ("mse", "fmd")][:3]
    inside = min(curve) <= point["realism"] <= max(curve)
    assert point["bracketed"] == inside and (point["gap"] is not None) == inside
    for name in ("rates.json", "dp.json", "e2e-fmd.json", "summary.json", "tables.md"):
        assert (out / name).is_file(), name
    assert json.loads((out / "summary.json").read_text())["source"] == "runs"
    tables = (out / "tables.md").read_text()
    assert "Error permanence: digit identity" in tables and "Universality" in tables
    assert "Factor of two" in tables and "Error permanence at the high rate (q9)" in tables
    assert "Realism where the MMSE frame is and is not" in tables
    figs = {p.name for p in (out / "figures").iterdir()}
    assert {"per-frame-mse.png", "grid-q1-clip0.png", "dp-p-mse-vs-confident.png"} <= figs
    assert not (out / "sequences").exists()  # per-clip files stay in the work dir


def test_missing_runs_say_how_to_train(tmp_path, mnist_root, metric_files):
    critics, clf = metric_files
    with pytest.raises(FileNotFoundError, match="train_video.py"):
        main(
            [
                "--data-root", str(mnist_root), "--out", str(tmp_path / "o"),
                "--runs-dir", str(tmp_path / "none"), "--work-dir", str(tmp_path / "w"),
                "--eval-critics", critics, "--classifier", clf,
            ]
        )  # fmt: skip


def _argv(mnist_root, out, runs, tmp_path, critics, clf, *extra):
    return [
        "--data-root", str(mnist_root), "--out", str(out), "--runs-dir", str(runs),
        "--work-dir", str(tmp_path / "work"), "--max-clips", "4", "--threads", "1",
        "--eval-critics", critics, "--classifier", clf, "--no-progress",
        "--posterior-digits", "100", *extra,
    ]  # fmt: skip


def test_experiments_only_reuses_evaluations_of_missing_runs(
    runs, metric_files, mnist_root, tmp_path, monkeypatch
):
    """The universal runs' folders are gone after a full run: --experiments-only keeps the
    family's rows, evaluates the end-to-end run again and, with --reuse-evaluations, keeps the
    universal rows from dp.json, without their W1 when other critics measure this run."""
    critics, clf = metric_files
    out = tmp_path / "out"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    first = main(_argv(mnist_root, out, runs, tmp_path, critics, clf))
    shutil.rmtree(runs / "q9-l16-dp-w0.3")
    torch.manual_seed(5)  # other evaluation critics, built the same way
    other, _ = train_eval_critics(
        torch.rand(4, 3, 1, 64, 64), None, "jd,fmd", steps=1, batch_size=2,
        widths=(4, 8, 8, 8), progress=False,
    )  # fmt: skip
    other_path = str(other.save(tmp_path / "other.pt"))

    argv = _argv(mnist_root, out, runs, tmp_path, other_path, clf, "--experiments-only")
    partial = main([*argv, "--reuse-evaluations"])  # w0.1 evaluated now, w0.3 reused
    w1 = {r["model"]: r["w1_fmd"] for r in partial["dp"] if r["training"] == "universal"}
    assert w1["q9-l16-dp-w0.3"] is None and w1["q9-l16-dp-w0.1"] is not None
    w1_jd_partial = next(
        r["w1_jd"] for r in partial["dp"] if r["model"] == "q9-l16-dp-w0.1" and r["head"] == "jd"
    )
    merged = load_results(out / "dp.json")  # a valid evaluation file, by weight
    assert merged["results"]["q"] == ["q9-l16-dp-w0.1", "q9-l16-dp-w0.3"]
    assert merged["results"]["w1-jd-per-frame/jd"][1] == []  # blanked, per frame
    assert "q9-l16-dp-w0.3" in partial["reused"]["dp"]
    given = {(r["model"], r["head"]) for r in partial["dp_realism_given_mmse"]}
    assert given == {(r["model"], r["head"]) for r in first["dp_realism_given_mmse"]}

    for name in ("q9-l16-dp-w0.1", "q9-l16-dp-w1.0"):
        shutil.rmtree(runs / name)
    again = main([*argv, "--reuse-evaluations"])  # every universal run reused
    assert again["error_permanence"] == first["error_permanence"]  # the family's rows stay
    assert again["findings"] == first["findings"]
    keep = ("model", "head", "lambda_p", "p_mse", "p_confident", "fd", "permanence")
    strip = [{k: r[k] for k in keep} for r in first["dp"]]
    assert [{k: r[k] for k in keep} for r in again["dp"]] == strip  # same rows, same values
    # w0.1 was measured by this run's critics in the partial run; w0.3 by the first critics
    universal = {(r["model"], r["head"]): r for r in again["dp"] if r["training"] == "universal"}
    assert universal["q9-l16-dp-w0.3", "jd"]["w1_jd"] is None
    assert universal["q9-l16-dp-w0.1", "jd"]["w1_jd"] == w1_jd_partial
    e2e = [r for r in again["dp"] if r["training"] == "end-to-end"]
    assert e2e and all(r["w1_fmd"] is not None for r in e2e)  # measured by this run's critics
    assert "W1 left out" not in again["reused"]["dp"]  # the merged file: this run's critics
    assert "W1 left out" in partial["reused"]["dp"]
    assert again["universality"] == first["universality"]
    assert again["dp_realism_given_mmse"] == first["dp_realism_given_mmse"]
    assert "Evaluations reused" in (out / "tables.md").read_text()
    assert "posterior-iframe" in again["reused"]  # the weight-0 row's W1 is blanked too
    assert again["dp"][0]["w1_fmd"] is None and first["dp"][0]["w1_fmd"] is not None

    without = main(argv)  # the universal curve is left out: no run, nothing reused
    assert {r["training"] for r in without["dp"]} == {"universal", "end-to-end"}
    assert [r["head"] for r in without["dp"] if r["training"] == "universal"] == ["mse"]
    assert "dp" not in without["reused"]

    with pytest.raises(ValueError, match="give --max-clips 4"):  # before evaluating anything
        main([*argv, "--reuse-evaluations", "--max-clips", "3"])
    dp = json.loads((out / "dp.json").read_text())
    dp["settings"]["clips"] = 3  # an earlier evaluation made otherwise
    (out / "dp.json").write_text(json.dumps(dp))
    e2e_before = (out / "e2e-fmd.json").read_text()
    with pytest.raises(ValueError, match="dp.json: evaluation 'dp' was made with clips=3"):
        main([*argv, "--reuse-evaluations"])
    assert (out / "e2e-fmd.json").read_text() == e2e_before  # nothing evaluated or written
