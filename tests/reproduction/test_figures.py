"""Figures of the reproduction: choosing the clip that shows the JD/FMD contrast."""

from __future__ import annotations

import json

import numpy as np
import pytest

from compressai_plf.reproduction.figures import contrast_clips, contrast_grid


def _record(jd_perm, fmd_corr):
    # per-frame lists (frames 0 and 1); None where frame 0 was right (statistic undefined)
    return {
        "results": {
            "permanence-per-frame/jd": [jd_perm[0], jd_perm[1]],
            "correction-per-frame/fmd": [fmd_corr[0], fmd_corr[1]],
        }
    }


def test_contrast_clips_need_jd_keeping_and_fmd_correcting_at_the_frame():
    records = [
        _record((None, None), (None, None)),  # frame 0 right: no contrast possible
        _record((1, 1), (0, 1)),  # JD keeps, FMD corrects at frame 1: the contrast
        _record((1, 1), (0, 0)),  # both keep
        _record((1, 0), (0, 1)),  # both correct
        _record((1, 1), (0, 1)),
    ]
    assert contrast_clips(records) == [1, 4]
    assert contrast_clips(records, frame=0) == []  # nothing corrects at frame 0
    # the roles as arguments: FMD keeping while JD corrects
    swapped = [{"results": {"permanence-per-frame/fmd": [1, 1], "correction-per-frame/jd": [0, 1]}}]
    assert contrast_clips(swapped, keep="fmd", correct="jd") == [0]
    with pytest.raises(KeyError, match="permanence-per-frame/sa"):
        contrast_clips(records, keep="sa")


def test_contrast_grid_draws_the_first_kept_clip_that_shows_the_contrast(tmp_path):
    (tmp_path / "sequences").mkdir()
    (tmp_path / "grids").mkdir()

    def record(kept, corrected):
        return {
            "results": {
                "permanence-per-frame/jd": [1, kept],
                "correction-per-frame/fmd": [0, corrected],
            }
        }

    # clip 1: JD keeps, FMD corrects; clip 3 too, but only clips 0-2 are kept for grids
    records = [record(1, 0), record(1, 1), record(0, 1), record(1, 1)]
    (tmp_path / "sequences" / "q9.json").write_text(json.dumps(records))
    frames = {k: np.random.rand(3, 2, 1, 8, 8) for k in ("source", "mse", "jd", "fmd")}
    np.savez(tmp_path / "grids" / "q9.npz", **frames)
    path = contrast_grid(tmp_path, "q9", 256, tmp_path / "plots")
    assert path == tmp_path / "plots" / "contrast-q9.png" and path.is_file()
    (tmp_path / "sequences" / "q9.json").write_text(json.dumps([record(1, 0)] * 3 + records[3:]))
    assert (
        contrast_grid(tmp_path, "q9", 256, tmp_path / "plots") is None
    )  # the only such clip was not kept
