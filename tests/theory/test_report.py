"""The ``python -m compressai_plf.theory`` report: files written and numbers consistent."""

import json
import runpy
import sys

import numpy as np
import pytest

from compressai_plf.theory import GaussMarkovSource, fmd, jd, mmse, sa
from compressai_plf.theory.report import main


def test_main_writes_json_and_plots(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["--out", str(out), "--frames", "2", "--rho", "0.8", "--samples", "20000"]) == 0
    names = {p.name for p in out.iterdir()}
    assert names == {
        "gauss_markov.json",
        "distortion_rate.png",
        "distortion_perception.png",
        "error_permanence.png",
    }
    for name in names - {"gauss_markov.json"}:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = json.loads((out / "gauss_markov.json").read_text())
    src = GaussMarkovSource(1.0, 0.8, 2)
    rs = res["rate_sweep"]
    i = rs["rate_bits_per_frame"].index(1.0)
    np.testing.assert_allclose(rs["distortion"]["mse"][i], mmse(src, 1.0))
    np.testing.assert_allclose(rs["distortion"]["jd"][i], jd(src, 1.0))
    np.testing.assert_allclose(rs["distortion"]["sa"][i], sa(src, 1.0))
    ps = res["perception_sweep"]
    k = len(ps["perception"]) // 3
    np.testing.assert_allclose(
        ps["distortion"]["fmd"][k], fmd(src, ps["rates"], ps["perception"][k])
    )
    ep = res["error_permanence"]
    assert ep["jd_limit_frame2"] == pytest.approx(2 - 2 * 0.6)  # sN = sqrt(1 - 0.64)
    assert ep["distortion"]["jd"][-1][1] == pytest.approx(ep["jd_limit_frame2"], abs=1e-6)
    un = res["universality"]
    for plf in ("mse", "fmd", "jd", "sa"):
        np.testing.assert_allclose(un[plf]["measured_mse"], un[plf]["predicted_mse"], rtol=0.05)
    # the MMSE decoder is the package's "mse" head in keys, columns and labels
    assert "mmse" not in rs["distortion"] and "mmse" not in un
    text = capsys.readouterr().out
    assert "Error permanence" in text and "gauss_markov.json" in text
    assert "mse D1" in text and "MMSE D1" not in text


def test_module_entry_point(tmp_path, monkeypatch):
    monkeypatch.setattr(
        sys, "argv", ["theory", "--out", str(tmp_path), "--samples", "0", "--no-plots"]
    )
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("compressai_plf.theory", run_name="__main__")
    assert exit_info.value.code == 0
    assert [p.name for p in tmp_path.iterdir()] == ["gauss_markov.json"]
