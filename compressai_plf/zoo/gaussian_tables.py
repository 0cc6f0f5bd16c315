"""Leave the Gaussian conditionals' CDF tables out of zoo files; rebuild them on load.

A ``GaussianConditional``'s quantized CDFs (``_quantized_cdf``, ``_offset``,
``_cdf_length``) are a function of its ``scale_table`` alone, not of trained weights: 64
scales x ~3000 int32 entries, 0.8 MB per coder, 2.4 MB of a 5.5 MB hyperprior zoo file.
The files keep ``scale_table`` and ``ScaleSpaceFlowPLF.from_state_dict`` (what the zoo, the
eval tools and ``update_model`` load with) recomputes the tables with CompressAI's own
``update_scale_table``, so the decoder gets exactly the tables the encoder had. Entropy
bottleneck tables depend on trained weights and stay in the file.
"""

from __future__ import annotations

from typing import Any

from compressai.entropy_models import GaussianConditional

DERIVED = ("_quantized_cdf", "_offset", "_cdf_length")
_OWNER = "gaussian_conditional."


def strip_gaussian_tables(state_dict: dict[str, Any]) -> dict[str, Any]:
    """``state_dict`` without the Gaussian conditionals' derived CDF tables."""
    return {
        k: v for k, v in state_dict.items() if not (_OWNER in k and k.rsplit(".", 1)[-1] in DERIVED)
    }


def restore_gaussian_tables(state_dict: dict[str, Any]) -> dict[str, Any]:
    """``state_dict`` with every missing Gaussian conditional table rebuilt from its
    ``scale_table`` (a state dict that has them is returned unchanged)."""
    out = dict(state_dict)
    for key, scale_table in state_dict.items():
        if not key.endswith(_OWNER + "scale_table"):
            continue
        prefix = key[: -len("scale_table")]
        if all(prefix + name in out for name in DERIVED):
            continue
        coder = GaussianConditional(None)
        if scale_table.numel():  # an empty table (never updated) has empty CDFs
            coder.update_scale_table(scale_table.float(), force=True)
        for name in DERIVED:
            out[prefix + name] = getattr(coder, name).clone()
    return out
