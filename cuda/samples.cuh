// Per-sample CUDA driver (one block per sample) and the block-wide searches of the L1 ops.
// Searches bisect over the bit patterns of non-negative floats (ordered like the unsigned
// integers they are), so they are exact: every step is a block reduction of counts or of
// the canonical sum, whose result all threads share, so the branches are uniform.
#pragma once
#include "common.cuh"
#include "project.hpp"
#include "reduce.cuh"

namespace mlsec {
constexpr int kSampleThreads = 512;

template <class F> __global__ void samples_kernel(i64 n, F f) {
  for (i64 row = blockIdx.x; row < n; row += gridDim.x) f(row);
}

// f(row) on a block of kSampleThreads threads, for every sample.
template <class F> void launch_samples(i64 n, const F& f, void* stream) {
  if (n <= 0) return;
  const i64 blocks = std::min(n, kMaxBlocks);
  samples_kernel<<<static_cast<unsigned>(blocks), kSampleThreads, 0, as_stream(stream)>>>(n, f);
  cuda_check(cudaGetLastError(), "kernel launch");
}

template <class T> struct Bits;
template <> struct Bits<float> {
  using U = unsigned int;
  static constexpr U kInf = 0x7f800000u;
  __device__ static float value(U u) { return __uint_as_float(u); }
};
template <> struct Bits<double> {
  using U = unsigned long long;
  static constexpr U kInf = 0x7ff0000000000000ull;
  __device__ static double value(U u) { return __longlong_as_double(static_cast<long long>(u)); }
};

// Number of j with pred(j), over the block.
template <class P> __device__ double block_count(i64 d, const P& pred) {
  return block_row_sum<1>(d, [&](i64 j) { return Sums<1>{{pred(j) ? 1.0 : 0.0}}; }).v[0];
}

// The smallest value v with #{a(j) <= v} >= rank + 1: the rank-th order statistic (from 0)
// of the values a(j) >= 0 (none NaN).
template <class T, class A> __device__ T block_order_stat(i64 d, i64 rank, const A& a) {
  using U = typename Bits<T>::U;
  U lo = 0, hi = Bits<T>::kInf;
  while (lo < hi) {
    const U mid = lo + (hi - lo) / 2;
    const T v = Bits<T>::value(mid);
    if (block_count(d, [&](i64 j) { return a(j) <= v; }) >= double(rank + 1))
      hi = mid;
    else
      lo = mid + 1;
  }
  return Bits<T>::value(hi);
}

// theta of the L1 projection of one sample with |d_j| = a(j) and ||d||_1 > eps (project.hpp):
// bisection for the largest t with sum(max(a - t, 0)) >= eps, whose active set {a > t} is the
// projection's, then l1_refine (one round computes theta, one confirms it).
template <class T, class A> __device__ double block_l1_theta(i64 d, double eps, const A& a) {
  if (!(eps > 0.0)) return INFINITY;
  using U = typename Bits<T>::U;
  U lo = 0, hi = Bits<T>::kInf;
  while (hi - lo > 1) {
    const U mid = lo + (hi - lo) / 2;
    const double t = double(Bits<T>::value(mid));
    const double g = block_row_sum<1>(d, [&](i64 j) {
                       const double v = double(a(j));
                       return Sums<1>{{v > t ? v - t : 0.0}};
                     }).v[0];
    if (g >= eps)
      lo = mid;
    else
      hi = mid;
  }
  return l1_refine(double(Bits<T>::value(lo)), eps,
                   [&](double t) { return block_row_sum<2>(d, [&](i64 j) { return active_term(double(a(j)), t); }); });
}
}  // namespace mlsec
