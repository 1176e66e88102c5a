// Euclidean projection of each sample onto its Lp ball {||d||_p <= eps}, p in {inf, 2, 1}.
// inf clamps; 2 rescales by eps/||d||_2; 1 soft-thresholds |d| by theta with
// sum(max(|d| - theta, 0)) = eps (Duchi et al. 2008; Condat 2016).
//
// The L1 threshold is defined through its active set, so that backends that find the set
// differently (Michelot's steps from the block maxima's threshold, Condat's algorithm for
// slow rows, on the CPU; bisection on the GPU) agree to the bit: with a = |d|, theta(t) = (sum of a_j over a_j > t -
// eps) /
// #{a_j > t}, both sums in the canonical order of reduce.hpp, and theta is the fixed point
// t = theta(t) reached from the backend's estimate (one or two rounds from where each
// backend starts). A sample whose norm is not finite is left unchanged; eps == 0 projects
// onto 0.
#pragma once
#include <cmath>

#include "common.hpp"
#include "reduce.hpp"

namespace mlsec {

// NaN and inf fail it (inf - inf is NaN), without <cmath> on the device.
MLSEC_HD bool finite(double v) { return v - v == 0.0; }
template <class T> MLSEC_HD T absv(T v) { return v < T(0) ? -v : v; }

// L2: the factor that brings a sample of squared norm ss into the ball (1 inside it).
MLSEC_HD double l2_scale(double ss, double eps) {
  const double nrm = sqrt(ss);
  return finite(nrm) && nrm > eps ? eps / nrm : 1.0;
}

// L1: the soft threshold of one element by th (th = T(theta); +inf sends it to 0, 0 keeps
// every value, NaN included, which is how samples outside the projection pass through).
template <class T> MLSEC_HD T soft_elem(T d, T th) {
  const T a = absv(d) - th;
  return !(a <= T(0)) ? (d < T(0) ? -a : a) : T(0);
}

// One element of the L-inf projection.
template <class T> MLSEC_HD T project_inf_elem(T d, T e) { return clampv(d, -e, e); }

// Sums<2> term of the active-set statistics: (count, sum) of a over a > t.
MLSEC_HD Sums<2> active_term(double a, double t) {
  Sums<2> s;
  s.v[0] = a > t ? 1.0 : 0.0;
  s.v[1] = a > t ? a : 0.0;
  return s;
}

// The fixed-point iteration on theta from a start t; stats(t) returns active_term's row sum.
// Sets {a > t} are nested, so an unchanged count means an unchanged set, hence theta.
// From below theta rises monotonically; from above one round lands below it.
template <class Stats> MLSEC_HD double l1_refine(double t, double eps, Stats&& stats) {
  double theta = t, prev = -1.0;
  for (int it = 0; it < 100; ++it) {
    const Sums<2> s = stats(t);
    if (s.v[0] == 0.0 && prev < 0.0) {  // a start at or above max|d|: restart from below
      t = 0.0;
      prev = 0.0;
      continue;
    }
    // Same set: converged. Empty set: theta rounded up to max|d| (eps below its ulp).
    if (s.v[0] == prev || s.v[0] == 0.0) break;
    prev = s.v[0];
    theta = (s.v[1] - eps) / s.v[0];
    t = theta;
  }
  return theta;
}

// The sparse L1 direction's selection rule: position q*(d-1) in the ascending order of |g|
// (NumPy's linear quantile); the quantile is a_k itself when frac == 0 or a_{k+1} == a_k,
// else strictly above a_k, and then the selection |g| > a_k is |g| >= a_{k+1}. So the
// threshold is a_k or a_{k+1}, and coordinates with |g| >= threshold move.
struct QuantilePos {
  i64 k;
  bool strict_needs_next;  // frac != 0: the threshold is a_{k+1} unless it equals a_k
};
MLSEC_HD QuantilePos quantile_pos(double q, i64 d) {
  const double pos = q * double(d - 1);
  i64 k = i64(pos);
  if (k > d - 1) k = d - 1;
  return QuantilePos{k, pos - double(k) != 0.0};
}

// Selected coordinates are those with |g| >= thr (NaN counts as selected, see pgd_step.hpp).
template <class T> MLSEC_HD bool selected(T g, T thr) { return !(absv(g) < thr); }

// CPU: the L1 projection's theta for d (its |d| is used) with l1 = sum|d| > eps (project.cpp's
// l1_estimate, then l1_refine); +inf for eps == 0.
class Inner;
template <class T> double l1_theta_cpu(const T* d, i64 n, double eps, double l1, const Inner& in);

template <class T> void project_cpu(const T* delta, T* out, i64 n, i64 d, PerSample eps, Norm norm);
template <class T> void project_cuda(const T* delta, T* out, i64 n, i64 d, PerSample eps, Norm norm, void* stream);
}  // namespace mlsec
