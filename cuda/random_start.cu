#include "common.cuh"
#include "random_start.hpp"
#include "reduce.cuh"

namespace mlsec {
namespace {
// norm inf: thread t owns stream block t, i.e. flat elements 4t .. 4t+3 of the batch.
template <class T> struct InfOp {
  const T* x;
  T* out;
  i64 total, d;
  PerSample eps;
  Philox p;
  T lo, hi;
  __device__ void operator()(i64 t) const {
    float v[4];
    start_draws<Norm::inf>(p.block(u64(t)), v);
    for (int k = 0; k < 4; ++k) {
      const i64 f = 4 * t + k;
      if (f < total) out[f] = start_elem(x[f], v[k], T(eps[f / d]), lo, hi);
    }
  }
};

// norms 1 and 2: a block per row; the canonical sum of the row's terms, then the writes.
template <Norm N, class T>
__global__ void rows_kernel(const T* x, T* out, i64 n, i64 d, PerSample eps, Philox p, T lo, T hi) {
  for (i64 row = blockIdx.x; row < n; row += gridDim.x) {
    const u64 f0 = u64(row * d);
    const double sum =
        block_row_sum<1>(d, [&](i64 j) { return Sums<1>{{start_term<N>(start_draw_at<N>(p, f0 + u64(j)))}}; }).v[0];
    const T scale = T(start_scale<N>(p, row, d, sum, eps[row]));
    for (i64 j = threadIdx.x; j < d; j += blockDim.x)
      out[row * d + j] = start_elem(x[row * d + j], start_draw_at<N>(p, f0 + u64(j)), scale, lo, hi);
  }
}

template <Norm N, class T>
void launch_rows_norm(const T* x, T* out, i64 n, i64 d, PerSample eps, Philox p, T lo, T hi, void* stream) {
  const unsigned blocks = static_cast<unsigned>(std::min(n, kMaxBlocks));
  rows_kernel<N, T><<<blocks, kThreads, 0, as_stream(stream)>>>(x, out, n, d, eps, p, lo, hi);
  cuda_check(cudaGetLastError(), "kernel launch");
}
}  // namespace

template <class T>
void random_start_cuda(const T* x, T* out, i64 n, i64 d, PerSample eps, Norm norm, Philox p, T lo, T hi, void* stream) {
  if (n <= 0 || d <= 0) return;
  if (norm == Norm::inf)
    launch_flat((n * d + 3) / 4, InfOp<T>{x, out, n * d, d, eps, p, lo, hi}, stream);
  else if (norm == Norm::l1)
    launch_rows_norm<Norm::l1>(x, out, n, d, eps, p, lo, hi, stream);
  else
    launch_rows_norm<Norm::l2>(x, out, n, d, eps, p, lo, hi, stream);
}

template void random_start_cuda<float>(const float*, float*, i64, i64, PerSample, Norm, Philox, float, float, void*);
template void random_start_cuda<double>(const double*, double*, i64, i64, PerSample, Norm, Philox, double, double,
                                        void*);
}  // namespace mlsec
