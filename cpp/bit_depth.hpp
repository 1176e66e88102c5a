// Bit-depth reduction, the first squeezer of feature squeezing (Xu, Evans & Qi, NDSS 2018),
// as ART's FeatureSqueezing computes it on NumPy 2. With m = 2^bits - 1 (rounded to double,
// as np.rint(2**bits - 1) is) and span = hi - lo:
//   t   = (x - lo) / span                     in the data's float type; double for integers
//   out = ((rint(t * m) / m) * span) + lo     in double, rint rounding half to even
// then rounded once to the result type: float32 for float32 data, double otherwise
// (integers give float64, as NumPy's true division does). ART's float32 data meets clip
// values given as Python numbers, which NumPy 2 rounds to float32 for the two normalising
// operations, and its NumPy float64 max_value, which promotes the rest to float64.
#pragma once
#include <cmath>

#include "common.hpp"

namespace mlsec {
// m = 2^bits - 1 for bits in 1..64, rounded to double (2^bits from 54 bits on).
MLSEC_HD double bit_depth_levels(int bits) { return double(bits >= 64 ? ~u64(0) : (u64(1) << bits) - 1); }

template <class T> struct BitDepth {
  using R = float_result<T>;  // the normalisation's type and the result's
  R lo_r, span_r;
  double lo, span, m;
  BitDepth(int bits, double lo_, double hi_)
      : lo_r(R(lo_)), span_r(R(hi_ - lo_)), lo(lo_), span(hi_ - lo_), m(bit_depth_levels(bits)) {}
  // UnitSpan: span == 1, and v / 1 == v * 1 == v exactly, so the CPU driver may skip a
  // division and a product without changing a bit.
  template <bool UnitSpan = false> MLSEC_HD R apply(T x) const {
    const R t = R(x) - lo_r;
    const double q = rintv(double(UnitSpan ? t : t / span_r) * m) / m;
    return R((UnitSpan ? q : q * span) + lo);
  }
  MLSEC_HD R operator()(T x) const { return apply(x); }
};

template <class T> void bit_depth_cpu(const T* x, float_result<T>* out, i64 total, int bits, double lo, double hi);
template <class T>
void bit_depth_cuda(const T* x, float_result<T>* out, i64 total, int bits, double lo, double hi, void* stream);
}  // namespace mlsec
