"""An exact posterior-sampling I-frame decoder for fixed-rate keyframe codes.

A fixed-rate keyframe code (Salehkalaibar et al., NeurIPS 2023,
https://arxiv.org/abs/2305.19301: 12 dithered binary latents) is a deterministic function of
the frame and the dither both sides share. Sampling a *training* frame whose code under the
same dither equals the received code draws from the posterior of the frame given the code,
under the empirical distribution of training frames: a decoder with perfect realism (its
output is a real frame, with the frame marginal of the training data) for the same bitstream.
Its MSE over the MMSE decoder's is the factor of two of the rate-distortion-perception theory
(at perfect realism the distortion of a posterior sample is twice the MMSE, exactly when the
MMSE decoder is the posterior mean: :func:`factor_of_two`). Feeding the sample as every
perceptual head's frame 0 (``decompress_heads(..., iframe=sample)``) studies the P-frame
decoders' error permanence apart from any I-frame GAN training.

The index: the 60000 MNIST training digits, each resized to 32x32 and placed at a seeded
random position of a 64x64 canvas (the Moving MNIST frame marginal), encoded once by the
model's keyframe encoder. Only the continuous encoder outputs ``y`` are stored; for a given
dither the codes of all 60000 frames are a vectorised quantisation
``round((tanh(y) + u + 1) / step)``. The index is built on first use (1-2 minutes on one
CPU thread) and cached in :func:`~compressai_plf.utils.cache_dir.cache_dir`
(``~/.cache/compressai_plf/posterior_iframe/``), keyed by the keyframe encoder's weights
(:func:`keyframe_encoder_key`: models that share one frozen keyframe codec, such as the
fixed-rate zoo family's qualities, share one index) and the placement seed.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from tqdm import tqdm

from ..checkpoint import load_checkpoint
from ..datasets.mnist_idx import load_mnist_tensors
from ..datasets.moving_mnist import place_digits
from ..io.weights_hash import hash_tensors
from ..models.compressai_strings import frame_from_strings
from ..models.fixed_rate_coder import FixedRateLatentCoder
from ..utils.cache_dir import cache_dir

__all__ = ["PosteriorIFrameSampler", "PosteriorSample", "factor_of_two", "keyframe_encoder_key"]


def keyframe_encoder_key(model: torch.nn.Module) -> str:
    """Hex SHA-256 of what the index depends on: the keyframe encoder's weights (key, dtype,
    shape and bytes of every ``img_encoder`` entry, in key order)."""
    h = hashlib.sha256(b"compressai_plf posterior index v1\0")
    hash_tensors(h, dict(sorted(model.img_encoder.state_dict().items())))
    return h.hexdigest()


INDEX_VERSION = 1


@dataclass
class PosteriorSample:
    """Frames drawn by :meth:`PosteriorIFrameSampler.sample` and how they were found.

    Attributes:
        frames: ``(B, 1, 64, 64)`` training frames in [0, 1].
        index: ``(B,)`` index of each frame in the 60000 training digits.
        labels: ``(B,)`` their digit classes.
        matches: ``(B,)`` number of index frames with the fewest mismatches (the candidates
            the sample was drawn from).
        mismatches: ``(B,)`` symbols in which the sample's code differs from the received
            code (0: an exact match; bits for binary codes).
    """

    frames: Tensor
    index: Tensor
    labels: Tensor
    matches: Tensor
    mismatches: Tensor


def factor_of_two(source: Tensor, sample: Tensor, mmse: Tensor) -> dict[str, float]:
    """The MSE of posterior samples over the MSE of the MMSE decoder.

    For ``X'`` drawn from the posterior of ``X`` given the code, independently of ``X``,
    ``E||X - X'||^2 = 2 E||X - E[X|code]||^2``: the ratio is 2 when ``mmse`` is the exact
    posterior mean. A learned MMSE decoder whose MSE exceeds the posterior mean's lowers the
    ratio; a sampler over a different distribution than the source's raises it.

    Args:
        source: source frames ``(N, ...)``.
        sample: posterior samples, same shape.
        mmse: MMSE reconstructions, same shape.

    Returns:
        ``{"mse_sample", "mse_mmse", "ratio"}``.
    """
    if source.shape != sample.shape or source.shape != mmse.shape:
        raise ValueError(
            f"shapes differ: source {tuple(source.shape)}, sample {tuple(sample.shape)}, "
            f"mmse {tuple(mmse.shape)}"
        )
    mse_sample = float(((source - sample) ** 2).double().mean())
    mse_mmse = float(((source - mmse) ** 2).double().mean())
    ratio = mse_sample / mse_mmse if mse_mmse > 0 else float("inf")
    return {"mse_sample": mse_sample, "mse_mmse": mse_mmse, "ratio": ratio}


class PosteriorIFrameSampler:
    """Exact posterior sampling of keyframes over the MNIST training frames.

    Args:
        model: a fixed-rate ``ScaleSpaceFlowPLF`` (1-channel, 64x64 frames).
        data_root: MNIST root (``MNIST/raw/*-ubyte``), for the index and for rendering.
        seed: seed of the digits' positions in the index.
        cache: cache folder (default :func:`~compressai_plf.utils.cache_dir.cache_dir`);
            ``False`` builds the index in memory only.
        batch_size: frames per encoder pass while building.
        progress: progress bar while building.
        max_digits: index only the first ``max_digits`` training digits (tests; the
            posterior is then over that subset).

    Raises:
        ValueError: the model does not code fixed-rate 1-channel keyframes.
        FileNotFoundError: MNIST is missing.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        data_root: str | os.PathLike,
        seed: int = 0,
        cache: str | os.PathLike | bool | None = None,
        batch_size: int = 500,
        progress: bool = True,
        max_digits: int | None = None,
    ) -> None:
        coder = getattr(model, "keyframe_coder", None)
        if not isinstance(coder, FixedRateLatentCoder) or getattr(model, "channels", 1) != 1:
            raise ValueError(
                "posterior sampling needs a fixed-rate (rate_mode='fixed') 1-channel model"
            )
        self.model, self.coder, self.seed = model, coder, int(seed)
        self.digits, self.labels = load_mnist_tensors(data_root, train=True)
        if max_digits is not None:
            self.digits, self.labels = self.digits[:max_digits], self.labels[:max_digits]
        gen = torch.Generator().manual_seed(self.seed)
        span = 64 - 32 + 1
        self.positions = torch.randint(0, span, (len(self.digits), 2), generator=gen)
        self.cache_path: Path | None = None
        if cache is not False:
            folder = Path(cache) if cache not in (None, True) else cache_dir()
            key = keyframe_encoder_key(model)[:16]
            name = f"{key}-seed{self.seed}-n{len(self.digits)}.pt"
            self.cache_path = folder / "posterior_iframe" / name
        self.y = self._load_or_build(batch_size, progress)

    # ------------------------------------------------------------------ index
    def frames(self, index: Tensor) -> Tensor:
        """The index frames ``index`` (rendered from the digits), ``(B, 1, 64, 64)``."""
        index = torch.as_tensor(index).long().reshape(-1)
        return place_digits(self.digits[index], positions=self.positions[index])

    @torch.no_grad()
    def _encode(self, x: Tensor) -> Tensor:
        param = next(self.model.parameters())
        return self.model.img_encoder(x.to(param)).float().cpu()

    def _load_or_build(self, batch_size: int, progress: bool) -> Tensor:
        path = self.cache_path
        if path is not None and path.is_file():
            obj = load_checkpoint(path, what="posterior I-frame index cache")
            if obj.get("version") == INDEX_VERSION and obj["y"].shape[0] == len(self.digits):
                return obj["y"]
        n = len(self.digits)
        bar = tqdm(
            range(0, n, batch_size),
            desc="posterior I-frame index",
            disable=not progress,
            file=sys.stderr,
        )
        y = torch.cat(
            [self._encode(self.frames(torch.arange(i, min(i + batch_size, n)))) for i in bar]
        )
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            torch.save({"version": INDEX_VERSION, "y": y, "seed": self.seed}, tmp)
            os.replace(tmp, path)
        return y

    # ------------------------------------------------------------------ codes
    def dither(self, seed: int, batch: int = 1) -> Tensor:
        """The keyframe dither of a stream seeded with ``seed`` for a batch of ``batch``
        frames: the first draw of the codec's shared dither stream, as ``encode_keyframe``
        makes it."""
        shape = torch.Size((batch, *self.y.shape[1:]))
        saved = self.coder.generator
        self.coder.generator = torch.Generator().manual_seed(int(seed))
        try:  # the codec's own dither definition, so the codes match bit for bit
            return self.coder.dither(shape, self.y)
        finally:
            self.coder.generator = saved

    def quantise(self, y: Tensor, u: Tensor) -> Tensor:
        """Quantisation indices of encoder outputs ``y`` under dither ``u`` (broadcast)."""
        return self.coder.indices(y, u.to(y)).long()

    @torch.no_grad()
    def code_of(self, x: Tensor, seed: int) -> tuple[Tensor, Tensor]:
        """``(code, dither)`` of keyframes ``x`` ``(B, 1, 64, 64)`` coded with dither seed
        ``seed``, as ``model.compress(frames, seed)`` writes them."""
        u = self.dither(seed, x.shape[0])
        return self.quantise(self._encode(x), u), u

    def code_of_strings(self, strings: list, shape: tuple[int, int]) -> tuple[Tensor, Tensor]:
        """``(code, dither)`` of a keyframe's bitstream strings ``[y_strings, seed_strings]``
        and latent ``shape``, read as the model's decoder reads them
        (:func:`~compressai_plf.models.compressai_strings.frame_from_strings`)."""
        formats = {"keyframe": (self.coder.planes, self.coder.levels)}
        frames, seed = frame_from_strings("key", strings, shape, "fixed", formats)
        k = torch.stack([f.latents["keyframe"].symbols for f in frames])
        return k, self.dither(seed, k.shape[0])

    # ------------------------------------------------------------------ sampling
    def sample(self, code: Tensor, dither: Tensor, generator: torch.Generator) -> PosteriorSample:
        """One posterior sample per received code: a uniformly drawn index frame whose code
        under the same dither has the fewest mismatched symbols (0 when one matches).

        Args:
            code: ``(B, planes, h, w)`` received quantisation indices.
            dither: ``(B, planes, h, w)`` the dither they were coded with.
            generator: source of the draw among equally good candidates.
        """
        if code.shape != dither.shape or code.shape[1:] != self.y.shape[1:]:
            raise ValueError(
                f"code {tuple(code.shape)} and dither {tuple(dither.shape)} must both be "
                f"(B, {', '.join(map(str, self.y.shape[1:]))})"
            )
        picks, matches, mismatches = [], [], []
        flat = self.y.flatten(1)
        for k, u in zip(code.flatten(1), dither.flatten(1), strict=True):
            wrong = (self.quantise(flat, u.view(1, -1)) != k.view(1, -1)).sum(1)
            best = int(wrong.min())
            candidates = (wrong == best).nonzero().flatten()
            pick = candidates[torch.randint(0, len(candidates), (1,), generator=generator)]
            picks.append(pick)
            matches.append(len(candidates))
            mismatches.append(best)
        index = torch.cat(picks)
        return PosteriorSample(
            self.frames(index),
            index,
            self.labels[index],
            torch.tensor(matches),
            torch.tensor(mismatches),
        )

    def sample_keyframe(self, x: Tensor, seed: int, generator: torch.Generator) -> PosteriorSample:
        """Code keyframes ``x`` with dither seed ``seed`` and sample their posterior."""
        code, u = self.code_of(x, seed)
        return self.sample(code, u, generator)
