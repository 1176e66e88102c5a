#include "pgd_step.hpp"
#include "samples.cuh"

namespace mlsec {
template <class T> struct PgdInfOp {
  const T *x, *x0, *g;
  T* out;
  PerSample step, eps;
  double sign;
  T lo, hi;
  __device__ void operator()(i64 row, i64 i) const {
    out[i] = pgd_inf_elem(x[i], x0[i], g[i], T(sign * step[row]), T(eps[row]), lo, hi);
  }
};

// L2 and L1: one block per sample, the same sums and formulas as cpp/pgd_step.cpp.
template <class T> struct PgdSampleOp {
  const T *x, *x0, *g;
  T* out;
  i64 d;
  PerSample step, eps;
  Norm norm;
  double sign, q;
  T lo, hi;
  bool boxed;  // the exact projection, with a box to search (pgd_boxed)

  __device__ void operator()(i64 row) const {
    const i64 o = row * d;
    const T *xr = x + o, *x0r = x0 + o, *gr = g + o;
    T* outr = out + o;
    const double s = sign * step[row], e = eps[row];
    if (norm == Norm::l2) {
      const Sums<3> sums = block_row_sum<3>(d, [&](i64 j) { return pgd_l2_term(xr[j], x0r[j], gr[j]); });
      const L2Step<T> f = pgd_l2_factors<T>(sums, s, e);
      double sc = f.sc;
      if (boxed && finite(f.ss) && sc > 0.0)
        sc = l2_box_scale(sc, e, [&](double t) {
          const T tt = T(t);
          return block_row_sum<3>(
              d, [&](i64 j) { return l2_box_term(pgd_l2_delta(xr[j], x0r[j], gr[j], f.a), x0r[j], lo, hi, tt); });
        });
      for (i64 j = threadIdx.x; j < d; j += blockDim.x) outr[j] = pgd_l2_elem(xr[j], x0r[j], gr[j], f.a, T(sc), lo, hi);
      return;
    }
    // The sparse direction: threshold thr on |g| and scale c (see cpp/pgd_step.cpp).
    auto ag = [&](i64 j) { return absv(gr[j]); };
    T thr = T(0), c;
    if (block_count(d, [&](i64 j) { return gr[j] != gr[j]; }) > 0.0) {
      c = T(pgd_l1_scale(s, NAN));
    } else {
      const QuantilePos p = quantile_pos(q, d);
      thr = block_order_stat<T>(d, p.k, ag);
      if (p.strict_needs_next) {
        const T next = block_order_stat<T>(d, p.k + 1, ag);
        if (next != thr) thr = next;
      }
      const T t = thr;
      c = T(pgd_l1_scale(s, block_count(d, [&](i64 j) { return ag(j) >= t && ag(j) != T(0); })));
    }
    auto v = [&](i64 j) { return pgd_l1_delta(xr[j], x0r[j], gr[j], c, thr); };
    auto a = [&](i64 j) { return absv(v(j)); };
    const double l1 = block_row_sum<1>(d, [&](i64 j) { return Sums<1>{{double(a(j))}}; }).v[0];
    double th = finite(l1) && l1 > e ? block_l1_theta<T>(d, e, a) : 0.0;
    if (boxed && finite(l1))
      th = l1_box_threshold(th, l1, e, [&](double t) {
        return block_row_sum<3>(d, [&](i64 j) { return pgd_l1_box_term(v(j), x0r[j], lo, hi, t); });
      });
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) outr[j] = clampv(x0r[j] + soft_elem(v(j), T(th)), lo, hi);
  }
};

template <class T> void pgd_step_cuda(const T* x, const T* x0, const T* g, T* out, i64 n, i64 d, PerSample step,
                                      PerSample eps, Norm norm, bool targeted, double l1_sparsity, T lo, T hi,
                                      Projection proj, void* stream) {
  const double sign = targeted ? -1.0 : 1.0;
  if (norm == Norm::inf)
    launch_rows(n, d, PgdInfOp<T>{x, x0, g, out, step, eps, sign, lo, hi}, stream);
  else if (d > 0)
    launch_samples(
        n, PgdSampleOp<T>{x, x0, g, out, d, step, eps, norm, sign, l1_sparsity, lo, hi, pgd_boxed(proj, lo, hi)},
        stream);
}

#define MLSEC_INSTANTIATE(T)                                                                                           \
  template void pgd_step_cuda<T>(const T*, const T*, const T*, T*, i64, i64, PerSample, PerSample, Norm, bool, double, \
                                 T, T, Projection, void*);
MLSEC_INSTANTIATE(float)
MLSEC_INSTANTIATE(double)
#undef MLSEC_INSTANTIATE
}  // namespace mlsec
