// pixel_deflection(x, deflections, window, layout, seed, substream, sample_start, out): each
// image gets `deflections` pixels replaced by a random neighbour within `window` (Prakash et
// al. 2018); image r of x draws as image sample_start + r of a larger batch.
#pragma once
#include "cpp/pixel_deflection.hpp"
#include "python/checks.hpp"

namespace mlsec::ops {
inline void require_deflection_args(const ImageDims& g, i64 deflections, i64 window) {
  if (deflections < 0) value_error("deflections must be >= 0, got " + std::to_string(deflections));
  if (window < 1) value_error("window must be >= 1, got " + std::to_string(window));
  if (deflections > 0 && g.n * g.c > 0 && (g.h < 1 || g.w < 1 || g.h >= (i64(1) << 31) || g.w >= (i64(1) << 31)))
    value_error("x must have images of 1 to 2**31 - 1 pixels a side");
  if (deflections > 0 && g.n * g.c > 0 && u64(deflections) > (u64(1) << 63) / u64(g.n) / u64(g.c))  // block counter
    value_error("deflections * N * C must be <= 2**63, got " + std::to_string(deflections) + " * " +
                std::to_string(g.n) + " * " + std::to_string(g.c));
}

template <class A> void pixel_deflection(const Go<A>& go, py::handle x_, i64 deflections, i64 window,
                                         const std::string& layout, py::handle seed, py::handle substream,
                                         py::handle sample_start, py::handle out_) {
  const A x(x_, "x"), out(out_, "out", true);
  require_real(x, "x");
  require_out(x, out);
  require_no_partial_overlap(out, x, "x");
  const ImageDims g = image_dims(x.shape(), layout, "x");
  require_deflection_args(g, deflections, window);
  const Philox p = philox_arg(seed, substream);
  const i64 s0 = sample_start_arg(sample_start, g.n, g.c, deflections);
  go.run(x, kReals, [&](auto t) {
    using T = decltype(t);
    go(MLSEC_DRIVERS(pixel_deflection), ptr<T>(x), ptr<T>(out), g.n, g.c, g.h, g.w, g.layout == Layout::nchw,
       deflections, window, p, s0);
  });
}
}  // namespace mlsec::ops
