"""write_clip/read_clip: round trips, exact bit counts, model identity, input checks, damage."""

from __future__ import annotations

import math
import os

import pytest
import torch

from compressai_plf.io import (
    BitstreamError,
    CorruptClipError,
    ModelMismatchError,
    NotAClipError,
    TruncatedClipError,
    decode_clip,
    encode_clip,
    encoded_bits,
    inspect_clip,
    read_clip,
    write_clip,
)
from compressai_plf.io.clip_frames import pad_frames

from .conftest import HEADS, tiny_fixed, tiny_hyperprior


def _clip(channels: int, h: int, w: int, t: int = 3) -> list[torch.Tensor]:
    return [torch.rand(1, channels, h, w) for _ in range(t)]


def _reference(net, frames, decoder, seed=None, clamp=True):
    """The model's own compress/decompress on replicate-padded frames, cropped and clamped to
    [0, 1] (read_clip returns displayed frames)."""
    h, w = frames[0].shape[-2:]
    with torch.no_grad():
        strings, shapes = net.compress(pad_frames(frames, net.size_multiple), seed=seed)
        out = net.decompress(strings, shapes, decoder=decoder)
    return [x[..., :h, :w].clamp(0, 1) if clamp else x[..., :h, :w] for x in out]


@pytest.mark.parametrize("mode", ["hyperprior", "fixed"])
def test_round_trip_any_size_every_head(mode, hyper_net, fixed_net, tmp_path):
    net, c = (hyper_net, 3) if mode == "hyperprior" else (fixed_net, 1)
    frames = _clip(c, 37, 70)  # neither side a multiple of size_multiple
    info = write_clip(tmp_path / "a.plf", net, frames)
    assert (info.frames, info.height, info.width, info.channels) == (3, 37, 70, c)
    for head in HEADS:
        out = read_clip(tmp_path / "a.plf", net, decoder=head)
        ref = _reference(net, frames, head)
        assert [x.shape for x in out] == [(1, c, 37, 70)] * 3
        assert all(torch.equal(a, b) for a, b in zip(out, ref, strict=True)), head


def test_fixed_mode_packs_the_clip_into_exact_bits(fixed_net, tmp_path):
    # 64x64 -> 1x1 latents: keyframe 12 x 1 bit, each P-frame (3 + 3) x 2 bits = 12 bits.
    for t, payload_bytes in ((1, 2), (3, 5), (10, 15)):
        info = write_clip(tmp_path / "c.plf", fixed_net, _clip(1, 64, 64, t), seed=77)
        assert info.payload_bits == 12 * t
        assert info.payload_bytes == payload_bytes == math.ceil(12 * t / 8)
        # per-label strings would take 2 bytes per frame (12 bits -> 2 bytes, 6 + 6 -> 1 + 1)
        assert info.payload_bytes <= 2 * t
        assert info.header_bytes == 71 and info.seed == 77
        assert info.file_bytes == os.path.getsize(tmp_path / "c.plf")
        assert encoded_bits(tmp_path / "c.plf") == 8 * info.file_bytes
        assert info.bpp("payload") == pytest.approx(12 * t / (t * 64 * 64))


def test_fixed_mode_seed_changes_the_decode(fixed_net):
    frames = _clip(1, 64, 64)
    a = decode_clip(encode_clip(fixed_net, frames, seed=1), fixed_net)
    b = decode_clip(encode_clip(fixed_net, frames, seed=2), fixed_net)
    ref = _reference(fixed_net, frames, "mse", 1)
    assert all(torch.equal(x, y) for x, y in zip(a, ref, strict=True))
    ref2 = _reference(fixed_net, frames, "mse", 2)
    assert all(torch.equal(x, y) for x, y in zip(b, ref2, strict=True))
    # The untrained model's frames may clamp to the same picture; before clamping they differ.
    raw1, raw2 = (_reference(fixed_net, frames, "mse", s, clamp=False) for s in (1, 2))
    assert not torch.equal(raw1[0], raw2[0])
    default = inspect_clip(encode_clip(fixed_net, frames))
    assert default.seed == fixed_net.dither_seed


def test_hyperprior_lengths_and_bits(hyper_net):
    frames = _clip(3, 64, 64)
    info = inspect_clip(encode_clip(hyper_net, frames))
    with torch.no_grad():
        strings, _ = hyper_net.compress(frames)
    expected = [len(strings[0][0][0]), len(strings[0][1][0])]
    for s in strings[1:]:
        expected += [len(s[k][i][0]) for k in ("motion", "residual") for i in (0, 1)]
    assert list(info.string_lengths) == expected
    assert info.payload_bits == 8 * sum(expected) == 8 * info.payload_bytes
    assert info.latent_size == (64 // 32, 64 // 32)


def test_clip_forms_are_equivalent(fixed_net):
    frames = _clip(1, 64, 64)
    stacked = torch.cat(frames)  # (T, C, H, W)
    forms = [frames, [x[0] for x in frames], stacked, stacked[None], tuple(frames)]
    coded = {encode_clip(fixed_net, f) for f in forms}
    assert len(coded) == 1


@pytest.mark.parametrize(
    "frames, error, match",
    [
        ([torch.rand(2, 1, 64, 64)], ValueError, "batch size 2"),
        (torch.rand(2, 3, 1, 64, 64), ValueError, "one clip at a time"),
        ([], ValueError, "empty"),
        ("frames", TypeError, "list"),
        ([torch.rand(64, 64)], ValueError, r"\(C, H, W\)"),
        ([torch.rand(1, 3, 64, 64)], ValueError, "3 channels"),
        ([torch.full((1, 64, 64), float("nan"))], ValueError, "frame 0 .*NaN"),
        ([torch.rand(1, 64, 64) * 255], ValueError, r"frame 0 .*\[0, 1\]"),
        ([torch.zeros(1, 64, 64, dtype=torch.uint8)], TypeError, "float"),
        ([torch.rand(1, 64, 64), torch.rand(1, 32, 32)], ValueError, "frame 1 has shape"),
        ([torch.rand(1, 0, 64)], ValueError, "frame size"),
    ],
)
def test_bad_frames_are_rejected(fixed_net, frames, error, match):
    with pytest.raises(error, match=match):
        encode_clip(fixed_net, frames)


@pytest.mark.parametrize(
    "bad, match", [(float("inf"), "NaN or Inf"), (1.5, r"\[0, 1\], got values in \[.*, 1\.5\]")]
)
def test_bad_values_are_refused_before_padding_naming_the_frame(fixed_net, monkeypatch, bad, match):
    frames = [torch.rand(1, 60, 52, dtype=torch.float64) for _ in range(3)]  # padded to 64x64
    frames[2][0, 59, 51] = bad

    def no_padding(*args):
        raise AssertionError("frames padded before they were checked")

    monkeypatch.setattr("compressai_plf.io.clip.pad_frames", no_padding)
    with pytest.raises(ValueError, match=rf"^frame 2 .*{match}"):
        encode_clip(fixed_net, frames)


def test_bad_arguments_are_rejected(fixed_net, hyper_net, tmp_path):
    frames = _clip(1, 64, 64)
    with pytest.raises(TypeError, match="ScaleSpaceFlowPLF"):
        write_clip(tmp_path / "x.plf", torch.nn.Conv2d(1, 1, 1), frames)
    with pytest.raises(ValueError, match="fixed"):
        encode_clip(hyper_net, _clip(3, 64, 64), seed=3)
    with pytest.raises(ValueError, match="seed"):
        encode_clip(fixed_net, frames, seed=2**32)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_clip(tmp_path / "missing" / "x.plf", fixed_net, frames)
    with pytest.raises(IsADirectoryError):
        write_clip(tmp_path, fixed_net, frames)
    with pytest.raises(TypeError, match="path"):
        write_clip(3, fixed_net, frames)
    write_clip(tmp_path / "x.plf", fixed_net, frames)
    with pytest.raises(ValueError, match="unknown decoder head 'gan'"):
        read_clip(tmp_path / "x.plf", fixed_net, decoder="gan")
    with pytest.raises(ValueError, match="unknown decoder head 'jd'"):
        read_clip(tmp_path / "x.plf", tiny_fixed(decoders=("mse",)), decoder="jd")
    with pytest.raises(FileNotFoundError):
        read_clip(tmp_path / "nope.plf", fixed_net)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.plf"]  # no temporary files left


def test_wrong_model_is_refused_with_both_hashes(fixed_net, hyper_net):
    data = encode_clip(fixed_net, _clip(1, 64, 64))
    other = tiny_fixed()  # same architecture, other weights
    with pytest.raises(ModelMismatchError) as err:
        decode_clip(data, other)
    ours = inspect_clip(data).weights_hash
    assert str(err.value) == (
        f"bitstream was encoded with weights {ours}, this model has "
        f"{inspect_clip(encode_clip(other, _clip(1, 64, 64))).weights_hash}"
    )
    with pytest.raises(ModelMismatchError, match="rate mode 'fixed'"):
        decode_clip(data, hyper_net)
    with pytest.raises(ModelMismatchError, match="1-channel"):
        decode_clip(data, tiny_fixed(channels=3))


def test_retrained_heads_still_read_the_stream(fixed_net):
    """Universality: heads trained with the encoder side frozen decode the same stream."""
    frames = _clip(1, 64, 64)
    data = encode_clip(fixed_net, frames)
    net = tiny_fixed()
    net.load_state_dict(fixed_net.state_dict())
    with torch.no_grad():
        for p in net.perceptual_heads["jd"].parameters():
            p.mul_(0.5)
    assert all(
        torch.equal(a, b)
        for a, b in zip(decode_clip(data, net), decode_clip(data, fixed_net), strict=True)
    )
    assert not torch.equal(decode_clip(data, net, "jd")[1], decode_clip(data, fixed_net, "jd")[1])


@pytest.mark.parametrize("mode", ["hyperprior", "fixed"])
def test_damaged_files_are_rejected_before_decoding(mode, hyper_net, fixed_net, monkeypatch):
    net, c = (hyper_net, 3) if mode == "hyperprior" else (fixed_net, 1)
    data = encode_clip(net, _clip(c, 64, 64))
    calls = []
    monkeypatch.setattr(net, "decompress", lambda *a, **k: calls.append(a))
    gen = torch.Generator().manual_seed(0)
    for _ in range(100):
        bad = bytearray(data)
        i = int(torch.randint(8 * len(data), (1,), generator=gen))
        bad[i // 8] ^= 1 << (i % 8)
        with pytest.raises(BitstreamError):
            decode_clip(bytes(bad), net)
    with pytest.raises(TruncatedClipError):
        decode_clip(data[:-1], net)
    with pytest.raises(NotAClipError):
        decode_clip(b"GIF89a" + data, net)
    with pytest.raises(CorruptClipError):
        decode_clip(data[:20] + b"\x00" + data[20:], net)
    assert calls == []


def test_file_round_trip_of_damage(fixed_net, tmp_path):
    path = tmp_path / "d.plf"
    write_clip(path, fixed_net, _clip(1, 64, 64))
    data = bytearray(path.read_bytes())
    data[-6] ^= 0x10  # payload bit
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptClipError, match="checksum"):
        read_clip(path, fixed_net)
    with pytest.raises(CorruptClipError, match="checksum"):
        encoded_bits(path)
    path.write_bytes(b"")
    with pytest.raises(NotAClipError):
        read_clip(path, fixed_net)


def test_hyperprior_model_without_update_is_reported():
    net = tiny_hyperprior()
    fresh = type(net)(**net.config).eval()  # entropy tables never built
    with pytest.raises((ValueError, RuntimeError)):
        encode_clip(fresh, _clip(3, 64, 64))


def test_checkpoint_reload_reads_the_clip(hyper_net, tmp_path):
    """A model rebuilt from a saved state dict (entropy tables included) reads the clip."""
    path = tmp_path / "h.plf"
    write_clip(path, hyper_net, _clip(3, 48, 40))
    torch.save(hyper_net.state_dict(), tmp_path / "ckpt.pt")
    state = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    rebuilt = type(hyper_net).from_state_dict(state).eval()
    a, b = read_clip(path, rebuilt, "fmd"), read_clip(path, hyper_net, "fmd")
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_foreign_file_is_refused_from_its_first_bytes(fixed_net, tmp_path):
    path = tmp_path / "video.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(1000))
    with pytest.raises(NotAClipError, match="magic"):
        read_clip(path, fixed_net)
    with pytest.raises(NotAClipError, match="magic"):
        encoded_bits(path)


def test_fixed_mode_with_non_power_of_two_levels():
    torch.manual_seed(6)
    net = tiny_fixed(levels=3, keyframe_levels=5)
    frames = _clip(1, 64, 64)
    data = encode_clip(net, frames, seed=9)
    info = inspect_clip(data)
    # 12 five-level keyframe symbols, 2 x (3 + 3) three-level P-frame symbols
    assert info.payload_bits == (5**12 * 3**12 - 1).bit_length() == 47
    assert info.payload_bytes == 6  # per-label strings: 4 + 2 x (2 x 1) = 8 bytes
    out = decode_clip(data, net, "jd")
    ref = _reference(net, frames, "jd", seed=9)
    assert all(torch.equal(a, b) for a, b in zip(out, ref, strict=True))


@pytest.mark.parametrize("mode", ["hyperprior", "fixed"])
def test_read_clip_heads_equals_one_read_per_head(mode, hyper_net, fixed_net, tmp_path):
    from compressai_plf.io import read_clip_heads

    net = hyper_net if mode == "hyperprior" else fixed_net
    torch.manual_seed(3)
    frames = [torch.rand(1, net.channels, 64, 64) for _ in range(3)]
    path = tmp_path / "c.plf"
    write_clip(path, net, frames)
    together = read_clip_heads(path, net)
    assert list(together) == list(net.decoders)
    for head in net.decoders:
        alone = read_clip(path, net, head)
        assert all(torch.equal(a, b) for a, b in zip(alone, together[head], strict=True)), head
    subset = read_clip_heads(path, net, ["fmd", "mse"])
    assert list(subset) == ["fmd", "mse"]
    assert all(torch.equal(a, b) for a, b in zip(subset["fmd"], together["fmd"], strict=True))
    with pytest.raises(ValueError, match="head"):
        read_clip_heads(path, net, ["xx"])
