#include "fgsm.hpp"

namespace mlsec {
template <class T>
static void fgsm_span(const T* __restrict x, const T* __restrict g, T* out, i64 len, T s, T lo, T hi) {
  for (i64 j = 0; j < len; ++j) out[j] = fgsm_elem(x[j], g[j], s, lo, hi);
}

template <class T>
void fgsm_cpu(const T* x, const T* g, T* out, i64 n, i64 d, PerSample eps, bool targeted, T lo, T hi) {
  for_each_span(n, d, [&](i64 row, i64 j0, i64 j1) {
    const T s = targeted ? -T(eps[row]) : T(eps[row]);
    const i64 o = row * d + j0;
    fgsm_span(x + o, g + o, out + o, j1 - j0, s, lo, hi);
  });
}

template void fgsm_cpu<float>(const float*, const float*, float*, i64, i64, PerSample, bool, float, float);
template void fgsm_cpu<double>(const double*, const double*, double*, i64, i64, PerSample, bool, double, double);
}  // namespace mlsec
