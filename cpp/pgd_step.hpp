// One projected gradient step (Madry et al. 2018), fused per sample:
//   out = clip(x0 + P_eps(x + s * dir(g) - x0), lo, hi),  s = step (-step when targeted),
// with dir = sign(g) (inf), g / ||g||_2 (2), or the sparse L1 direction of Tramer & Boneh
// 2019 (1): sign(g) on the coordinates with |g| >= thr, divided by m, their count of
// nonzero g; thr is the l1_sparsity quantile of |g| (project.hpp's quantile_pos). P_eps is
// project.hpp's projection. A zero gradient gives a zero step; NaN in a sample's gradient
// makes its L1/L2 step NaN (the L1 kernels then select every coordinate with a NaN scale).
//
// Projection::exact (the default) projects delta onto the ball intersected with the box
// [lo - x0, hi - x0] (project.hpp), so the final clip changes nothing; ball_then_clip
// projects onto the ball and then clips, which leaves the iterate inside the ball wherever
// the clip moved a pixel. Both share the elementwise formula out = clip(x0 + P(delta)); the
// exact one only finds a different scale (L2) or threshold (L1).
#pragma once
#include "project.hpp"

namespace mlsec {
template <class T> MLSEC_HD T pgd_inf_elem(T x, T x0, T g, T s, T e, T lo, T hi) {
  return clampv(x0 + project_inf_elem((x + s * signv(g)) - x0, e), lo, hi);
}

// L2: the step is a = s / ||g||, then delta = x + a*g - x0 is scaled by sc.
template <class T> MLSEC_HD T pgd_l2_delta(T x, T x0, T g, T a) { return (x + a * g) - x0; }
template <class T> MLSEC_HD T pgd_l2_elem(T x, T x0, T g, T a, T sc, T lo, T hi) {
  return clampv(x0 + pgd_l2_delta(x, x0, g, a) * sc, lo, hi);
}

// L2 statistics of one element: ||x-x0||^2, <x-x0, g>, ||g||^2, so that
// ||x + a*g - x0||^2 = ee + 2a*eg + a^2*gg comes out of the same pass.
template <class T> MLSEC_HD Sums<3> pgd_l2_term(T x, T x0, T g) {
  const double e = double(x) - double(x0), gd = double(g);
  Sums<3> s;
  s.v[0] = e * e;
  s.v[1] = e * gd;
  s.v[2] = gd * gd;
  return s;
}

// The step factor a (0 for a zero gradient) and the ball projection's scale from the sums.
template <class T> struct L2Step {
  T a;
  double sc, ss;  // ss: ||delta||^2 before the projection
};
template <class T> MLSEC_HD L2Step<T> pgd_l2_factors(const Sums<3>& s, double step, double eps) {
  const double gn = sqrt(s.v[2]);
  const T a = gn == 0.0 ? T(0) : T(step / gn);
  const double ad = double(a), ag = ad * gn;  // a^2 gg as (a ||g||)^2: a^2 overflows for a tiny g
  const double ss = s.v[0] + 2.0 * ad * s.v[1] + ag * ag;
  return L2Step<T>{a, l2_scale(ss, eps), ss};
}

// The exact L1 projection's statistics of one element (project.hpp's l1_box_term, with the
// box of x0's pixel); v is delta before the projection. (L2: l2_box_term with base x0.)
template <class T> MLSEC_HD Sums<3> pgd_l1_box_term(T v, T x0, T lo, T hi, double t) {
  return l1_box_term(double(v), double(lo) - double(x0), double(hi) - double(x0), t);
}

// Whether the exact projection has a box to search (a clip of (-inf, inf) is none).
template <class T> MLSEC_HD bool pgd_boxed(Projection p, T lo, T hi) {
  return p == Projection::exact && !(lo == T(-INFINITY) && hi == T(INFINITY));
}

// L1: delta before projection; c = s/m, coordinates with |g| >= thr move.
template <class T> MLSEC_HD T pgd_l1_delta(T x, T x0, T g, T c, T thr) {
  return (selected(g, thr) ? x + c * signv(g) : x) - x0;
}

// c from the count m of moving coordinates; the caller passes m = NAN when the gradient
// had NaN in it, which makes c NaN.
MLSEC_HD double pgd_l1_scale(double step, double m) { return m == 0.0 ? 0.0 : step / m; }

template <class T> void pgd_step_cpu(const T* x, const T* x0, const T* g, T* out, i64 n, i64 d, PerSample step,
                                     PerSample eps, Norm norm, bool targeted, double l1_sparsity, T lo, T hi,
                                     Projection proj);
template <class T> void pgd_step_cuda(const T* x, const T* x0, const T* g, T* out, i64 n, i64 d, PerSample step,
                                      PerSample eps, Norm norm, bool targeted, double l1_sparsity, T lo, T hi,
                                      Projection proj, void* stream);
}  // namespace mlsec
