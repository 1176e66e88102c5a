// Bit-depth reduction, the first squeezer of feature squeezing (Xu, Evans & Qi, NDSS 2018).
// With m = 2^bits - 1 and span = hi - lo (taken in double, then rounded to the data dtype as
// NumPy rounds a Python float), in ART's FeatureSqueezing operation order:
//   out = ((rint(((x - lo) / span) * m) / m) * span) + lo,   rint rounding half to even.
// Float data computes in its own dtype; uint8 computes in double, then rounds the result
// (half to even) and clamps it to [0, 255] so that it fits the dtype again.
#pragma once
#include <cmath>
#include <type_traits>

#include "common.hpp"

namespace mlsec {
// The type the formula runs in for data of type T.
template <class T> using bit_depth_calc = std::conditional_t<std::is_floating_point_v<T>, T, double>;

template <class T> struct BitDepth {
  using C = bit_depth_calc<T>;
  C lo, span, m;
  BitDepth(int bits, double lo_, double hi_) : lo(C(lo_)), span(C(hi_ - lo_)), m(C((1 << bits) - 1)) {}
  // UnitSpan: span == 1, and t / 1 == t exactly, so the CPU driver may skip one of the two
  // divisions (the dearest instructions here) without changing a bit.
  template <bool UnitSpan = false> MLSEC_HD T apply(T x) const {
    const C t = C(x) - lo;
    const C v = ((rintv((UnitSpan ? t : t / span) * m) / m) * span) + lo;
    if constexpr (std::is_floating_point_v<T>)
      return v;
    else
      return T(clampv(rintv(v), C(0), C(255)));
  }
  MLSEC_HD T operator()(T x) const { return apply(x); }
};

template <class T> void bit_depth_cpu(const T* x, T* out, i64 total, int bits, double lo, double hi);
template <class T> void bit_depth_cuda(const T* x, T* out, i64 total, int bits, double lo, double hi, void* stream);
}  // namespace mlsec
