"""Coding clips with CompressAI-style video models: padding, channel replication, bits, and the
codec protocol of the evaluation loop."""

from __future__ import annotations

import pytest
import torch
from compressai.models.video import ScaleSpaceFlow

from compressai_plf.eval import EvalClip
from compressai_plf.eval.compressai_video import CompressAIVideoCodec, string_bytes

from .conftest import tiny_hyperprior


class RecordingModel(torch.nn.Module):
    """Stores what it was given; 'decodes' the padded frames plus a per-channel offset."""

    def update(self, force=False):
        self.updated = force

    def compress(self, frames):
        self.frames = frames
        return [[[b"abc"], [b"de"]] for _ in frames], [None] * len(frames)

    def decompress(self, strings, shapes):
        offset = torch.tensor([0.0, 0.1, 0.2]).view(1, 3, 1, 1)
        return [f + offset for f in self.frames]


def test_gray_clip_is_padded_replicated_and_cropped_back():
    model = RecordingModel()
    codec = CompressAIVideoCodec(model, multiple=128)
    clip = torch.rand(3, 1, 64, 48) * 0.5
    recon, bits = codec.code_frames(clip)
    assert model.updated is True
    assert [tuple(f.shape) for f in model.frames] == [(1, 3, 128, 128)] * 3
    assert torch.equal(model.frames[1][0, 2, :64, :48], clip[1, 0])  # replicated
    # padding replicates the last row and column, as compressai_plf.io pads for ssf_plf
    assert torch.equal(model.frames[0][0, 0, 64:, :48], clip[0, 0, 63:64].expand(64, 48))
    assert torch.equal(model.frames[0][0, 0, :64, 48:], clip[0, 0, :, 47:48].expand(64, 80))
    # channel mean of x + (0, 0.1, 0.2) is x + 0.1, on the original 64x48 pixels
    assert recon.shape == clip.shape
    torch.testing.assert_close(recon, clip + 0.1)
    assert bits == [40.0, 40.0, 40.0]  # 5 bytes per frame


def test_string_bytes_counts_nested_lists():
    assert string_bytes([[b"ab", [b"c"]], b"defg"]) == 7
    with pytest.raises(TypeError, match="bytes"):
        string_bytes([1])


def test_ssf_plf_round_trip_matches_its_own_decompress():
    net = tiny_hyperprior()
    clip = torch.rand(2, 3, 64, 64)
    recon, bits = CompressAIVideoCodec(net, multiple=32, channels=3).code_frames(clip)
    strings, shapes = net.compress([clip[i : i + 1] for i in range(2)])
    expected = torch.cat(net.decompress(strings, shapes)).clamp(0, 1)
    torch.testing.assert_close(recon, expected)
    assert bits == [8.0 * string_bytes(s) for s in strings] and min(bits) > 0


class _RecordingSSF(ScaleSpaceFlow):
    """CompressAI's ssf2020, keeping the strings its ``compress`` returned."""

    def compress(self, frames):
        self.coded = super().compress(frames)
        return self.coded


def _ssf_frame_bytes(strings) -> list[int]:
    # ssf2020's layout, spelled out: keyframe [y, z]; P-frame {"motion": [y, z], "residual":
    # [y, z]}; each y/z a list of one string (batch 1).
    out = []
    for i, frame in enumerate(strings):
        latents = [frame] if i == 0 else [frame["motion"], frame["residual"]]
        assert all(len(y) == len(z) == 1 for y, z in latents)
        out.append(sum(len(y[0]) + len(z[0]) for y, z in latents))
    return out


def test_compressai_ssf2020_codes_a_padded_gray_clip():
    torch.manual_seed(0)
    net = _RecordingSSF()
    codec = CompressAIVideoCodec(net, "q1", multiple=128)
    clip = torch.zeros(2, 1, 64, 64)
    clip[:, :, 20:40, 20:40] = 1.0
    coded = codec.code(EvalClip("c", clip, 25.0), 0)
    recon, bits = coded.decoded["mse"], coded.frame_bits
    assert recon.shape == clip.shape and torch.isfinite(recon).all()
    # bits recounted from the strings the model produced, not from the codec's own sum
    strings, shapes = net.coded
    frame_bytes = _ssf_frame_bytes(strings)
    assert bits == [8.0 * n for n in frame_bytes] and min(frame_bytes) > 0
    assert coded.bytes_written == sum(frame_bytes) and coded.payload_bits == 8 * sum(frame_bytes)
    # and those strings are what was decoded: the gray clip is the channel mean, cropped
    again = torch.cat(net.decompress(strings, shapes))[..., :64, :64].clamp(0, 1).mean(1, True)
    torch.testing.assert_close(recon, again)


@pytest.mark.parametrize(
    "clip, match",
    [
        (torch.rand(2, 2, 64, 64), "C = 1 or 3"),
        (torch.rand(2, 1, 64), "C = 1 or 3"),
        (torch.full((2, 1, 64, 64), 1.5), r"frame 0 .*\[0, 1\]"),
        (torch.full((2, 1, 64, 64), float("nan")), "frame 0 .*NaN"),
        # the model's validator, as io runs it: the failing frame is named
        (torch.cat([torch.rand(2, 1, 64, 64), torch.full((1, 1, 64, 64), torch.inf)]), "frame 2"),
    ],
)
def test_bad_clips_are_named(clip, match):
    with pytest.raises(ValueError, match=match):
        CompressAIVideoCodec(RecordingModel()).code_frames(clip)


def test_rgb_clip_for_a_gray_model_is_refused():
    with pytest.raises(ValueError, match="3 channels, the model codes 1"):
        CompressAIVideoCodec(RecordingModel(), channels=1).code_frames(torch.rand(2, 3, 64, 64))
