#include "common.cuh"
#include "random_start.hpp"
#include "reduce.cuh"

namespace mlsec {
namespace {
// norm inf: thread t owns stream block start.block + t, i.e. flat elements 4t - start.lane
// .. 4t - start.lane + 3 of the batch (start: the stream element of the batch's first
// element, s0*d).
template <class T> struct InfOp {
  const T* x;
  T* out;
  i64 total, d;
  PerSample eps;
  Philox p;
  StreamPos start;
  T lo, hi;
  __device__ void operator()(i64 t) const {
    float v[4];
    start_draws<Norm::inf>(p.block(start.block + u64(t)), v);
    const i64 base = 4 * t - i64(start.lane);
    for (int k = 0; k < 4; ++k) {
      const i64 f = base + k;
      if (f >= 0 && f < total) out[f] = start_elem(x[f], v[k], T(eps[f / d]), lo, hi);
    }
  }
};

// norms 1 and 2: a block per row; the canonical sum of the row's terms, then the writes.
// Row `row` is global sample s0 + row.
template <Norm N, class T>
__global__ void rows_kernel(const T* x, T* out, i64 n, i64 d, PerSample eps, Philox p, i64 s0, T lo, T hi) {
  for (i64 row = blockIdx.x; row < n; row += gridDim.x) {
    const u64 f0 = u64((s0 + row) * d);
    const double sum =
        block_row_sum<1>(d, [&](i64 j) { return Sums<1>{{start_term<N>(start_draw_at<N>(p, f0 + u64(j)))}}; }).v[0];
    const T scale = T(start_scale<N>(p, s0 + row, d, sum, eps[row]));
    for (i64 j = threadIdx.x; j < d; j += blockDim.x)
      out[row * d + j] = start_elem(x[row * d + j], start_draw_at<N>(p, f0 + u64(j)), scale, lo, hi);
  }
}

template <Norm N, class T>
void launch_rows_norm(const T* x, T* out, i64 n, i64 d, PerSample eps, Philox p, i64 s0, T lo, T hi, void* stream) {
  const unsigned blocks = static_cast<unsigned>(std::min(n, kMaxBlocks));
  rows_kernel<N, T><<<blocks, kThreads, 0, as_stream(stream)>>>(x, out, n, d, eps, p, s0, lo, hi);
  cuda_check(cudaGetLastError(), "kernel launch");
}
}  // namespace

template <class T> void random_start_cuda(const T* x, T* out, i64 n, i64 d, PerSample eps, Norm norm, Philox p, i64 s0,
                                          T lo, T hi, void* stream) {
  if (n <= 0 || d <= 0) return;
  if (norm == Norm::inf) {
    const StreamPos start{u64(s0 * d) >> 2, u32((s0 * d) & 3)};
    launch_flat((i64(start.lane) + n * d + 3) / 4, InfOp<T>{x, out, n * d, d, eps, p, start, lo, hi}, stream);
  } else if (norm == Norm::l1) {
    launch_rows_norm<Norm::l1>(x, out, n, d, eps, p, s0, lo, hi, stream);
  } else {
    launch_rows_norm<Norm::l2>(x, out, n, d, eps, p, s0, lo, hi, stream);
  }
}

template void random_start_cuda<float>(const float*, float*, i64, i64, PerSample, Norm, Philox, i64, float, float,
                                       void*);
template void random_start_cuda<double>(const double*, double*, i64, i64, PerSample, Norm, Philox, i64, double, double,
                                        void*);
}  // namespace mlsec
