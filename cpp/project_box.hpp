// The CPU side of the L2 box search (project.hpp), shared by project.cpp and pgd_step.cpp:
// one sample's search and output, with delta materialised once and the last round folded
// into the output pass.
#pragma once
#include <atomic>

#include "project.hpp"
#include "samples.hpp"

namespace mlsec {
// Per-element operands as the loops read them: one value, an array (indexed from the
// sample's start), or zero (project's base). A type each, so that the loops are compiled,
// and vectorised, for each kind.
template <class T> struct OneBound {
  T v;
  OneBound at(i64) const { return *this; }
  T operator[](i64) const { return v; }
};
template <class T> struct ArrayBound {
  const T* p;
  ArrayBound at(i64 o) const { return {p + o}; }
  T operator[](i64 j) const { return p[j]; }
};
template <class T, class F> void with_bounds(const Bound<T>& lo, const Bound<T>& hi, F&& f) {
  if (lo.p && hi.p) return f(ArrayBound<T>{lo.p}, ArrayBound<T>{hi.p});
  if (lo.p) return f(ArrayBound<T>{lo.p}, OneBound<T>{hi.value});
  if (hi.p) return f(OneBound<T>{lo.value}, ArrayBound<T>{hi.p});
  f(OneBound<T>{lo.value}, OneBound<T>{hi.value});
}

// l2_box_term's sums over [j0, j1); the first round (src) also stores delta into v.
template <class T, class Src, class B, class L, class H>
MLSEC_FLATTEN Sums<3> l2_box_first(const Src& src, T* v, B base, L lo, H hi, T t, i64 j0, i64 j1) {
  return chunk_sum<3>(j0, j1, [&](i64 j) {
    v[j] = src(j);
    return l2_box_term(v[j], base[j], lo[j], hi[j], t);
  });
}
template <class T, class B, class L, class H>
MLSEC_FLATTEN Sums<3> l2_box_chunk(const T* v, B base, L lo, H hi, T t, i64 j0, i64 j1) {
  return chunk_sum<3>(j0, j1, [&](i64 j) { return l2_box_term(v[j], base[j], lo[j], hi[j], t); });
}
template <class T, class B, class L, class H>
void l2_box_span(const T* v, B base, L lo, H hi, T t, T* o, i64 j0, i64 j1) {
  for (i64 j = j0; j < j1; ++j) o[j] = clampv(base[j] + v[j] * t, lo[j], hi[j]);
}
// The output at scale u, and whether any element's state differs from the one at t.
template <class T, class B, class L, class H>
int l2_box_span_moved(const T* v, B base, L lo, H hi, T t, T u, T* o, i64 j0, i64 j1) {
  int moved = 0;
  for (i64 j = j0; j < j1; ++j) {
    o[j] = clampv(base[j] + v[j] * u, lo[j], hi[j]);
    moved |= l2_box_moved(v[j], base[j], lo[j], hi[j], t, u);
  }
  return moved;
}

// One sample: out = clip(base + delta * s, lo, hi) with s from l2_box_scale (s0 the ball's
// scale), delta_j = src(j). v is scratch for delta (d values). The output pass after a
// Newton step also checks the elements' states: unchanged, the step was exact and the
// output stands (unless out is an operand the next round would read: `out_is_operand`).
template <class T, class Src, class B, class L, class H> void l2_box_sample(const Src& src, T* v, B base, L lo, H hi,
                                                                            T* out, i64 d, double s0, double eps,
                                                                            bool out_is_operand, const Inner& in) {
  bool first = true, written = false;
  double last = 0.0;
  const double s = l2_box_scale(
      s0, eps,
      [&](double t) {
        const Sums<3> r = in.sum<3>(d, [&](i64 j0, i64 j1) {
          return first ? l2_box_first(src, v, base, lo, hi, T(t), j0, j1) : l2_box_chunk(v, base, lo, hi, T(t), j0, j1);
        });
        first = false;
        last = t;
        return r;
      },
      [&](double u) {
        if (out_is_operand) return false;
        std::atomic<int> moved{0};
        in.spans(d, [&](i64 j0, i64 j1) {
          if (l2_box_span_moved(v, base, lo, hi, T(last), T(u), out, j0, j1)) moved.store(1, std::memory_order_relaxed);
        });
        written = !moved.load(std::memory_order_relaxed);
        return written;
      });
  if (!written) in.spans(d, [&](i64 j0, i64 j1) { l2_box_span(v, base, lo, hi, T(s), out, j0, j1); });
}
}  // namespace mlsec
