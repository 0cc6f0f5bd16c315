"""Figures of the reproduction: choosing the clip that shows the JD/FMD contrast."""

from __future__ import annotations

import pytest

from compressai_plf.reproduction.figures import contrast_clips


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
