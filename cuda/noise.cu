#include "common.cuh"
#include "noise.hpp"

namespace mlsec {
namespace {
// Thread t owns stream block start.block + t: out elements 4t - lane .. 4t - lane + 3.
template <Norm N, class T, class R = float_result<T>> struct NoiseOp {
  const T* x;
  R* out;
  i64 total, d;
  bool broadcast;
  PerSample scale;
  Philox p;
  StreamPos start;
  R lo, hi;
  __device__ void operator()(i64 t) const {
    float v[4];
    start_draws<N>(p.block(start.block + u64(t)), v);
    const i64 base = 4 * t - i64(start.lane);
    for (int k = 0; k < 4; ++k) {
      const i64 e = base + k;
      if (e < 0 || e >= total) continue;
      const i64 row = e / d;
      out[e] = start_elem(R(x[broadcast ? e - row * d : e]), v[k], R(scale[row]), lo, hi);
    }
  }
};
}  // namespace

template <class T> void noise_cuda(const T* x, float_result<T>* out, i64 n, i64 d, bool broadcast, PerSample scale,
                                   Norm kind, Philox p, StreamPos offset, float_result<T> lo, float_result<T> hi,
                                   void* stream) {
  if (n <= 0 || d <= 0) return;
  const i64 threads = (i64(offset.lane) + n * d + 3) / 4;
  if (kind == Norm::l2)
    launch_flat(threads, NoiseOp<Norm::l2, T>{x, out, n * d, d, broadcast, scale, p, offset, lo, hi}, stream);
  else
    launch_flat(threads, NoiseOp<Norm::inf, T>{x, out, n * d, d, broadcast, scale, p, offset, lo, hi}, stream);
}

#define MLSEC_INSTANTIATE(T)                                                                                  \
  template void noise_cuda<T>(const T*, float_result<T>*, i64, i64, bool, PerSample, Norm, Philox, StreamPos, \
                              float_result<T>, float_result<T>, void*);
MLSEC_REAL_TYPES(MLSEC_INSTANTIATE)
}  // namespace mlsec
