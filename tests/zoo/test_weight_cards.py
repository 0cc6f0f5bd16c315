"""Every shipped weight file has a card (metadata sidecar) that describes it."""

from __future__ import annotations

import hashlib
import json
import math
import shutil

import pytest
import torch

from compressai_plf.models import ScaleSpaceFlowPLF
from compressai_plf.zoo import list_pretrained
from compressai_plf.zoo.pretrained import WEIGHTS_DIR
from compressai_plf.zoo.weight_cards import WeightCardError, card_path

SHIPPED = sorted(WEIGHTS_DIR.glob("ssf_plf-*.pth.tar"))


def test_every_shipped_file_is_listed_with_its_metadata():
    if not SHIPPED:
        pytest.skip("no weights shipped")
    cards = list_pretrained(verify=True)
    assert sorted(c["file"] for c in cards) == sorted(p.name for p in SHIPPED)
    for card in cards:
        for key in ("dataset", "channels", "heads", "licence", "sha256", "entry"):
            assert card[key], key
        assert ("lmbda" in card) != ("pframe_bits" in card)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_card_describes_its_file(path):
    card = json.loads(card_path(path).read_text())
    assert card["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    state = torch.load(path, map_location="cpu", weights_only=True)
    with torch.no_grad():
        net = ScaleSpaceFlowPLF.from_state_dict(state["state_dict"])
    assert card["channels"] == net.channels and card["heads"] == list(net.decoders)
    if card["rate_mode"] == "fixed":  # bits from the model's own coders: planes x log2(levels)
        bits = lambda c: c.planes * math.log2(c.levels)  # noqa: E731
        assert card["iframe_bits"] == bits(net.img_hyperprior)
        assert card["pframe_bits"] == bits(net.motion_hyperprior) + bits(net.res_hyperprior)
    else:
        assert card["lmbda"] == state["meta"]["lmbda"]


def test_a_changed_file_fails_verification(tmp_path):
    if not SHIPPED:
        pytest.skip("no weights shipped")
    copy = tmp_path / SHIPPED[0].name
    shutil.copy(SHIPPED[0], copy)
    shutil.copy(card_path(SHIPPED[0]), card_path(copy))
    assert len(list_pretrained(verify=True, folder=tmp_path)) == 1
    with open(copy, "ab") as f:
        f.write(b"\0")
    with pytest.raises(WeightCardError, match="does not describe"):
        list_pretrained(verify=True, folder=tmp_path)
    card_path(copy).unlink()
    with pytest.raises(WeightCardError, match="has no card"):
        list_pretrained(folder=tmp_path)
