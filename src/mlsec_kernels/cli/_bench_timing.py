"""Timing for the bench: the arrays of one side (host or device) and a timer that takes
medians of interleaved repeats after a warm-up. Host: wall clock; device: CUDA events
around the ``inner`` calls of a repeat."""

from __future__ import annotations

import math
import statistics
import time
import zlib

import numpy as np

from .. import _backend


class Workspace:
    """The arrays of one side ("host" or "device"), made once per shape and reused."""

    def __init__(self, side: str):
        self.side = side
        if side == "device":
            import cupy

            self.xp = cupy
        else:
            self.xp = np
        self._arrays: dict = {}

    def array(self, name, shape, dtype="float32"):
        key = (name, shape) if dtype == "float32" else (name, shape, dtype)
        if key not in self._arrays:
            rng = np.random.default_rng(zlib.crc32(repr(key).encode()))
            if dtype == "uint8":  # images on the 0..255 scale
                v = rng.integers(0, 256, shape, dtype=np.uint8)
            elif name in ("x", "x0"):
                v = rng.random(shape, dtype=np.float32)
            elif name == "delta":
                v = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.01)
            elif name == "grad":
                v = rng.standard_normal(shape, dtype=np.float32)
            elif name == "p":  # model scores: rows of probabilities
                v = rng.random(shape, dtype=np.float32) ** 4
                v /= v.sum(axis=1, keepdims=True)
            else:  # out, and the copy's buffers: written once, so their pages exist
                v = np.zeros(shape, dtype=np.float32)
                v.fill(0.5)
            self._arrays[key] = v if self.side == "host" else self.xp.asarray(v)
        return self._arrays[key]

    def inputs(self, case) -> dict:
        return {n: self.array(n, case.shape, case.dtype) for n in case.inputs}

    def copy_fn(self, shape):
        """A plain parallel copy of one array of `shape`: the bandwidth floor."""
        src, dst = self.array("copy_src", shape), self.array("copy_dst", shape)
        if self.side == "device":
            return lambda: dst.data.copy_from_device_async(src.data, src.nbytes)
        if _backend._cpu is not None:
            return lambda: _backend._cpu.memcopy(src, dst)
        return lambda: np.copyto(dst, src)

    def sync(self):
        if self.side == "device":
            self.xp.cuda.get_current_stream().synchronize()


class Timer:
    """Median time per call of zero-argument callables, warm-up excluded.

    ``prepare`` warms a callable up (compilation, first touch) and picks how many calls a
    repeat makes; ``rounds`` then times all the prepared callables of a case round-robin,
    one repeat each per round, so that the copy, the peers and the backends all see the
    same state of a noisy machine (shared caches, memory bandwidth, clock)."""

    def __init__(self, ws: Workspace, repeats: int, target_ms: float, deadline: float = math.inf):
        self.ws, self.repeats, self.target_ms, self.deadline = ws, repeats, target_ms, deadline
        self.rushed = False  # past the deadline: one round per case

    def _once(self, fn, inner):
        ws = self.ws
        if ws.side == "device":
            cp = ws.xp
            start, end = cp.cuda.Event(), cp.cuda.Event()
            start.record()
            for _ in range(inner):
                fn()
            end.record()
            end.synchronize()
            return cp.cuda.get_elapsed_time(start, end) / inner
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        return (time.perf_counter() - t0) * 1e3 / inner

    def prepare(self, fn) -> dict:
        t0 = time.perf_counter()
        fn()
        self.ws.sync()
        warmup_ms = (time.perf_counter() - t0) * 1e3
        est = self._once(fn, 1)
        inner = max(1, min(100_000, math.ceil(self.target_ms / max(est, 1e-4))))
        return {"fn": fn, "inner": inner, "warmup_ms": warmup_ms, "times_ms": []}

    def rounds(self, entries):
        repeats = self.repeats
        if time.perf_counter() > self.deadline:
            repeats, self.rushed = 1, True
        for _ in range(repeats):
            for e in entries:
                e["times_ms"].append(self._once(e["fn"], e["inner"]))
        for e in entries:
            e.update(median_ms=statistics.median(e["times_ms"]), min_ms=min(e["times_ms"]))
