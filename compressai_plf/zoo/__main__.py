"""``python -m compressai_plf.zoo``: list the shipped weights with their cards
(:mod:`compressai_plf.zoo.weight_cards`); ``--write`` rewrites the cards, ``--verify`` checks
each file's sha256."""

from __future__ import annotations

import argparse
from typing import Any

from .pretrained import WEIGHTS_DIR
from .weight_cards import WeightCardError, list_pretrained, write_card


def _point(card: dict[str, Any]) -> str:
    if card["rate_mode"] == "fixed":
        return f"I {card['iframe_bits']} bits, P {card['pframe_bits']} bits"
    return f"lmbda {card['lmbda']:g}"


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(prog="python -m compressai_plf.zoo")
    p.add_argument("--write", action="store_true", help="rewrite every card from its file")
    p.add_argument("--verify", action="store_true", help="check every file's sha256")
    args = p.parse_args(argv)
    if args.write:
        for weights in sorted(WEIGHTS_DIR.glob("ssf_plf-*.pth.tar")):
            print(f"wrote {write_card(weights)}")
    try:
        cards = list_pretrained(verify=args.verify)
    except WeightCardError as err:
        raise SystemExit(f"error: {err}") from None
    for c in cards:
        size = f"{c['bytes'] / 1e6:.1f} MB"
        print(
            f"{c['entry']:62s} {_point(c):22s} heads {','.join(c['heads']):14s} "
            f"{c['channels']} ch  {size}  sha256 {c['sha256'][:12]}"
        )
    return cards


if __name__ == "__main__":
    main()
