"""A training start point from a zoo weight file: encoder side copied, heads as recorded."""

from __future__ import annotations

import pytest
import torch

from compressai_plf.checkpoint import load_checkpoint
from compressai_plf.training import init_from_checkpoint
from compressai_plf.zoo.start_point import main, start_point

from ..eval.conftest import tiny_fixed


@pytest.fixture
def weights(tmp_path):
    path = tmp_path / "zoo.pth.tar"
    net = tiny_fixed(seed=0)
    torch.save({"state_dict": net.state_dict(), "meta": {"lmbda": 0.25}}, path)
    return path, net


def _same(a: torch.nn.Module, b: torch.nn.Module, prefix: str) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    keys = [k for k in sa if k.startswith(prefix) and isinstance(sa[k], torch.Tensor)]
    assert keys, prefix
    return all(torch.equal(sa[k], sb[k]) for k in keys)


def test_heads_start_fresh_unless_kept(weights, tmp_path):
    path, source = weights
    info = start_point(path, tmp_path / "run" / "checkpoint.pth.tar")
    ckpt = load_checkpoint(tmp_path / "run" / "checkpoint.pth.tar")
    assert ckpt["stage_name"] == "mse" and ckpt["trained_heads"] == []
    assert ckpt["bitstream_lmbda"] == 0.25 and info["heads"] == ["fmd", "jd", "sa"]
    fresh = tiny_fixed(seed=1)
    before = tiny_fixed(seed=1)
    init_from_checkpoint(fresh, str(tmp_path / "run" / "checkpoint.pth.tar"))
    assert _same(fresh, source, "motion_encoder.") and _same(fresh, source, "res_decoder.")
    assert not _same(fresh, source, "heads.jd.")  # an untrained head is never copied

    start_point(path, tmp_path / "kept.pth.tar", keep_heads=("jd",))
    kept = tiny_fixed(seed=1)
    init_from_checkpoint(kept, str(tmp_path / "kept.pth.tar"))
    assert _same(kept, source, "heads.jd.") and not _same(before, source, "heads.jd.")


def test_bad_input_is_one_line(weights, tmp_path):
    path, _ = weights
    with pytest.raises(ValueError, match="no head 'xyz'"):
        start_point(path, tmp_path / "c.pth.tar", keep_heads=("xyz",))
    with pytest.raises(SystemExit, match="--quality"):
        main(["--out", str(tmp_path / "c.pth.tar")])
    with pytest.raises(SystemExit, match="no head 'xyz'"):
        main(["--weights", str(path), "--out", str(tmp_path / "c.pth.tar"), "--keep-heads", "xyz"])
    with pytest.raises(SystemExit, match="family"):  # no natural fixed-rate entry: one line
        main(["--quality", "9", "--family", "natural", "--out", str(tmp_path / "c.pth.tar")])
    main(["--weights", str(path), "--out", str(tmp_path / "c.pth.tar")])
    with pytest.raises(SystemExit, match="exists"):  # never over a run's checkpoint
        main(["--weights", str(path), "--out", str(tmp_path / "c.pth.tar")])
    main(["--weights", str(path), "--out", str(tmp_path / "c.pth.tar"), "--force"])
    with pytest.raises(SystemExit, match="not found"):
        main(["--weights", str(tmp_path / "none.pth.tar"), "--out", str(tmp_path / "c.pth.tar")])
