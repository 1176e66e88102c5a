// The CPU side of the L2 box search (project.hpp), shared by project.cpp and pgd_step.cpp:
// one sample's search and output, with delta materialised once, blocks where nothing clips
// summed cheaply, and the confirming round folded into the output pass.
#pragma once
#include <atomic>

#include "project.hpp"
#include "samples.hpp"

namespace mlsec {
// Per-element operands as the loops read them: one value or an array (indexed from the
// sample's start). A type each, so that the loops are compiled, and vectorised, for each.
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

// l2_box_term's sums at scale t over one chunk [j0, j1), in reduce.hpp's canonical order
// (lane l of each block of kLanes elements, lanes folded by halving), cheaper where nothing
// clips: a block whose elements are all free adds only their v^2, which is all l2_box_term
// gives them (its +0.0 terms change no sum), so the sums are chunk_sum's to the bit.
// (Measured against chunk_sum<3> of l2_box_term, one thread, float32: the exact pgd_step on
// (64, 3072) took about 1.7x instead of 2.0x the time of ball_then_clip at the AVX-512 tier,
// 1.9x instead of 2.7x at AVX2, 2.1x instead of 3.0x at the baseline.) First: also store
// delta = src(j) into v.
template <bool First, class T, class Src, class B, class L, class H>
Sums<3> l2_box_lanes(const Src& src, T* v, B base, L lo, H hi, T t, i64 j0, i64 j1) {
  double acc[3][kLanes];
  for (int k = 0; k < 3; ++k)
    for (int l = 0; l < kLanes; ++l) acc[k][l] = 0.0;
  for (i64 j = j0; j < j1; j += kLanes) {
    const int m = int(j1 - j < kLanes ? j1 - j : kLanes);
    T* vj = v + j;
    int clipped = 0;
    for (int l = 0; l < m; ++l) {
      if constexpr (First) vj[l] = src(j + l);
      const T y = base[j + l] + t * vj[l];
      clipped |= int(y < lo[j + l]) | int(hi[j + l] < y);
    }
    if (!clipped) {
      for (int l = 0; l < m; ++l) acc[1][l] += double(vj[l] * vj[l]);
      continue;
    }
    for (int l = 0; l < m; ++l) {
      const Sums<3> s = l2_box_term(vj[l], base[j + l], lo[j + l], hi[j + l], t);
      for (int k = 0; k < 3; ++k) acc[k][l] += s.v[k];
    }
  }
  Sums<3> s;
  for (int k = 0; k < 3; ++k) {
    for (int h = kLanes / 2; h > 0; h /= 2)
      for (int l = 0; l < h; ++l) acc[k][l] += acc[k][l + h];
    s.v[k] = acc[k][0];
  }
  return s;
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
// scale), delta_j = src(j); v is scratch for delta (d values). The pass at a Newton
// candidate writes the output and checks the elements' states: if none differs from the
// last step's, the sums (hence the candidate) are the same, and the output stands. (Not
// where out is an operand the next round would read: `out_is_operand`.) Gathering the
// statistics in that pass too, for the next step where a state did change, measured
// slower: rows of 3072 rarely need it, and on rows of 150528 it costs about what it saves.
template <class T, class Src, class B, class L, class H> void l2_box_sample(const Src& src, T* v, B base, L lo, H hi,
                                                                            T* out, i64 d, double s0, double eps,
                                                                            bool out_is_operand, const Inner& in) {
  bool first = true, written = false;
  double last = 0.0;
  const double s = l2_box_scale(
      s0, eps,
      [&](double t) {
        const Sums<3> r = in.sum<3>(d, [&](i64 j0, i64 j1) {
          return first ? l2_box_lanes<true>(src, v, base, lo, hi, T(t), j0, j1)
                       : l2_box_lanes<false>(src, v, base, lo, hi, T(t), j0, j1);
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
