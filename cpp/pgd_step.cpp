#include "pgd_step.hpp"

#include <algorithm>

#include "samples.hpp"

namespace mlsec {
template <class T>
MLSEC_CLONES static void inf_span(const T* x, const T* x0, const T* g, T* o, i64 len, T s, T e, T lo, T hi) {
  for (i64 j = 0; j < len; ++j) o[j] = pgd_inf_elem(x[j], x0[j], g[j], s, e, lo, hi);
}
template <class T> MLSEC_CLONES static Sums<3> l2_chunk(const T* x, const T* x0, const T* g, i64 j0, i64 j1) {
  return chunk_sum<3>(j0, j1, [&](i64 j) { return pgd_l2_term(x[j], x0[j], g[j]); });
}
template <class T>
MLSEC_CLONES static void l2_span(const T* x, const T* x0, const T* g, T* o, i64 len, T a, T sc, T lo, T hi) {
  for (i64 j = 0; j < len; ++j) o[j] = pgd_l2_elem(x[j], x0[j], g[j], a, sc, lo, hi);
}
// |g| into a; returns the number of NaN.
template <class T> MLSEC_CLONES static i64 abs_span(const T* g, T* a, i64 len) {
  i64 nan = 0;
  for (i64 j = 0; j < len; ++j) {
    a[j] = absv(g[j]);
    nan += g[j] != g[j];
  }
  return nan;
}
// |delta| into a, and its sum.
template <class T>
MLSEC_CLONES static Sums<1> l1_chunk(const T* x, const T* x0, const T* g, T* a, i64 j0, i64 j1, T c, T thr) {
  return chunk_sum<1>(j0, j1, [&](i64 j) {
    a[j] = absv(pgd_l1_delta(x[j], x0[j], g[j], c, thr));
    return Sums<1>{{double(a[j])}};
  });
}
template <class T>
MLSEC_CLONES static void l1_span(const T* x, const T* x0, const T* g, T* o, i64 len, T c, T thr, T th, T lo, T hi) {
  for (i64 j = 0; j < len; ++j) o[j] = clampv(x0[j] + soft_elem(pgd_l1_delta(x[j], x0[j], g[j], c, thr), th), lo, hi);
}

// The sparse direction's threshold and scale c for one sample; a is scratch (d values).
template <class T> static void l1_direction(const T* g, T* a, i64 d, double q, double s, const Inner& in, T* c, T* thr) {
  i64 nan = 0;
  in.spans(d, [&](i64 j0, i64 j1) {
    const i64 k = abs_span(g + j0, a + j0, j1 - j0);
#ifdef _OPENMP
#pragma omp atomic
#endif
    nan += k;
  });
  if (nan) {
    *thr = T(0);
    *c = T(pgd_l1_scale(s, NAN));
    return;
  }
  const QuantilePos p = quantile_pos(q, d);
  std::nth_element(a, a + p.k, a + d);
  T t = a[p.k];
  if (p.strict_needs_next) {
    const T next = *std::min_element(a + p.k + 1, a + d);
    if (next != t) t = next;
  }
  i64 m = 0;
  for (i64 j = 0; j < d; ++j) m += a[j] >= t && a[j] != T(0);
  *thr = t;
  *c = T(pgd_l1_scale(s, double(m)));
}

template <class T>
void pgd_step_cpu(const T* x, const T* x0, const T* g, T* out, i64 n, i64 d, PerSample step, PerSample eps,
                  int norm, bool targeted, double l1_sparsity, T lo, T hi) {
  const double sign = targeted ? -1.0 : 1.0;
  if (norm == kNormInf) {
    for_each_span(n, d, [&](i64 r, i64 j0, i64 j1) {
      const i64 o = r * d + j0;
      inf_span(x + o, x0 + o, g + o, out + o, j1 - j0, T(sign * step[r]), T(eps[r]), lo, hi);
    });
    return;
  }
  for_each_sample(n, d, [&](i64 r, const Inner& in) {
    const i64 o = r * d;
    const T *xr = x + o, *x0r = x0 + o, *gr = g + o;
    T* outr = out + o;
    if (norm == kNormL2) {
      const Sums<3> s = in.sum<3>(d, [&](i64 j0, i64 j1) { return l2_chunk(xr, x0r, gr, j0, j1); });
      const L2Step<T> f = pgd_l2_factors<T>(s, sign * step[r], eps[r]);
      in.spans(d, [&](i64 j0, i64 j1) { l2_span(xr + j0, x0r + j0, gr + j0, outr + j0, j1 - j0, f.a, f.sc, lo, hi); });
      return;
    }
    T* a = scratch<T, 0>(d);
    T c, thr;
    l1_direction(gr, a, d, l1_sparsity, sign * step[r], in, &c, &thr);
    const double l1 = in.sum<1>(d, [&](i64 j0, i64 j1) { return l1_chunk(xr, x0r, gr, a, j0, j1, c, thr); }).v[0];
    // Not finite (NaN in the step or the data): no projection, the NaN flows through.
    const T th = finite(l1) && l1 > eps[r] ? T(l1_theta_cpu(a, d, eps[r], l1, in)) : T(0);
    in.spans(d, [&](i64 j0, i64 j1) { l1_span(xr + j0, x0r + j0, gr + j0, outr + j0, j1 - j0, c, thr, th, lo, hi); });
  });
}

#define MLSEC_INSTANTIATE(T)                                                                                  \
  template void pgd_step_cpu<T>(const T*, const T*, const T*, T*, i64, i64, PerSample, PerSample, int, bool, \
                                double, T, T);
MLSEC_INSTANTIATE(float)
MLSEC_INSTANTIATE(double)
#undef MLSEC_INSTANTIATE
}  // namespace mlsec
