// The canonical per-row sum: one summation order, fixed by the data's length alone, so the
// CPU (any thread count, any ISA) and the GPU (any block size) get the same bits.
//
// A row of d terms is cut into chunks of kChunk = 1024 elements. In a chunk, lane l (0..31)
// adds, in double and in order, the terms of elements l, l+32, l+64, ... of the chunk,
// starting from 0.0; the 32 lane sums are folded by halving (h = 16, 8, 4, 2, 1:
// s[l] += s[l+h] for l < h), which is what a CUDA warp's shuffle-down tree computes. The
// row's sum adds the chunk sums in chunk order, starting from 0.0.
#pragma once
#include "common.hpp"

namespace mlsec {
constexpr int kLanes = 32;
constexpr i64 kChunk = 1024;

template <int K> struct Sums { double v[K]; };

// Sum over one chunk [j0, j1) (j1 - j0 <= kChunk); term(j) returns Sums<K>.
template <int K, class F> MLSEC_HD Sums<K> chunk_sum(i64 j0, i64 j1, F&& term) {
  double acc[K][kLanes];
  for (int k = 0; k < K; ++k)
    for (int l = 0; l < kLanes; ++l) acc[k][l] = 0.0;
  i64 j = j0;
  for (; j + kLanes <= j1; j += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const Sums<K> t = term(j + l);
      for (int k = 0; k < K; ++k) acc[k][l] += t.v[k];
    }
  for (int l = 0; j + l < j1; ++l) {
    const Sums<K> t = term(j + l);
    for (int k = 0; k < K; ++k) acc[k][l] += t.v[k];
  }
  Sums<K> s;
  for (int k = 0; k < K; ++k) {
    for (int h = kLanes / 2; h > 0; h /= 2)
      for (int l = 0; l < h; ++l) acc[k][l] += acc[k][l + h];
    s.v[k] = acc[k][0];
  }
  return s;
}

// The whole row's canonical sum, on one thread.
template <int K, class F> MLSEC_HD Sums<K> row_sum(i64 d, F&& term) {
  Sums<K> total;
  for (int k = 0; k < K; ++k) total.v[k] = 0.0;
  for (i64 c = 0; c < d; c += kChunk) {
    const Sums<K> s = chunk_sum<K>(c, c + kChunk < d ? c + kChunk : d, term);
    for (int k = 0; k < K; ++k) total.v[k] += s.v[k];
  }
  return total;
}
}  // namespace mlsec
