"""Fuzz the clip reader: mutate real bitstreams and check that every decode ends cleanly.

    python benchmarks/fuzz_decode.py [--n 500] [--seed 0] [--timeout 30] [--resign] [--json OUT]
        [--self-test]

Real clips are written with ``compressai_plf.io.write_clip`` by small ``ssf_plf`` models of
both rate modes, then mutated ``--n`` times: truncation, bit flips (anywhere and in the
payload), byte insertions, deletions and overwrites, header-field edits, trailing garbage,
splices of two clips, foreign data, and an intact clip read by a model with other weights.
Every mutated file is read with ``read_clip`` in a worker process, with a per-case timeout,
and classified as

* **rejected**: ``read_clip`` raised a ``BitstreamError`` (the clean outcome);
* **decoded**: frames came back (from damaged data: a failure unless ``--resign``);
* **crashed**: any other exception, or the worker process died (signal, abort);
* **hung**: no answer within ``--timeout`` seconds (the worker is killed and restarted).

``--resign`` recomputes the length field and CRC-32 after each mutation, i.e. forges files
that pass the checksum, to exercise the header validation and the model/rANS decoders behind
it. The checksum is not an authentication code: forged payloads may legitimately decode (to
garbage), so there only crashes and hangs count as failures.

``--self-test`` first checks the driver itself: a worker that sleeps must be reported as hung,
one that calls ``abort()`` as crashed. The exit status is 1 when any case failed, else 0.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import random
import resource
import struct
import sys
import tempfile
import time
import zlib
from collections import Counter, defaultdict
from pathlib import Path

# Small models (the zoo's tiny architecture, as in the tests): mode -> (construction seed, mode).
SPECS = {"hyperprior": (1, "hyperprior"), "fixed": (2, "fixed")}
SPECS["fixed_other"] = (3, SPECS["fixed"][1])  # same architecture, other weights
OUTCOMES = ("rejected", "decoded", "crashed", "hung")


def build_model(key: str):
    import torch

    from compressai_plf.models import ScaleSpaceFlowPLF
    from compressai_plf.zoo.presets import tiny_architecture

    seed, mode = SPECS[key]
    torch.manual_seed(seed)
    net = ScaleSpaceFlowPLF(**tiny_architecture(mode)).eval()
    if net.rate_mode == "hyperprior":
        net.update(force=True)
    return net


# ---------------------------------------------------------------------- worker process
def worker_main(conn, workdir: str) -> None:
    """Build the models once, then read every clip sent and report the outcome."""
    import torch

    from compressai_plf.io import BitstreamError, read_clip, weights_hash

    torch.set_num_threads(1)
    models = {k: build_model(k) for k in SPECS}
    conn.send({k: weights_hash(m).hex() for k, m in models.items()})
    path = Path(workdir) / "case.plf"
    while True:
        job = conn.recv()
        if job is None:
            return
        model_key, decoder, data = job
        if model_key == "__sleep__":  # --self-test: a decode that never answers
            time.sleep(float(decoder))
        elif model_key == "__abort__":  # --self-test: a decode that kills the process
            os.abort()
        path.write_bytes(data)
        try:
            frames = read_clip(path, models[model_key], decoder=decoder)
            answer = ("decoded", f"{len(frames)} frames of {tuple(frames[0].shape)}")
        except BitstreamError as err:
            answer = ("rejected", f"{type(err).__name__}: {err}")
        except Exception as err:  # noqa: BLE001  (any other type is an unclean failure)
            answer = ("crashed", f"unclean {type(err).__name__}: {err}")
        # Peak resident memory of this worker so far (KiB on Linux): bounds what any file
        # made the reader allocate.
        conn.send((*answer, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


class Worker:
    """A decoding process that is restarted after a crash or a hang."""

    def __init__(self, workdir: str, startup_timeout: float = 600.0) -> None:
        self.workdir, self.startup_timeout = workdir, startup_timeout
        self.ctx = mp.get_context("spawn")  # no fork after torch threads exist
        self.restarts = -1
        self.peak_rss_kib = 0
        self._start()

    def _start(self) -> None:
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=worker_main, args=(child, self.workdir), daemon=True)
        self.proc.start()
        child.close()
        self.restarts += 1
        if not self.conn.poll(self.startup_timeout):
            self.proc.kill()
            raise RuntimeError("fuzz worker did not start")
        self.hashes = self.conn.recv()

    def run(self, job: tuple, timeout: float) -> tuple[str, str]:
        self.conn.send(job)
        if self.conn.poll(timeout):
            try:
                outcome, detail, rss_kib = self.conn.recv()
                self.peak_rss_kib = max(self.peak_rss_kib, rss_kib)
                return outcome, detail
            except EOFError:
                pass
            self.proc.join(5)
            outcome = ("crashed", f"worker died with exit code {self.proc.exitcode}")
        else:
            outcome = ("hung", f"no answer within {timeout:g} s")
        self.proc.kill()
        self.proc.join()
        self._start()
        return outcome

    def close(self) -> None:
        try:
            self.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()


# ---------------------------------------------------------------------- mutations
def _header_len(data: bytes) -> int:
    from compressai_plf.io.container import parse_clip

    info, _ = parse_clip(data)
    return info.header_bytes - 4  # header fields, without the trailing CRC


def _flip_bits(data: bytes, rng: random.Random, lo: int, hi: int) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(8 * lo, 8 * hi)
        out[i // 8] ^= 1 << (i % 8)
    return bytes(out)


def _header_field_edit(data: bytes, rng: random.Random, hlen: int) -> bytes:
    """Overwrite one header field (by the v1 layout) with a random plausible value."""
    name_end = 10 + data[9]
    fields = [  # (offset, size)
        (4, 1),  # version
        (5, 4),  # total length
        (9, 1),  # name length
        (name_end + 16, 1),  # rate mode
        (name_end + 17, 1),  # channels
        (name_end + 18, 4),  # frames
        (name_end + 22, 4),  # height
        (name_end + 26, 4),  # width
        (name_end + 30, 4),  # latent h
        (name_end + 34, 4),  # latent w
        (name_end + 38, 8),  # payload bits
        (name_end + 46, max(1, hlen - name_end - 46)),  # seed or string lengths
    ]
    off, size = rng.choice(fields)
    size = min(size, hlen - off)
    out = bytearray(data)
    original = bytes(out[off : off + size])
    while bytes(out[off : off + size]) == original:
        value = rng.choice([0, 1, 2, 3, 255, rng.randrange(256**size)]) % 256**size
        out[off : off + size] = value.to_bytes(size, "big")
    return bytes(out)


def mutate(kind: str, data: bytes, other: bytes, rng: random.Random) -> bytes:
    hlen = _header_len(data)
    n = len(data)
    if kind == "truncate":
        return data[: rng.randrange(n)]
    if kind == "bit_flip":
        return _flip_bits(data, rng, 0, n)
    if kind == "payload_bit_flip":
        return _flip_bits(data, rng, hlen, n - 4)
    if kind == "insert":
        i = rng.randrange(n + 1)
        return data[:i] + rng.randbytes(rng.randint(1, 16)) + data[i:]
    if kind == "delete":
        i = rng.randrange(n)
        return data[:i] + data[i + rng.randint(1, 16) :]
    if kind == "overwrite":
        i = rng.randrange(n)
        chunk = rng.randbytes(rng.randint(1, 16))
        out = data[:i] + chunk + data[i + len(chunk) :]
        return out if out != data else _flip_bits(data, rng, 0, n)
    if kind == "header_byte":
        i = rng.randrange(hlen)
        return data[:i] + bytes([(data[i] + rng.randint(1, 255)) % 256]) + data[i + 1 :]
    if kind == "header_field":
        return _header_field_edit(data, rng, hlen)
    if kind == "append":
        return data + rng.randbytes(rng.randint(1, 64))
    if kind == "splice":
        i, j = rng.randrange(1, n), rng.randrange(1, len(other))
        out = data[:i] + other[j:]
        return out if out != data else data[:i]
    if kind == "foreign":
        junk = rng.randbytes(rng.randint(0, 256))
        return (data[:4] + junk) if rng.random() < 0.5 else junk
    raise ValueError(f"unknown mutation {kind!r}")


KINDS = (
    "truncate",
    "bit_flip",
    "payload_bit_flip",
    "insert",
    "delete",
    "overwrite",
    "header_byte",
    "header_field",
    "append",
    "splice",
    "foreign",
    "wrong_model",
)


# Forgeries aimed at the reader's bounds (``--resign`` only): a consistent header and CRC
# that declare huge frames, huge frame counts, strings too short for their symbols, or a
# larger geometry than the strings were coded with.
FORGED_KINDS = ("forge_huge_size", "forge_huge_frames", "forge_short_strings", "forge_big_shape")


def _repack(info, payload: bytes, **changes) -> bytes:
    from dataclasses import replace

    from compressai_plf.io.container import pack_clip

    # The writer refuses frames over its limit: write the geometry into the header directly.
    h, w = changes.pop("height", info.height), changes.pop("width", info.width)
    data = bytearray(pack_clip(replace(info, **changes), bytes.fromhex(info.weights_hash), payload))
    off = 10 + data[9] + 22  # height, then width (docs/bitstream.md, "Layout")
    data[off : off + 8] = struct.pack(">II", h, w)
    return resign(bytes(data))


def _scaled_latent(info, height: int, width: int) -> tuple[int, int]:
    """The latent size the clip's model gives ``height x width`` frames (its stride is read
    off the clip: original size over latent size, rounded to a power of two)."""
    stride = 2 ** round(math.log2(max(1.0, info.height / info.latent_size[0])))
    return max(1, -(-height // stride)), max(1, -(-width // stride))


def _short_strings(n: int, rng: random.Random) -> tuple[int, ...]:
    return tuple(rng.choice([1, 3, 4, 8, 12, 16, 4 * rng.randint(2, 16)]) for _ in range(n))


def forge(kind: str, data: bytes, rng: random.Random) -> bytes:
    """A forged variant of the intact clip ``data`` (valid length and CRC-32)."""
    from compressai_plf.io.container import MAX_SIDE, parse_clip, string_count

    info, payload = parse_clip(data)
    hyper = info.rate_mode == "hyperprior"
    if kind in ("forge_huge_size", "forge_big_shape"):
        if kind == "forge_huge_size":
            h, w = (rng.choice([MAX_SIDE, 4097, 2048, rng.randint(1, MAX_SIDE)]) for _ in "hw")
        else:  # a few times the coded size: the strings are too short for this shape
            h, w = (rng.randint(2, 8) * v for v in (info.height, info.width))
        latent = _scaled_latent(info, h, w) if rng.random() < 0.8 else info.latent_size
        out = _repack(info, payload, height=h, width=w, latent_size=latent)
    elif kind == "forge_huge_frames":
        frames = rng.choice([2**20, 2**20 - 1, rng.randint(2, 2**20)])
        if hyper:  # the header must list 2 + 4 (T - 1) lengths: keep it under ~1 MB
            frames = min(frames, rng.choice([2**16, rng.randint(2, 4096)]))
            lengths = _short_strings(string_count("hyperprior", frames), rng)
            payload = rng.randbytes(sum(lengths))
            out = _repack(
                info, payload, frames=frames, string_lengths=lengths, payload_bits=8 * len(payload)
            )
        else:
            payload = rng.choice([b"", payload, rng.randbytes(rng.randint(1, 64))])
            bits = rng.choice([0, 8 * len(payload), max(0, 8 * len(payload) - rng.randint(0, 7))])
            out = _repack(info, payload, frames=frames, payload_bits=bits)
    elif kind == "forge_short_strings":
        if hyper:
            lengths = _short_strings(len(info.string_lengths), rng)
            if rng.random() < 0.5:  # the real strings, cut short
                starts = [sum(info.string_lengths[:i]) for i in range(len(info.string_lengths))]
                payload = b"".join(
                    (payload[a : a + n] + bytes(n))[:n]
                    for a, n in zip(starts, lengths, strict=True)
                )
            else:
                payload = rng.randbytes(sum(lengths))
            out = _repack(info, payload, string_lengths=lengths, payload_bits=8 * len(payload))
        else:
            cut = payload[: rng.randrange(len(payload) + 1)]
            out = _repack(info, cut, payload_bits=8 * len(cut))
    else:
        raise ValueError(f"unknown forgery {kind!r}")
    return out if out != data else _repack(info, payload, frames=info.frames + 1)


def resign(data: bytes) -> bytes:
    """Make ``data`` pass the envelope checks: fix the length field and the CRC-32."""
    if len(data) < 13 or data[:4] != b"\x89PLF":
        return data
    body = bytearray(data[:-4])
    body[5:9] = struct.pack(">I", len(body) + 4)
    return bytes(body) + struct.pack(">I", zlib.crc32(bytes(body)))


# ---------------------------------------------------------------------- driver
def make_clips() -> list[tuple[str, bytes]]:
    """Real clips (model key, bytes) of both rate modes, odd sizes included."""
    import torch

    from compressai_plf.io import encode_clip

    gen = torch.Generator().manual_seed(0)
    clips = []
    for key, shape in (
        ("hyperprior", (3, 3, 40, 56)),
        ("hyperprior", (2, 3, 64, 64)),
        ("fixed", (4, 1, 64, 64)),
        ("fixed", (3, 1, 30, 45)),
    ):
        frames = list(torch.rand(*shape, generator=gen).unsqueeze(1))
        clips.append((key, encode_clip(build_model(key), frames)))
    return clips


def run(n: int, seed: int, timeout: float, resign_files: bool) -> dict:
    rng = random.Random(seed)
    clips = make_clips()
    start = time.perf_counter()
    counts: Counter = Counter()
    by_kind: dict = defaultdict(Counter)
    errors: dict = defaultdict(Counter)
    by_mode: dict = defaultdict(Counter)
    slowest = 0.0
    failures = []
    with tempfile.TemporaryDirectory() as workdir:
        worker = Worker(workdir)
        try:
            kinds = KINDS + FORGED_KINDS if resign_files else KINDS
            for case in range(n):
                kind = kinds[case % len(kinds)]
                key, data = clips[(case // len(kinds)) % len(clips)]  # every mode and kind
                decoder = rng.choice(("mse", "jd", "fmd", "sa"))
                if kind == "wrong_model":
                    key, data = "fixed", next(d for k, d in clips if k == "fixed")
                    model_key, mutated = "fixed_other", data
                elif kind in FORGED_KINDS:
                    mutated, model_key = forge(kind, data, rng), key
                else:
                    other = rng.choice([d for _, d in clips if d is not data])
                    mutated, model_key = data, key
                    while mutated == data:
                        mutated = mutate(kind, data, other, rng)
                        if resign_files:
                            mutated = resign(mutated)
                t0 = time.perf_counter()
                outcome, detail = worker.run((model_key, decoder, mutated), timeout)
                slowest = max(slowest, time.perf_counter() - t0)
                counts[outcome] += 1
                by_kind[kind][outcome] += 1
                by_mode[key][outcome] += 1
                if outcome == "rejected":
                    errors[kind][detail.split(":", 1)[0]] += 1
                failed = outcome in ("crashed", "hung") or (
                    outcome == "decoded" and not resign_files
                )
                if failed and len(failures) < 50:
                    failures.append(
                        {
                            "case": case,
                            "kind": kind,
                            "outcome": outcome,
                            "detail": detail,
                            "hex": mutated.hex() if len(mutated) <= 4096 else None,
                        }
                    )
        finally:
            worker.close()
    return {
        "n": n,
        "seed": seed,
        "resign": resign_files,
        "timeout_s": timeout,
        "seconds": round(time.perf_counter() - start, 2),
        "worker_restarts": worker.restarts,
        "slowest_case_s": round(slowest, 3),
        "peak_worker_rss_mib": round(worker.peak_rss_kib / 1024, 1),
        "counts": {o: counts.get(o, 0) for o in OUTCOMES},
        "by_mode": {m: {o: by_mode[m].get(o, 0) for o in OUTCOMES} for m in sorted(by_mode)},
        "by_kind": {k: {o: by_kind[k].get(o, 0) for o in OUTCOMES} for k in kinds},
        "rejections": {k: dict(errors[k]) for k in kinds if errors[k]},
        "failures": failures,
    }


def self_test(timeout: float = 2.0) -> str:
    """Check that the driver reports a hanging and an aborting decode (not 'rejected')."""
    with tempfile.TemporaryDirectory() as workdir:
        worker = Worker(workdir)
        try:
            hang = worker.run(("__sleep__", "600", b""), timeout)
            crash = worker.run(("__abort__", "", b""), timeout)
            clean = worker.run(("fixed", "mse", b"not a clip"), 60.0)
        finally:
            worker.close()
    got = (hang[0], crash[0], clean[0])
    if got != ("hung", "crashed", "rejected"):
        raise RuntimeError(f"fuzz driver self-test failed: {got}")
    return f"hang -> {hang[1]}; abort -> {crash[1]}; foreign -> {clean[1]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="mutated files to decode")
    parser.add_argument("--seed", type=int, default=0, help="seed of the mutations")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a hang")
    parser.add_argument("--resign", action="store_true", help="fix length and CRC (forge)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--self-test", action="store_true", help="first check that hangs and crashes are detected"
    )
    args = parser.parse_args(argv)
    if args.n < 1 or args.timeout <= 0:
        parser.error("--n must be >= 1 and --timeout > 0")
    if args.self_test:
        print(f"self-test: {self_test()}")
    result = run(args.n, args.seed, args.timeout, args.resign)
    c = result["counts"]
    print(
        f"fuzz_decode: {result['n']} mutated clips (seed {result['seed']}"
        f"{', resigned' if result['resign'] else ''}) in {result['seconds']} s"
    )
    print(f"  rejected cleanly: {c['rejected']}")
    print(f"  decoded:          {c['decoded']}" + ("" if result["resign"] else "  (target 0)"))
    print(f"  crashed:          {c['crashed']}  (target 0)")
    print(f"  hung:             {c['hung']}  (target 0)")
    print(
        f"  slowest case {result['slowest_case_s']} s, peak worker memory "
        f"{result['peak_worker_rss_mib']} MiB"
    )
    for mode, row in result["by_mode"].items():
        print(f"    mode {mode:<12}" + "  ".join(f"{o} {row[o]}" for o in OUTCOMES))
    for kind, row in result["by_kind"].items():
        print(f"    {kind:<20}" + "  ".join(f"{o} {row[o]}" for o in OUTCOMES))
    for f in result["failures"][:10]:
        print(f"  FAILED case {f['case']} ({f['kind']}): {f['outcome']}: {f['detail']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    bad = c["crashed"] + c["hung"] + (0 if result["resign"] else c["decoded"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
