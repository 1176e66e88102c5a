#include "noise.hpp"

#include "rng.hpp"

namespace mlsec {
namespace {
template <Norm N, class T, class R = float_result<T>> void run(const T* x, R* out, i64 n, i64 d, bool broadcast,
                                                               PerSample scale, const Philox& p, StreamPos offset, R lo,
                                                               R hi) {
  for_each_span(n, d, [&](i64 row, i64 j0, i64 j1) {
    const R s = R(scale[row]);
    const T* xs = x + (broadcast ? 0 : row * d) + j0;
    R* os = out + row * d + j0;
    philox_span(p, offset.plus(u64(row * d + j0)), j1 - j0, [=](i64 pos, const u32* w, int a, int b) {
      float v[4 * kSpanBlocks];
      start_draws_span<N>(w, a, b, v);
      for (int j = a; j < b; ++j) os[pos + j] = start_elem(R(xs[pos + j]), v[j], s, lo, hi);
    });
  });
}
}  // namespace

template <class T> void noise_cpu(const T* x, float_result<T>* out, i64 n, i64 d, bool broadcast, PerSample scale,
                                  Norm kind, Philox p, StreamPos offset, float_result<T> lo, float_result<T> hi) {
  if (kind == Norm::l2)
    run<Norm::l2>(x, out, n, d, broadcast, scale, p, offset, lo, hi);
  else
    run<Norm::inf>(x, out, n, d, broadcast, scale, p, offset, lo, hi);
}

#define MLSEC_INSTANTIATE(T)                                                                                 \
  template void noise_cpu<T>(const T*, float_result<T>*, i64, i64, bool, PerSample, Norm, Philox, StreamPos, \
                             float_result<T>, float_result<T>);
MLSEC_REAL_TYPES(MLSEC_INSTANTIATE)
}  // namespace mlsec
