// median_filter(x, h, w, layout, mode, out): the median of each pixel's h x w window, per
// channel, any real dtype, SciPy's edge modes "reflect" and "mirror".
#pragma once
#include "cpp/median_filter.hpp"
#include "python/checks.hpp"

namespace mlsec::ops {
inline void require_window(int h, int w) {
  if (h < 1 || w < 1 || i64(h) * w > kMaxWindowPixels)
    value_error("size must be at least 1 along each axis and at most " + std::to_string(kMaxWindowPixels) +
                " pixels in all, got (" + std::to_string(h) + ", " + std::to_string(w) + ")");
}

inline Edge edge_of(const std::string& mode) {
  if (mode == "reflect") return Edge::reflect;
  if (mode == "mirror") return Edge::mirror;
  value_error("mode must be 'reflect' or 'mirror', got " + shown(mode));
}

template <class A> void median_filter(const Go<A>& go, py::handle x_, int h, int w, const std::string& layout,
                                      const std::string& mode, py::handle out_) {
  const A x(x_, "x"), out(out_, "out", true);
  const Planes g = planes_of(x.shape(), layout);  // image_args' checks, with any real dtype
  require_real(x, "x");
  require_out(x, out);
  require_disjoint(out, x);
  require_window(h, w);
  const Window win{h, w, edge_of(mode)};
  go.run(x, kReals, [&](auto t) {
    using T = decltype(t);
    go(MLSEC_DRIVERS(median_filter), ptr<T>(x), ptr<T>(out), g, win);
  });
}
}  // namespace mlsec::ops
