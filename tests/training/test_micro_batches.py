"""Micro-batching the codec step: the same gradient as the whole batch, in chunks."""

from __future__ import annotations

import torch
from torch import nn

from compressai_plf.training.stages import make_stage
from compressai_plf.training.trainer import namespace


class _Codec(nn.Module):
    """A deterministic stand-in codec: per-frame conv reconstructions and likelihoods."""

    def __init__(self) -> None:
        super().__init__()
        self.rec = nn.Conv2d(1, 1, 3, padding=1)
        self.lik = nn.Conv2d(1, 2, 3, padding=1)

    def forward_heads(self, frames, heads):
        x_hat = {h: [torch.sigmoid(self.rec(x)) for x in frames] for h in heads}
        lik = [{"y": torch.sigmoid(self.lik(x)).clamp_min(1e-3)} for x in frames]
        return {"x_hat": x_hat, "likelihoods": lik}


def _grads(chunks: int, batch: int = 6) -> tuple[dict[str, float], list[torch.Tensor]]:
    torch.manual_seed(0)
    model = _Codec()
    args = namespace(stage="mse", plf=[], micro_batches=chunks, lmbda=0.01)
    stage = make_stage("mse", model, args)
    g = torch.Generator().manual_seed(1)
    frames = [torch.rand(batch, 1, 8, 8, generator=g) for _ in range(3)]
    losses = stage.codec_backward(frames, 0)
    return {k: float(v) for k, v in losses.items()}, [p.grad.clone() for p in model.parameters()]


def test_chunked_codec_step_matches_the_whole_batch():
    whole_losses, whole = _grads(1)
    for chunks in (2, 4):  # 4 chunks of a batch of 6: uneven (1, 2, 1, 2) shares
        losses, grads = _grads(chunks)
        assert losses.keys() == whole_losses.keys()
        for k, v in losses.items():
            assert abs(v - whole_losses[k]) <= 1e-5 * max(1.0, abs(whole_losses[k])), k
        for a, b in zip(grads, whole, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_more_chunks_than_samples_is_capped():
    losses, _ = _grads(10, batch=3)
    whole, _ = _grads(1, batch=3)
    assert abs(losses["loss"] - whole["loss"]) < 1e-5 * abs(whole["loss"])
