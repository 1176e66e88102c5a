#include "bit_depth.hpp"

namespace mlsec {
template <bool UnitSpan, class T>
static void bit_depth_span(const T* __restrict x, float_result<T>* out, i64 len, BitDepth<T> f) {
  for (i64 j = 0; j < len; ++j) out[j] = f.template apply<UnitSpan>(x[j]);
}

template <class T> void bit_depth_cpu(const T* x, float_result<T>* out, i64 total, int bits, double lo, double hi) {
  const BitDepth<T> f(bits, lo, hi);
  for_each_span(1, total, [&](i64, i64 j0, i64 j1) {
    if (f.span == 1.0)
      bit_depth_span<true>(x + j0, out + j0, j1 - j0, f);
    else
      bit_depth_span<false>(x + j0, out + j0, j1 - j0, f);
  });
}

#define MLSEC_INSTANTIATE(T) template void bit_depth_cpu<T>(const T*, float_result<T>*, i64, int, double, double);
MLSEC_REAL_TYPES(MLSEC_INSTANTIATE)
}  // namespace mlsec
