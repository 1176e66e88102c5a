// The canonical per-row sum of cpp/reduce.hpp on the GPU: a warp per chunk (lane l takes
// elements l, l+32, ... in order; the shuffle-down tree is the halving fold), and the
// block's thread 0 adds chunk sums in chunk order. Same bits as the CPU.
#pragma once
#include "common.cuh"
#include "reduce.hpp"

namespace mlsec {
// Called by every thread of a block (blockDim.x a multiple of 32, at most 1024); the result
// is returned to all threads.
template <int K, class F> __device__ Sums<K> block_row_sum(i64 d, F&& term) {
  __shared__ double part[32][K];
  __shared__ double total[K];
  const int lane = threadIdx.x % kLanes, warp = threadIdx.x / kLanes, nwarps = blockDim.x / kLanes;
  if (threadIdx.x < K) total[threadIdx.x] = 0.0;
  const i64 nchunks = (d + kChunk - 1) / kChunk;
  for (i64 base = 0; base < nchunks; base += nwarps) {
    const i64 c = base + warp;
    double acc[K];
    for (int k = 0; k < K; ++k) acc[k] = 0.0;
    if (c < nchunks) {
      const i64 j1 = min(d, (c + 1) * kChunk);
      for (i64 j = c * kChunk + lane; j < j1; j += kLanes) {
        const Sums<K> t = term(j);
        for (int k = 0; k < K; ++k) acc[k] += t.v[k];
      }
    }
    for (int h = kLanes / 2; h > 0; h /= 2)
      for (int k = 0; k < K; ++k) acc[k] += __shfl_down_sync(0xffffffffu, acc[k], h);
    if (lane == 0)
      for (int k = 0; k < K; ++k) part[warp][k] = acc[k];
    __syncthreads();
    if (threadIdx.x == 0)
      for (i64 w = 0; w < nwarps && base + w < nchunks; ++w)
        for (int k = 0; k < K; ++k) total[k] += part[w][k];
    __syncthreads();
  }
  Sums<K> s;
  for (int k = 0; k < K; ++k) s.v[k] = total[k];
  __syncthreads();  // total may be reused by the caller's next call
  return s;
}
}  // namespace mlsec
