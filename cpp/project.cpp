#include "project.hpp"

#include "project_box.hpp"
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

// Copies the values of |src| above rho to dst (dst may be src: it writes behind its reads),
// branch-free; returns their count and, in *sum, their sum. (The comparison is in T: this
// only feeds the estimate, which l1_refine makes exact.)
template <class T> static i64 compact_above(const T* src, i64 len, double rho, T* dst, double* sum) {
  const T r = T(rho);
  double s[4] = {0.0, 0.0, 0.0, 0.0};
  i64 w = 0, j = 0;
  for (; j + 4 <= len; j += 4)
    for (int u = 0; u < 4; ++u) {
      const T y = absv(src[j + u]);
      const i64 keep = y > r;
      dst[w] = y;
      w += keep;
      s[u] += double(y) * double(keep);
    }
  for (; j < len; ++j) {
    const T y = absv(src[j]);
    const i64 keep = y > r;
    dst[w] = y;
    w += keep;
    s[0] += double(y) * double(keep);
  }
  *sum = (s[0] + s[1]) + (s[2] + s[3]);
  return w;
}

template <class T> MLSEC_FLATTEN static Sums<2> active_chunk(const T* a, i64 j0, i64 j1, double t) {
  return chunk_sum<2>(j0, j1, [&](i64 j) { return active_term(double(absv(a[j])), t); });
}

// The largest |a| of each block of 32, into dst; returns their number, their sum in *sum.
template <class T> static i64 block_maxima(const T* a, i64 d, T* dst, double* sum) {
  i64 nb = 0;
  double s = 0.0;
  for (i64 j0 = 0; j0 < d; j0 += 32) {
    const i64 j1 = std::min(d, j0 + 32);
    T m = T(0);
    for (i64 j = j0; j < j1; ++j) m = std::max(m, absv(a[j]));
    dst[nb++] = m;
    s += double(m);
  }
  *sum = s;
  return nb;
}

// Michelot's (1986) fixed-point steps on the n values buf[0, n) of sum `sum`, at most
// `count` sweeps, each compacting the survivors in place: a rising lower bound of their
// threshold. *settled: it is their threshold (the *n survivors stopped changing).
template <class T> static double sweeps(T* buf, i64* n, double sum, double eps, int count, bool* settled) {
  double rho = (sum - eps) / double(*n);
  for (int it = 0; it < count; ++it) {
    const i64 m = compact_above(buf, *n, rho, buf, &sum);
    *settled = m == *n || m == 0;
    if (*settled) return rho;
    *n = m;
    rho = (sum - eps) / double(m);
  }
  *settled = false;
  return rho;
}

// The estimate of theta, from below. Any subset's projection threshold is below the row's
// (theta is the largest (sum - eps)/size over sets of the largest values), so the threshold
// of the block maxima (Michelot's steps on them) is a start near theta when few values
// are active, and (l1 - eps)/d is when many are. Michelot's steps on the row follow:
// whole-row passes (vectorised, no writes); if kSteps have not settled, sweeps that compact
// the survivors (a superset of the active set); then Condat's algorithm on what survives.
// Measured on this machine (150528 floats): 0.05-0.3 ms, where Condat's algorithm on the
// whole row takes 0.7-2 ms (its serial, data-dependent branches and divisions dominate).
constexpr int kSteps = 4;  // whole-row steps, then as many compacting sweeps; typical rows need 1-5
// *fixed: rho is already l1_refine's fixed point (its set's canonical theta is rho itself).
template <class T>
static double l1_estimate(const T* a, i64 d, double eps, double l1, T* buf, const Inner& in, bool* fixed) {
  double rho = (l1 - eps) / double(d), sum = 0.0;
  bool settled;
  *fixed = false;
  i64 n = block_maxima(a, d, buf, &sum);
  if (sum > eps) rho = std::max(rho, sweeps(buf, &n, sum, eps, 64, &settled));
  for (int it = 0; it < kSteps; ++it) {
    const Sums<2> s = in.sum<2>(d, [&](i64 j0, i64 j1) { return active_chunk(a, j0, j1, rho); });
    if (s.v[0] == 0.0) return rho;
    const double next = (s.v[1] - eps) / s.v[0];
    if (!(next > rho)) {  // settled
      *fixed = next == rho;
      return rho;
    }
    rho = next;
  }
  n = compact_above(a, d, rho, buf, &sum);
  if (n == 0) return rho;
  rho = sweeps(buf, &n, sum, eps, kSteps, &settled);
  return settled ? rho : condat(buf, n, eps, buf + n);
}

template <class T> double l1_theta_cpu(const T* a, i64 d, double eps, double l1, const Inner& in) {
  if (!(eps > 0.0)) return INFINITY;
  bool fixed;
  const double t0 = l1_estimate(a, d, eps, l1, scratch<T, 1>(3 * d), in, &fixed);
  if (fixed) return t0;
  return l1_refine(t0, eps,
                   [&](double t) { return in.sum<2>(d, [&](i64 j0, i64 j1) { return active_chunk(a, j0, j1, t); }); });
}

template <class T> MLSEC_FLATTEN static Sums<1> sq_chunk(const T* s, i64 j0, i64 j1) {
  return chunk_sum<1>(j0, j1, [&](i64 j) { return Sums<1>{{double(s[j]) * double(s[j])}}; });
}
template <class T> MLSEC_FLATTEN static Sums<1> abs_chunk(const T* s, i64 j0, i64 j1) {
  return chunk_sum<1>(j0, j1, [&](i64 j) { return Sums<1>{{double(absv(s[j]))}}; });
}
template <class T> static void inf_span(const T* s, T* o, i64 len, T e) {
  for (i64 j = 0; j < len; ++j) o[j] = project_inf_elem(s[j], e);
}
template <class T> static void scale_span(const T* s, T* o, i64 len, T sc) {
  for (i64 j = 0; j < len; ++j) o[j] = s[j] * sc;
}
template <class T> static void soft_span(const T* s, T* o, i64 len, T th) {
  for (i64 j = 0; j < len; ++j) o[j] = soft_elem(s[j], th);
}

template <class T, class L, class H>
MLSEC_FLATTEN static Sums<3> l1_box_chunk(const T* s, L lo, H hi, double t, i64 j0, i64 j1) {
  return chunk_sum<3>(j0, j1, [&](i64 j) { return l1_box_term(double(s[j]), double(lo[j]), double(hi[j]), t); });
}
template <class T, class L, class H> static void box_inf_span(const T* s, T* o, L lo, H hi, i64 j0, i64 j1, T e) {
  for (i64 j = j0; j < j1; ++j) o[j] = clampv(project_inf_elem(s[j], e), lo[j], hi[j]);
}
template <class T, class L, class H> static void box_soft_span(const T* s, T* o, L lo, H hi, i64 j0, i64 j1, T th) {
  for (i64 j = j0; j < j1; ++j) o[j] = clampv(soft_elem(s[j], th), lo[j], hi[j]);
}

// One sample onto its ball intersected with the box (project.hpp). A norm that is not
// finite leaves the sample unscaled (s = 1, tau = 0): only the box clips it.
template <class T, class L, class H> static void project_box(const T* s, T* o, i64 d, double e, Norm norm, L lo, H hi,
                                                             bool out_is_operand, const Inner& in) {
  if (norm == Norm::l2) {
    const double ss = in.sum<1>(d, [&](i64 j0, i64 j1) { return sq_chunk(s, j0, j1); }).v[0];
    const double sc = l2_scale(ss, e);
    const OneBound<T> base{T(-0.0)};  // -0.0 + y == y: the output is clip(s * sc) to the bit
    if (finite(ss) && sc > 0.0)
      return l2_box_sample([&](i64 j) { return s[j]; }, scratch<T, 2>(d), base, lo, hi, o, d, sc, e, out_is_operand,
                           in);
    in.spans(d, [&](i64 j0, i64 j1) { l2_box_span(s, base, lo, hi, T(sc), o, j0, j1); });
    return;
  }
  const double l1 = in.sum<1>(d, [&](i64 j0, i64 j1) { return abs_chunk(s, j0, j1); }).v[0];
  double th = 0.0;
  if (finite(l1)) {
    const double th0 = l1 > e ? l1_theta_cpu(s, d, e, l1, in) : 0.0;
    th = l1_box_threshold(th0, l1, e, [&](double t) {
      return in.sum<3>(d, [&](i64 j0, i64 j1) { return l1_box_chunk(s, lo, hi, t, j0, j1); });
    });
  }
  in.spans(d, [&](i64 j0, i64 j1) { box_soft_span(s, o, lo, hi, j0, j1, T(th)); });
}

template <class T>
void project_cpu(const T* delta, T* out, i64 n, i64 d, PerSample eps, Norm norm, Bound<T> lo, Bound<T> hi) {
  if (n * d == 0) return;
  const bool box = !unbounded(lo, hi);
  const bool aliased = out == lo.p || out == hi.p;  // the search reads them after the output pass
  if (norm == Norm::inf) {
    if (!box)
      return for_each_span(
          n, d, [&](i64 r, i64 j0, i64 j1) { inf_span(delta + r * d + j0, out + r * d + j0, j1 - j0, T(eps[r])); });
    return with_bounds(lo, hi, [&](auto L, auto H) {
      for_each_span(n, d, [&](i64 r, i64 j0, i64 j1) {
        box_inf_span(delta + r * d, out + r * d, L.at(r * d), H.at(r * d), j0, j1, T(eps[r]));
      });
    });
  }
  if (box)
    return with_bounds(lo, hi, [&](auto L, auto H) {
      for_each_sample(n, d, [&](i64 r, const Inner& in) {
        project_box(delta + r * d, out + r * d, d, eps[r], norm, L.at(r * d), H.at(r * d), aliased, in);
      });
    });
  for_each_sample(n, d, [&](i64 r, const Inner& in) {
    const T* s = delta + r * d;
    T* o = out + r * d;
    const double e = eps[r];
    if (norm == Norm::l2) {
      const double ss = in.sum<1>(d, [&](i64 j0, i64 j1) { return sq_chunk(s, j0, j1); }).v[0];
      const T sc = T(l2_scale(ss, e));
      in.spans(d, [&](i64 j0, i64 j1) { scale_span(s + j0, o + j0, j1 - j0, sc); });
      return;
    }
    const double l1 = in.sum<1>(d, [&](i64 j0, i64 j1) { return abs_chunk(s, j0, j1); }).v[0];
    // Inside the ball, or NaN/inf in the sample: th = 0 passes every value through.
    const T th = finite(l1) && l1 > e ? T(l1_theta_cpu(s, d, e, l1, in)) : T(0);
    in.spans(d, [&](i64 j0, i64 j1) { soft_span(s + j0, o + j0, j1 - j0, th); });
  });
}

#define MLSEC_INSTANTIATE(T)                                                    \
  template double l1_theta_cpu<T>(const T*, i64, double, double, const Inner&); \
  template void project_cpu<T>(const T*, T*, i64, i64, PerSample, Norm, Bound<T>, Bound<T>);
MLSEC_INSTANTIATE(float)
MLSEC_INSTANTIATE(double)
#undef MLSEC_INSTANTIATE
}  // namespace mlsec
