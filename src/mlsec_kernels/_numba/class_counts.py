"""Numba port of cpp/class_counts.hpp: votes of labels or logits' argmax into counts (k + 1
slots, the last for labels outside [0, k))."""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _logits(pred, counts):
    n, k = pred.shape
    for i in range(n):
        best = 0
        for j in range(1, k):
            v, b = pred[i, j], pred[i, best]
            if v > b or (v != v and b == b):
                best = j
        counts[best] += 1


@numba.njit(cache=True, nogil=True)
def _labels(pred, k, counts):
    for i in range(pred.shape[0]):
        v = np.int64(pred[i])
        counts[v if 0 <= v < k else k] += 1


def class_counts(pred, k, counts):
    if pred.dtype.kind == "f":
        if pred.ndim != 2 or pred.shape[1] != k:
            raise ValueError(f"the model's output must be labels (batch,) or logits (batch, {k})")
        _logits(pred, counts)
    elif pred.dtype in (np.int32, np.int64) and pred.ndim == 1:
        _labels(pred, k, counts)
    else:
        raise TypeError("the model's output must be float32/float64 logits or int32/int64 labels")
