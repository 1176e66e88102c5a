// median_filter(x, h, w, layout, mode, out): the median of each pixel's h x w window, per
// channel, SciPy's edge modes "reflect" and "mirror".
#pragma once
#include "cpp/median_filter.hpp"
#include "python/checks.hpp"

namespace mlsec::ops {
inline void require_window(int h, int w, const Planes& g) {
  if (h < 1 || w < 1 || h > kMaxWindow || w > kMaxWindow)
    value_error("size must be in 1.." + std::to_string(kMaxWindow) + " along each axis, got (" + std::to_string(h) +
                ", " + std::to_string(w) + ")");
  if (h > g.H || w > g.W)
    value_error("size (" + std::to_string(h) + ", " + std::to_string(w) + ") is larger than the image (" +
                std::to_string(g.H) + ", " + std::to_string(g.W) + ")");
}

inline Edge edge_of(const std::string& mode) {
  if (mode == "reflect") return Edge::reflect;
  if (mode == "mirror") return Edge::mirror;
  value_error("mode must be 'reflect' or 'mirror', got '" + mode + "'");
}

template <class A> void median_filter(const Go<A>& go, py::handle x_, int h, int w, const std::string& layout,
                                      const std::string& mode, py::handle out_) {
  const A x(x_, "x"), out(out_, "out", true);
  const Planes g = image_args(x, out, layout, {Dt::f32, Dt::f64, Dt::u8});
  require_window(h, w, g);
  const Window win{h, w, edge_of(mode)};
  go.run(x, kFloatsAndBytes, [&](auto t) {
    using T = decltype(t);
    go(MLSEC_DRIVERS(median_filter), ptr<T>(x), ptr<T>(out), g, win);
  });
}
}  // namespace mlsec::ops
