#include "pgd_step.hpp"

#include <algorithm>
#include <cstring>

#include "project_box.hpp"
#include "samples.hpp"

namespace mlsec {
template <class T> static void inf_span(const T* x, const T* x0, const T* g, T* o, i64 len, T s, T e, T lo, T hi) {
  for (i64 j = 0; j < len; ++j) o[j] = pgd_inf_elem(x[j], x0[j], g[j], s, e, lo, hi);
}
template <class T> MLSEC_FLATTEN static Sums<3> l2_chunk(const T* x, const T* x0, const T* g, i64 j0, i64 j1) {
  return chunk_sum<3>(j0, j1, [&](i64 j) { return pgd_l2_term(x[j], x0[j], g[j]); });
}
template <class T> static void l2_span(const T* x, const T* x0, const T* g, T* o, i64 len, T a, T sc, T lo, T hi) {
  for (i64 j = 0; j < len; ++j) o[j] = pgd_l2_elem(x[j], x0[j], g[j], a, sc, lo, hi);
}
// delta into v (the L1 threshold reads its magnitudes, the box search its signs), and
// ||delta||_1.
template <class T>
MLSEC_FLATTEN static Sums<1> l1_chunk(const T* x, const T* x0, const T* g, T* v, i64 j0, i64 j1, T c, T thr) {
  return chunk_sum<1>(j0, j1, [&](i64 j) {
    v[j] = pgd_l1_delta(x[j], x0[j], g[j], c, thr);
    return Sums<1>{{double(absv(v[j]))}};
  });
}
template <class T>
MLSEC_FLATTEN static Sums<3> l1_box_chunk(const T* v, const T* x0, T lo, T hi, double t, i64 j0, i64 j1) {
  return chunk_sum<3>(j0, j1, [&](i64 j) { return pgd_l1_box_term(v[j], x0[j], lo, hi, t); });
}
template <class T>
static void l1_span(const T* x, const T* x0, const T* g, T* o, i64 len, T c, T thr, T th, T lo, T hi) {
  for (i64 j = 0; j < len; ++j) o[j] = clampv(x0[j] + soft_elem(pgd_l1_delta(x[j], x0[j], g[j], c, thr), th), lo, hi);
}

// |v| as an unsigned integer, ordered like the values (NaN above +inf, -0.0 as +0.0).
template <class T> struct AbsBits;
template <> struct AbsBits<float> {
  using U = u32;
  static constexpr int kBits = 31;
  static constexpr U kInf = 0x7f800000u;
};
template <> struct AbsBits<double> {
  using U = u64;
  static constexpr int kBits = 63;
  static constexpr U kInf = 0x7ff0000000000000ull;
};
template <class T> static typename AbsBits<T>::U abs_bits(T v) {
  typename AbsBits<T>::U u;
  std::memcpy(&u, &v, sizeof v);
  return u & ((typename AbsBits<T>::U(1) << AbsBits<T>::kBits) - 1);
}

constexpr int kRadix = 11;

// Histogram of the digit (|v| bits >> lo) & mask; returns whether a NaN was seen.
template <class T> static bool digit_histogram(const T* v, i64 n, int lo, u64 mask, u32* hist) {
  bool nan = false;
  for (i64 j = 0; j < n; ++j) {
    const auto u = abs_bits(v[j]);
    ++hist[(u >> lo) & mask];
    nan |= u > AbsBits<T>::kInf;
  }
  return nan;
}

// |v| whose digit is b, compacted into dst (which may be v). A branch, not a branch-free
// store: one digit of 2^kRadix holds few values, so it is well predicted.
template <class T> static i64 digit_compact(const T* v, i64 n, int lo, u64 mask, u64 b, T* dst) {
  i64 w = 0;
  for (i64 j = 0; j < n; ++j)
    if (((abs_bits(v[j]) >> lo) & mask) == b) dst[w++] = absv(v[j]);
  return w;
}

// The k-th smallest |g| (from 0), by radix select (kRadix bits a level, most significant
// first; the candidates of the chosen digit go to a, d values, for the next level). Exact:
// it works on the bits. False when g has NaN.
template <class T> static bool abs_order_stat(const T* g, i64 d, i64 k, T* a, T* out) {
  using U = typename AbsBits<T>::U;
  u32 hist[1 << kRadix];
  const T* src = g;
  i64 n = d;
  U prefix = 0;
  for (int hi = AbsBits<T>::kBits;;) {
    const int lo = hi > kRadix ? hi - kRadix : 0;
    const u64 mask = (u64(1) << (hi - lo)) - 1;
    std::fill(hist, hist + mask + 1, 0u);
    if (digit_histogram(src, n, lo, mask, hist)) return false;
    u64 b = 0;
    while (i64(hist[b]) <= k) k -= hist[b++];
    prefix |= U(b) << lo;
    if (lo == 0) break;
    n = digit_compact(src, n, lo, mask, b, a);
    src = a;
    hi = lo;
  }
  std::memcpy(out, &prefix, sizeof prefix);
  return true;
}

// #{|g| <= t} and the least |g| above t (t itself if none).
template <class T> static T next_above(const T* g, i64 d, T t, i64* le) {
  i64 c = 0;
  T m = T(INFINITY);
  for (i64 j = 0; j < d; ++j) {
    const T y = absv(g[j]);
    c += y <= t;
    m = y > t && y < m ? y : m;
  }
  *le = c;
  return m;
}

template <class T> static i64 count_moving(const T* g, i64 d, T t) {
  i64 m = 0;
  for (i64 j = 0; j < d; ++j) m += absv(g[j]) >= t && g[j] != T(0);
  return m;
}

// The sparse direction's threshold and scale c for one sample; a is scratch (d values).
template <class T> static void l1_direction(const T* g, T* a, i64 d, double q, double s, T* c, T* thr) {
  const QuantilePos p = quantile_pos(q, d);
  T t;
  if (!abs_order_stat(g, d, p.k, a, &t)) {
    *thr = T(0);
    *c = T(pgd_l1_scale(s, NAN));
    return;
  }
  if (p.strict_needs_next) {  // a_{k+1}: a_k again when tied, else the least |g| above it
    i64 le;
    const T next = next_above(g, d, t, &le);
    if (le < p.k + 2) t = next;
  }
  *thr = t;
  *c = T(pgd_l1_scale(s, double(count_moving(g, d, t))));
}

template <class T> void pgd_step_cpu(const T* x, const T* x0, const T* g, T* out, i64 n, i64 d, PerSample step,
                                     PerSample eps, Norm norm, bool targeted, double l1_sparsity, T lo, T hi,
                                     Projection proj) {
  const bool boxed = pgd_boxed(proj, lo, hi);
  const double sign = targeted ? -1.0 : 1.0;
  if (n * d == 0) return;
  if (norm == Norm::inf) {
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
    if (norm == Norm::l2) {
      const Sums<3> s = in.sum<3>(d, [&](i64 j0, i64 j1) { return l2_chunk(xr, x0r, gr, j0, j1); });
      const L2Step<T> f = pgd_l2_factors<T>(s, sign * step[r], eps[r]);
      const T a = f.a;
      if (boxed && finite(f.ss) && f.sc > 0.0)
        return l2_box_sample([=](i64 j) { return pgd_l2_delta(xr[j], x0r[j], gr[j], a); }, scratch<T, 2>(d),
                             ArrayBound<T>{x0r}, OneBound<T>{lo}, OneBound<T>{hi}, outr, d, f.sc, eps[r], outr == x0r,
                             in);
      in.spans(d,
               [&](i64 j0, i64 j1) { l2_span(xr + j0, x0r + j0, gr + j0, outr + j0, j1 - j0, f.a, T(f.sc), lo, hi); });
      return;
    }
    T* a = scratch<T, 0>(d);
    T c, thr;
    l1_direction(gr, a, d, l1_sparsity, sign * step[r], &c, &thr);
    const double l1 = in.sum<1>(d, [&](i64 j0, i64 j1) { return l1_chunk(xr, x0r, gr, a, j0, j1, c, thr); }).v[0];
    // Not finite (NaN in the step or the data): no projection, the NaN flows through.
    double th = finite(l1) && l1 > eps[r] ? l1_theta_cpu(a, d, eps[r], l1, in) : 0.0;
    if (boxed && finite(l1))
      th = l1_box_threshold(th, l1, eps[r], [&](double t) {
        return in.sum<3>(d, [&](i64 j0, i64 j1) { return l1_box_chunk(a, x0r, lo, hi, t, j0, j1); });
      });
    in.spans(d,
             [&](i64 j0, i64 j1) { l1_span(xr + j0, x0r + j0, gr + j0, outr + j0, j1 - j0, c, thr, T(th), lo, hi); });
  });
}

#define MLSEC_INSTANTIATE(T)                                                                                          \
  template void pgd_step_cpu<T>(const T*, const T*, const T*, T*, i64, i64, PerSample, PerSample, Norm, bool, double, \
                                T, T, Projection);
MLSEC_INSTANTIATE(float)
MLSEC_INSTANTIATE(double)
#undef MLSEC_INSTANTIATE
}  // namespace mlsec
