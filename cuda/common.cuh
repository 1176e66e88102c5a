// Launch helpers shared by the CUDA drivers.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "common.hpp"

namespace mlsec {
inline void cuda_check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}
inline cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

constexpr int kThreads = 256;
constexpr int kPerThread = 8;
constexpr i64 kTile = i64(kThreads) * kPerThread;
constexpr i64 kMaxBlocks = i64(1) << 20;  // grid-stride beyond this

// Elementwise over a contiguous (n, d) batch: each block owns tiles of one row, so the
// row (and its per-sample parameters) comes from one division per tile, not per element.
template <class F> __global__ void rows_kernel(i64 n, i64 d, i64 tiles, F f) {
  for (i64 b = blockIdx.x; b < n * tiles; b += gridDim.x) {
    const i64 row = b / tiles, j0 = (b - row * tiles) * kTile, j1 = min(d, j0 + kTile);
    for (i64 j = j0 + threadIdx.x; j < j1; j += kThreads) f(row, row * d + j);
  }
}

template <class F> void launch_rows(i64 n, i64 d, const F& f, void* stream) {
  if (n <= 0 || d <= 0) return;
  const i64 tiles = (d + kTile - 1) / kTile;
  const i64 blocks = std::min(n * tiles, kMaxBlocks);
  rows_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, as_stream(stream)>>>(n, d, tiles, f);
  cuda_check(cudaGetLastError(), "kernel launch");
}

// Flat elementwise over [0, total): f(i).
template <class F> __global__ void flat_kernel(i64 total, F f) {
  for (i64 i = blockIdx.x * i64(kThreads) + threadIdx.x; i < total; i += i64(gridDim.x) * kThreads) f(i);
}

template <class F> void launch_flat(i64 total, const F& f, void* stream) {
  if (total <= 0) return;
  const i64 blocks = std::min((total + kThreads - 1) / kThreads, kMaxBlocks);
  flat_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, as_stream(stream)>>>(total, f);
  cuda_check(cudaGetLastError(), "kernel launch");
}
}  // namespace mlsec
