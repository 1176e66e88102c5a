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

// ---- The ball intersected with a box ----------------------------------------------------
// project(..., lo, hi) and pgd_step's default projection solve
//   min ||delta - v||_2  s.t.  ||delta||_p <= eps,  A_i <= delta_i <= B_i
// (pgd_step: A = lo - x0, B = hi - x0). The constraints separate given the ball's multiplier
// (KKT), so per element delta_i = clip(s * v_i, A_i, B_i) (L2, s = 1/(1 + lambda)) or
// clip(soft(v_i, tau), A_i, B_i) (L1), with s the largest in [0, 1] (tau the smallest >= 0)
// that keeps the norm within eps; |delta_i| is monotone in the multiplier, so it is found by
// a bracketed search. Where no multiplier reaches the ball (a box that excludes 0), the
// limit s = 0 (tau = inf) gives clip(0, A, B), the box's point nearest the origin.
enum class Projection : int { exact = 0, ball_then_clip = 1 };

// A box bound: one value (p == nullptr) or one per element, read through p.
template <class T> struct Bound {
  const T* p;
  T value;
  MLSEC_HD T operator[](i64 i) const { return p ? p[i] : value; }
};
// (-inf, inf): no box, the plain projection.
template <class T> MLSEC_HD bool unbounded(const Bound<T>& lo, const Bound<T>& hi) {
  return !lo.p && !hi.p && lo.value == T(-INFINITY) && hi.value == T(INFINITY);
}

// L2 statistics of one element at the scale t: (sum of c^2 over the clipped, sum of v^2 over
// the free, number clipped), c = bound - base the clipped element's value. The element is
// classified as the output is computed, y = base + t v in T against [lo, hi] (base: x0 for
// pgd_step, -0.0 for project, so that base + y == y), and its terms are computed in T too
// (summed in double): the statistics describe the result's own clip, and GCC vectorises
// the loop on every tier (masks of double selects on float data cost it 4x). The norm at t
// is about s0 + t^2 s1.
template <class T> MLSEC_HD Sums<3> l2_box_term(T v, T base, T lo, T hi, T t) {
  const T y = base + t * v, cl = clampv(y, lo, hi), c = cl - base;
  const bool free = cl == y;
  Sums<3> s;
  s.v[0] = double(free ? T(0) : c * c);
  s.v[1] = double(free ? v * v : T(0));
  s.v[2] = free ? 0.0 : 1.0;
  return s;
}

// Whether an element's state (below, inside or above [lo, hi]) differs at the scales t and
// u: where none does, the sums at u are those at t.
template <class T> MLSEC_HD int l2_box_moved(T v, T base, T lo, T hi, T t, T u) {
  const T a = base + t * v, b = base + u * v;
  return (int(a < lo) ^ int(b < lo)) | (int(hi < a) ^ int(hi < b));
}

// L1 statistics of one element at the threshold t: (sum of |delta| over the elements that
// do not move with t (clipped, or soft-thresholded to 0), number and sum of |v| over those
// that do). The norm at t is s0 + s2 - t s1.
MLSEC_HD Sums<3> l1_box_term(double v, double a, double b, double t) {
  const double av = v < 0.0 ? -v : v, m = av - t, w = m > 0.0 ? (v < 0.0 ? -m : m) : 0.0;
  const double c = w < a ? a : (w > b ? b : w);
  const bool moves = m > 0.0 && c == w;
  Sums<3> s;
  s.v[0] = moves ? 0.0 : (c < 0.0 ? -c : c);
  s.v[1] = moves ? 1.0 : 0.0;
  s.v[2] = moves ? av : 0.0;
  return s;
}

constexpr int kBoxRounds = 100;

// The largest x in [lo, hi] with ok(x), ok holding on [lo, x*] (lo itself when nowhere).
// step(x, ok) evaluates ok at x and returns Newton's candidate from there: the root of the
// norm with every element's state (clipped, free) frozen at x. The result is the first x
// that is its own candidate (with its state, the formula gives x back), or the bracket's
// feasible end where the candidates stop falling inside it (then halving it). same(x), for
// a candidate about to be evaluated, may answer that every element's state at x is the one
// at the last step, so that x is its own candidate: the CPU checks that while writing the
// output; false always gives the same result, one step later.
template <class Step, class Same>
MLSEC_HD double largest_feasible(double x, double lo, double hi, Step&& step, Same&& same) {
  const double lo0 = lo, hi0 = hi;
  bool lo_seen = false, hi_seen = false;  // lo known ok, hi known not ok (else the interval's ends)
  for (int it = 0; it < kBoxRounds; ++it) {
    bool ok;
    const double cand = step(x, ok);
    if (cand == x || (ok && x == hi0) || (!ok && x == lo0)) return x;
    if (ok) {
      lo = x;
      lo_seen = true;
    } else {
      hi = x;
      hi_seen = true;
    }
    double next = cand < lo0 ? lo0 : (cand > hi0 ? hi0 : cand);
    const bool inside = (next > lo || (!lo_seen && next == lo)) && (next < hi || (!hi_seen && next == hi));
    if (!inside) {
      next = lo + 0.5 * (hi - lo);
      if (!(next > lo && next < hi)) return lo;
    }
    if (next == cand && same(next)) return next;
    x = next;
  }
  return lo;
}
struct NeverSame {
  MLSEC_HD bool operator()(double) const { return false; }
};

// L2: s in [0, 1] from the ball's scale s0 = eps/||v|| (1 inside the ball); stats(t) sums
// l2_box_term. When nothing clips at a scale, the answer is s0 (the ball's projection stays
// in the box, and the result is its bits).
template <class Stats, class Same = NeverSame>
MLSEC_HD double l2_box_scale(double s0, double eps, Stats&& stats, Same&& same = Same{}) {
  const double e2 = eps * eps;
  return largest_feasible(
      s0, 0.0, 1.0,
      [&](double t, bool& ok) {
        const Sums<3> s = stats(t);
        ok = s.v[0] + t * t * s.v[1] <= e2;
        if (s.v[2] == 0.0) return s0;
        if (s.v[1] > 0.0 && s.v[0] <= e2) return sqrt(e2 - s.v[0]) / sqrt(s.v[1]);
        return ok ? 1.0 : 0.0;
      },
      same);
}

// L1: tau in [0, l1] (l1 = ||v||_1: all soft thresholds are 0 above it) from the ball's
// threshold th0 (l1_theta_cpu, block_l1_theta); stats(t) sums l1_box_term. Searched as
// x = -tau, so that the feasible part is again the lower one.
template <class Stats> MLSEC_HD double l1_box_threshold(double th0, double l1, double eps, Stats&& stats) {
  if (!(eps > 0.0)) return INFINITY;
  return -largest_feasible(
      -th0, -l1, 0.0,
      [&](double x, bool& ok) {
        const double t = -x;
        const Sums<3> s = stats(t);
        ok = s.v[0] + (s.v[2] - t * s.v[1]) <= eps;
        if (s.v[1] > 0.0) return -((s.v[0] + s.v[2] - eps) / s.v[1]);
        return ok ? 0.0 : -l1;
      },
      NeverSame{});
}

// CPU: the L1 projection's theta for d (its |d| is used) with l1 = sum|d| > eps (project.cpp's
// l1_estimate, then l1_refine); +inf for eps == 0.
class Inner;
template <class T> double l1_theta_cpu(const T* d, i64 n, double eps, double l1, const Inner& in);

template <class T>
void project_cpu(const T* delta, T* out, i64 n, i64 d, PerSample eps, Norm norm, Bound<T> lo, Bound<T> hi);
template <class T> void project_cuda(const T* delta, T* out, i64 n, i64 d, PerSample eps, Norm norm, Bound<T> lo,
                                     Bound<T> hi, void* stream);
}  // namespace mlsec
