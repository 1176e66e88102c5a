// Class counts for randomized smoothing (Cohen, Rosenfeld & Kolter 2019): each row of a
// model's output votes for a class, its label (integer labels) or the argmax of its
// logits (the first maximum, NaN counting as the maximum, as np.argmax). counts has
// k + 1 slots: votes for 0 .. k-1, then the number of labels outside [0, k).
#pragma once
#include "common.hpp"

namespace mlsec {
template <class T> MLSEC_HD i64 argmax_first(const T* row, i64 k) {
  i64 best = 0;
  for (i64 j = 1; j < k; ++j) {
    const T v = row[j], b = row[best];
    if (v > b || (v != v && b == b)) best = j;
  }
  return best;
}

MLSEC_HD i64 vote_slot(i64 label, i64 k) { return label >= 0 && label < k ? label : k; }

// Logits (n, k) when is_logits, else labels (n,) of type T; counts are added to, not reset.
template <class T> void class_counts_cpu(const T* pred, i64 n, i64 k, bool is_logits, i64* counts);
template <class T> void class_counts_cuda(const T* pred, i64 n, i64 k, bool is_logits, i64* counts, void* stream);
}  // namespace mlsec
