"""Metadata of the shipped weight files, and the list of shipped entries.

Each ``zoo/weights/<file>.pth.tar`` has a sidecar ``<file>.json`` (its *card*): the zoo call
that loads it, the data it was trained on, channels, decoder heads, the operating point
(``lmbda`` for the entropy-coded family, I-frame and P-frame bits for the fixed-rate one),
the training record the export stored in the file, the licence, and the file's size and
sha256 (as torchvision and timm record for their weights). A sidecar keeps the weight files
byte-identical; :func:`list_pretrained` reads the cards, optionally checking each sha256.

Usage::

    python -m compressai_plf.zoo [--verify]   # list the shipped entries
    python -m compressai_plf.zoo --write      # rewrite the cards from the files
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from ..checkpoint import load_checkpoint, state_dict_of
from .presets import fixed_frame_bits, resolve_family
from .pretrained import WEIGHTS_DIR

__all__ = [
    "WeightCardError",
    "card_path",
    "list_pretrained",
    "make_card",
    "sha256_file",
    "write_card",
]

LICENCE = "BSD-3-Clause-Clear"
DATASETS = {
    "mmnist": "Moving MNIST: 64x64 gray clips of one MNIST training digit, generated "
    "on the fly (http://yann.lecun.com/exdb/mnist/)",
    "natural": "natural RGB video: random crops of Vimeo-90k septuplets and natural clips "
    "(held out for testing: Foreman and the VMAF park clip src01)",
}
# Moving MNIST files carry no family in their names (they predate the option).
_NAME = re.compile(
    r"^ssf_plf-(?:(?P<family>natural)-)?(?P<rate_mode>hyperprior|fixed)-(?P<metric>[a-z-]+)"
    r"-q(?P<quality>\d)\.pth\.tar$"
)


class WeightCardError(ValueError):
    """A card is missing, or does not describe its weight file."""


def card_path(weights: str | Path) -> Path:
    """``ssf_plf-fixed-mse-q1.pth.tar`` -> ``ssf_plf-fixed-mse-q1.json``."""
    weights = Path(weights)
    return weights.with_name(weights.name.removesuffix(".pth.tar") + ".json")


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def make_card(
    weights: str | Path,
    quality: int | None = None,
    rate_mode: str | None = None,
    metric: str = "mse",
    family: str | None = None,
) -> dict[str, Any]:
    """The card of a zoo weight file, from its stored architecture and record; quality,
    rate mode and family come from the zoo file name unless given (an export to another
    name)."""
    weights = Path(weights)
    if quality is None or rate_mode is None:
        m = _NAME.match(weights.name)
        if m is None:
            raise WeightCardError(
                f"{weights.name} is not a zoo weight file name: give quality and rate_mode"
            )
        quality, rate_mode, metric = int(m["quality"]), m["rate_mode"], m["metric"]
        family = m["family"] or "mmnist"
    family = resolve_family(family, rate_mode)
    data = load_checkpoint(weights, what="zoo weight file")
    config = state_dict_of(data, f"zoo weight file {weights}")["_extra_state"]["config"]
    meta = data.get("meta") or {}
    card: dict[str, Any] = {
        "file": weights.name,
        "entry": f"ssf_plf({quality}, family={family!r}, rate_mode={rate_mode!r}, "
        f"metric={metric!r}, pretrained=True)",
        "quality": quality,
        "family": family,
        "rate_mode": rate_mode,
        "metric": metric,
        "dataset": DATASETS[family],
        "channels": int(config.get("channels", 3)),
        "heads": list(config.get("decoders", ("mse",))),
    }
    if rate_mode == "fixed":
        bits = fixed_frame_bits(config)  # what the file's own architecture codes
        card["iframe_bits"], card["pframe_bits"] = round(bits["keyframe"]), round(bits["inter"])
    else:
        card["lmbda"] = meta.get("lmbda")  # the file's record, as lambda_p
    card["lambda_p"] = meta.get("lambda_p")
    if meta.get("plf_weights"):  # heads trained at their own weight (--plf-weights)
        card["plf_weights"] = dict(meta["plf_weights"])
    card["training"] = {k: meta.get(k) for k in ("stage", "step", "plf")}
    if meta.get("heads_from"):  # heads assembled from other runs (export --head)
        card["heads_from"] = dict(meta["heads_from"])
    card["float16"] = bool(meta.get("float16", False))
    card["licence"] = LICENCE
    card["bytes"] = weights.stat().st_size
    card["sha256"] = sha256_file(weights)
    return card


def write_card(
    weights: str | Path,
    quality: int | None = None,
    rate_mode: str | None = None,
    family: str | None = None,
) -> Path:
    """Write (or rewrite) the card beside ``weights`` (:func:`make_card`); returns its path."""
    path = card_path(weights)
    card = make_card(weights, quality, rate_mode, family=family)
    path.write_text(json.dumps(card, indent=2) + "\n")
    path.chmod(0o644)
    return path


def list_pretrained(verify: bool = False, folder: str | Path | None = None) -> list[dict]:
    """Cards of every shipped weight file, sorted by rate mode and quality.

    Args:
        verify: recompute each file's sha256 and size and compare with its card.
        folder: the weights folder (default: the package's).

    Raises:
        WeightCardError: a weight file without a card, or (``verify``) one its card does not
            describe.
    """
    folder = Path(folder) if folder is not None else WEIGHTS_DIR
    cards = []
    for weights in sorted(folder.glob("ssf_plf-*.pth.tar")):
        path = card_path(weights)
        if not path.is_file():
            raise WeightCardError(f"{weights.name} has no card ({path.name})")
        card = json.loads(path.read_text())
        if verify and (
            card.get("sha256") != sha256_file(weights)
            or card.get("bytes") != weights.stat().st_size
        ):
            raise WeightCardError(
                f"{path.name} does not describe {weights.name} (size or sha256 differ); "
                "rewrite it with `python -m compressai_plf.zoo --write`"
            )
        cards.append(card)
    return sorted(cards, key=lambda c: (c.get("family", "mmnist"), c["rate_mode"], c["quality"]))
