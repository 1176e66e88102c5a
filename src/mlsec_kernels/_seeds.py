"""What a randomised op's ``seed=`` means: an int (substream 0 of that seed), None (an
unpredictable seed) or a Generator (its next substream).

Below every module that draws, so that perturb reads a seed without importing rng (whose
``Generator.random_start`` calls perturb). See :mod:`mlsec_kernels.rng`.
"""

from __future__ import annotations

import itertools
import secrets

import numpy as np

_U64 = 1 << 64


def check_u64(value, name: str) -> int:
    """An int in [0, 2**64) (seeds, substreams), or a TypeError/ValueError naming it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int in [0, 2**64), got {type(value).__name__}")
    v = int(value)
    if not 0 <= v < _U64:
        raise ValueError(f"{name} must be in [0, 2**64), got {v}")
    return v


def new_seed() -> int:
    """An unpredictable 64-bit seed from the operating system's CSPRNG."""
    return secrets.randbits(64)


class Substreams:
    """One seed and the substreams handed out under it, ``start``, ``start + 1``, ...: the
    state of :class:`mlsec_kernels.rng.Generator`, which adds the draws."""

    def __init__(self, seed=None, *, substream=0):
        self.seed = new_seed() if seed is None else check_u64(seed, "seed")
        self._counter = itertools.count(check_u64(substream, "substream"))

    def next_substream(self) -> int:
        """The substream for the next call (thread-safe: each caller gets its own)."""
        s = next(self._counter)
        if s >= _U64:
            raise OverflowError("this Generator has used all 2**64 substreams")
        return s

    def __repr__(self):
        return f"{type(self).__name__}(seed={self.seed})"


def seed_and_substream(seed) -> tuple[int, int]:
    """(seed, substream) for a randomised op's ``seed=`` argument: an int (substream 0),
    None (a fresh unpredictable seed) or a Generator (its next substream)."""
    if isinstance(seed, Substreams):
        return seed.seed, seed.next_substream()
    return (new_seed() if seed is None else check_u64(seed, "seed")), 0
