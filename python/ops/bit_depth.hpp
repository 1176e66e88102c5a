// bit_depth(x, bits, lo, hi, out): x quantised to 2^bits levels over [lo, hi] (cpp/bit_depth.hpp);
// x float32, float64 or any integer dtype, out float32 for float32 x, float64 otherwise.
#pragma once
#include "cpp/bit_depth.hpp"
#include "python/checks.hpp"

namespace mlsec::ops {
inline void require_bits(int bits) {
  if (bits < 1 || bits > 64) value_error("bits must be an integer in 1..64, got " + std::to_string(bits));
}

inline void require_range(double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi))
    value_error("clip must be finite (low, high) with low < high, got (" + float_repr(lo) + ", " + float_repr(hi) +
                ")");
}

template <class A> void bit_depth(const Go<A>& go, py::handle x_, int bits, double lo, double hi, py::handle out_) {
  const A x(x_, "x"), out(out_, "out", true);
  require_real(x, "x");
  require_out(x, out, float_result_dt(x.dt));
  require_no_partial_overlap(out, x, "x");
  require_bits(bits);
  require_range(lo, hi);
  // ART's order normalises float32 data in float32: lo, hi and the span must fit there (a
  // double at or beyond 2^128 - 2^103 rounds to inf; tested in double, as squeeze._f32_span).
  constexpr double kF32Inf = 0x1p128 - 0x1p103;
  if (x.dt == Dt::f32 && !(std::fabs(lo) < kF32Inf && std::fabs(hi) < kF32Inf &&
                           std::fabs(double(float(hi)) - double(float(lo))) < kF32Inf))
    value_error("clip must span a finite range in float32 for float32 x, got (" + float_repr(lo) + ", " +
                float_repr(hi) + ")");
  go.run(x, kReals, [&](auto t) {
    using T = decltype(t);
    go(MLSEC_DRIVERS(bit_depth), ptr<T>(x), ptr<float_result<T>>(out), x.n * x.d, bits, lo, hi);
  });
}
}  // namespace mlsec::ops
