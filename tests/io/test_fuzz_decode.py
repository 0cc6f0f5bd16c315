"""benchmarks/fuzz_decode.py: every mutation changes the clip and is rejected cleanly; the
driver reports hangs and crashes (slow: it starts worker processes)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from compressai_plf.io import BitstreamError, decode_clip

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz_decode.py"


@pytest.fixture(scope="module")
def fuzz():
    spec = importlib.util.spec_from_file_location("fuzz_decode_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_mutation_is_rejected_in_process(fuzz):
    import random

    clips = fuzz.make_clips()
    models = {k: fuzz.build_model(k) for k in ("hyperprior", "fixed")}
    rng = random.Random(0)
    for kind in fuzz.KINDS[:-1]:  # all but wrong_model
        for i, (key, data) in enumerate(clips):
            other = clips[(i + 1) % len(clips)][1]
            bad = fuzz.mutate(kind, data, other, rng)
            assert bad != data, kind
            with pytest.raises(BitstreamError):
                decode_clip(bad, models[key], decoder="sa")
    assert fuzz.resign(clips[0][1]) == clips[0][1]  # resigning an intact clip is a no-op


def test_forgeries_pass_the_envelope_and_end_cleanly(fuzz):
    import random

    from compressai_plf.io.container import parse_clip

    clips = fuzz.make_clips()
    models = {k: fuzz.build_model(k) for k in ("hyperprior", "fixed")}
    rng = random.Random(1)
    for kind in fuzz.FORGED_KINDS:
        for key, data in clips:
            forged = fuzz.forge(kind, data, rng)
            assert forged != data, kind
            try:
                parse_clip(forged)  # length and CRC-32 are valid: only the fields lie
            except BitstreamError as err:
                assert "checksum" not in str(err) and "truncated" not in str(err), err
            with pytest.raises(BitstreamError):
                decode_clip(forged, models[key], decoder="mse")


@pytest.mark.slow
def test_driver_detects_hangs_and_crashes_and_writes_json(tmp_path):
    out = tmp_path / "fuzz.json"
    cmd = [sys.executable, str(SCRIPT), "--n", "24", "--self-test", "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "hang -> no answer" in proc.stdout and "abort -> worker died" in proc.stdout
    result = json.loads(out.read_text())
    assert result["counts"] == {"rejected": 24, "decoded": 0, "crashed": 0, "hung": 0}
    assert all(row["rejected"] == 2 for row in result["by_kind"].values())
