// random_resize_pad(x, params, out_size, layout, interpolation, out): image r resized to
// params[r, 0] pixels a side and written at (params[r, 1], params[r, 2]) of a zero
// out_size x out_size canvas (Xie et al. 2018).
#pragma once
#include <vector>

#include "cpp/random_resize_pad.hpp"
#include "python/checks.hpp"

namespace mlsec::ops {
inline bool interp_arg(const std::string& s) {
  if (s == "bilinear") return true;
  if (s == "nearest") return false;
  value_error("interpolation must be 'nearest' or 'bilinear', got " + shown(s));
}

// out_size >= the input's sides; out is (N, C, S, S) or (N, S, S, C), x's dtype, not x.
template <class A> void require_resize_out(const A& x, const ImageDims& g, i64 out_size, const A& out) {
  if (g.h < 1 || g.w < 1) value_error("x must have images of at least 1 x 1 pixels");
  if (out_size < g.h || out_size < g.w)
    value_error("out_size must be >= the input's sides (" + std::to_string(g.h) + ", " + std::to_string(g.w) +
                "), got " + std::to_string(out_size));
  const bool nchw = g.layout == Layout::nchw;
  if (nchw ? out.shape() != std::initializer_list<i64>{g.n, g.c, out_size, out_size}
           : out.shape() != std::initializer_list<i64>{g.n, out_size, out_size, g.c})
    value_error("out must have shape (N, C, out_size, out_size) in NCHW or (N, out_size, out_size, C) in NHWC");
  if (out.data() == x.data() && x.n * x.d > 0) value_error("out must not be x (random_resize_pad writes a new canvas)");
  if (out.dt != x.dt) type_error(std::string("out must have the dtype of x (") + dt_name(x.dt) + ")");
}

// (N, 3) int32 rows (size, top, left), 1 <= size <= out_size, 0 <= top, left <= out_size - size:
// the kernels index with them unchecked.
template <class A>
void require_resize_params(const Go<A>& go, const A& prm, const A& x, const ImageDims& g, i64 out_size) {
  if (prm.shape() != std::initializer_list<i64>{g.n, 3} || prm.dt != Dt::i32)
    value_error("params must be an int32 array of shape (N, 3): size, top, left per sample");
  require_same_device(x, "x", prm, "params");
  std::vector<int> buf;
  const int* p = go.readable(prm, buf);
  for (i64 r = 0; r < g.n; ++r) {
    const i64 s = p[3 * r], t = p[3 * r + 1], l = p[3 * r + 2];
    if (s < 1 || s > out_size || t < 0 || l < 0 || t > out_size - s || l > out_size - s)
      value_error("params row " + std::to_string(r) + " does not fit in out_size " + std::to_string(out_size));
  }
}

template <class A> void random_resize_pad(const Go<A>& go, py::handle x_, py::handle params_, i64 out_size,
                                          const std::string& layout, const std::string& interp, py::handle out_) {
  const A x(x_, "x"), out(out_, "out", true);
  require_real(x, "x");
  const ImageDims g = image_dims(x.shape(), layout, "x");
  const bool bilinear = interp_arg(interp);
  require_resize_out(x, g, out_size, out);
  require_no_partial_overlap(out, x, "x");
  const A prm(params_, "params");
  require_resize_params(go, prm, x, g, out_size);
  go.run(out, kReals, [&](auto t) {  // out has x's dtype
    using T = decltype(t);
    go(MLSEC_DRIVERS(random_resize_pad), ptr<T>(x), ptr<T>(out), g.n, g.c, g.h, g.w, out_size, ptr<const int>(prm),
       g.layout, bilinear);
  });
}
}  // namespace mlsec::ops
