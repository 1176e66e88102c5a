#include "project.hpp"

#include "samples.hpp"

namespace mlsec {
// Condat (2016), "Fast projection onto the simplex and the l1 ball", Algorithm 1 (linear
// expected time) on a = |d|: returns its estimate of theta. buf holds 2d values: the
// discarded list (v~) at its front, the active list v right after it, v~ re-entering v at
// its end in the cleanup pass.
template <class T> static double condat(const T* a, i64 d, double eps, T* buf) {
  i64 vb = 0, ve = 1;
  buf[0] = a[0];
  double rho = double(a[0]) - eps;
  for (i64 j = 1; j < d; ++j) {
    const double y = double(a[j]);
    if (y <= rho) continue;
    rho += (y - rho) / double(ve - vb + 1);
    if (rho > y - eps) {
      buf[ve++] = a[j];
    } else {
      vb = ve;
      buf[ve++] = a[j];
      rho = y - eps;
    }
  }
  for (i64 i = 0; i < vb; ++i) {
    const double y = double(buf[i]);
    if (y > rho) {
      buf[ve++] = buf[i];
      rho += (y - rho) / double(ve - vb);
    }
  }
  for (bool changed = true; changed;) {
    changed = false;
    i64 w = vb, cnt = ve - vb;
    for (i64 i = vb; i < ve; ++i) {
      const double y = double(buf[i]);
      if (y <= rho) {
        --cnt;
        if (cnt > 0) rho += (rho - y) / double(cnt);
        changed = true;
      } else {
        buf[w++] = buf[i];
      }
    }
    ve = w;
  }
  return rho;
}

template <class T> MLSEC_CLONES static Sums<2> active_chunk(const T* a, i64 j0, i64 j1, double t) {
  return chunk_sum<2>(j0, j1, [&](i64 j) { return active_term(double(a[j]), t); });
}

template <class T> double l1_theta_cpu(const T* a, i64 d, double eps, const Inner& in) {
  if (!(eps > 0.0)) return INFINITY;
  const double t0 = condat(a, d, eps, scratch<T, 1>(2 * d));
  return l1_refine(t0, eps, [&](double t) { return in.sum<2>(d, [&](i64 j0, i64 j1) { return active_chunk(a, j0, j1, t); }); });
}

template <class T> MLSEC_CLONES static Sums<1> sq_chunk(const T* s, i64 j0, i64 j1) {
  return chunk_sum<1>(j0, j1, [&](i64 j) { return Sums<1>{{double(s[j]) * double(s[j])}}; });
}
// |s| into a, and its sum: the L1 norm and Condat's input in one pass.
template <class T> MLSEC_CLONES static Sums<1> abs_chunk(const T* s, T* a, i64 j0, i64 j1) {
  return chunk_sum<1>(j0, j1, [&](i64 j) {
    a[j] = absv(s[j]);
    return Sums<1>{{double(a[j])}};
  });
}
template <class T> MLSEC_CLONES static void inf_span(const T* s, T* o, i64 len, T e) {
  for (i64 j = 0; j < len; ++j) o[j] = project_inf_elem(s[j], e);
}
template <class T> MLSEC_CLONES static void scale_span(const T* s, T* o, i64 len, T sc) {
  for (i64 j = 0; j < len; ++j) o[j] = s[j] * sc;
}
template <class T> MLSEC_CLONES static void soft_span(const T* s, T* o, i64 len, T th) {
  for (i64 j = 0; j < len; ++j) o[j] = soft_elem(s[j], th);
}

template <class T> void project_cpu(const T* delta, T* out, i64 n, i64 d, PerSample eps, int norm) {
  if (norm == kNormInf) {
    for_each_span(n, d, [&](i64 r, i64 j0, i64 j1) { inf_span(delta + r * d + j0, out + r * d + j0, j1 - j0, T(eps[r])); });
    return;
  }
  for_each_sample(n, d, [&](i64 r, const Inner& in) {
    const T* s = delta + r * d;
    T* o = out + r * d;
    const double e = eps[r];
    if (norm == kNormL2) {
      const double ss = in.sum<1>(d, [&](i64 j0, i64 j1) { return sq_chunk(s, j0, j1); }).v[0];
      const T sc = T(l2_scale(ss, e));
      in.spans(d, [&](i64 j0, i64 j1) { scale_span(s + j0, o + j0, j1 - j0, sc); });
      return;
    }
    T* a = scratch<T, 0>(d);
    const double l1 = in.sum<1>(d, [&](i64 j0, i64 j1) { return abs_chunk(s, a, j0, j1); }).v[0];
    // Inside the ball, or NaN/inf in the sample: th = 0 passes every value through.
    const T th = finite(l1) && l1 > e ? T(l1_theta_cpu(a, d, e, in)) : T(0);
    in.spans(d, [&](i64 j0, i64 j1) { soft_span(s + j0, o + j0, j1 - j0, th); });
  });
}

#define MLSEC_INSTANTIATE(T)                                           \
  template double l1_theta_cpu<T>(const T*, i64, double, const Inner&); \
  template void project_cpu<T>(const T*, T*, i64, i64, PerSample, int);
MLSEC_INSTANTIATE(float)
MLSEC_INSTANTIATE(double)
#undef MLSEC_INSTANTIATE
}  // namespace mlsec
