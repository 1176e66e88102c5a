// Argument checks shared by the host and device bindings of the randomised defences
// (noise, random_resize_pad, pixel_deflection, class_counts). Shapes arrive as vectors so
// that host arrays and __cuda_array_interface__ objects go through the same checks.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host.hpp"
#include "random_resize_pad.hpp"

namespace mlsec {
// "normal" (gaussian_noise) or "uniform" (uniform_noise): the draw of cpp/noise.hpp.
inline Norm noise_kind(const std::string& k) {
  if (k == "normal") return Norm::l2;
  if (k == "uniform") return Norm::inf;
  value_error("noise kind must be 'normal' or 'uniform', got '" + k + "'");
}

// x is out's shape, or one row broadcast over out's rows (smoothing's noisy batches).
// A is Host or Dev; require_like is found for either.
template <class A> bool noise_broadcast(const A& x, const A& out) {
  if (x.n == 1 && out.n != 1 && x.d == out.d && x.dt == out.dt) return true;
  require_like(x, "x", out, "out");
  return false;
}

struct ImageDims {
  i64 n, c, h, w;
  Layout layout;
};

inline std::vector<i64> shape_of(const py::array& a) {
  std::vector<i64> s;
  for (py::ssize_t k = 0; k < a.ndim(); ++k) s.push_back(a.shape(k));
  return s;
}

inline ImageDims image_dims(const std::vector<i64>& s, const std::string& layout, const char* name) {
  if (layout != "NCHW" && layout != "NHWC") value_error("layout must be 'NCHW' or 'NHWC', got '" + layout + "'");
  if (s.size() != 4) value_error(std::string(name) + " must be a batch of images, 4 axes (" + layout + "), got " + std::to_string(s.size()));
  return layout == "NCHW" ? ImageDims{s[0], s[1], s[2], s[3], Layout::nchw} : ImageDims{s[0], s[3], s[1], s[2], Layout::nhwc};
}
inline ImageDims image_dims(const py::array& a, const std::string& layout, const char* name) { return image_dims(shape_of(a), layout, name); }

inline bool interp_arg(const std::string& s) {
  if (s == "bilinear") return true;
  if (s == "nearest") return false;
  value_error("interpolation must be 'nearest' or 'bilinear', got '" + s + "'");
}

// out_size >= the input's sides; out is (N, C, S, S) or (N, S, S, C) with x's dtype.
inline void require_resize_shape(const ImageDims& g, i64 out_size, const std::vector<i64>& out_shape) {
  if (g.h < 1 || g.w < 1) value_error("x must have images of at least 1 x 1 pixels");
  if (out_size < g.h || out_size < g.w)
    value_error("out_size must be >= the input's sides (" + std::to_string(g.h) + ", " + std::to_string(g.w) + "), got " + std::to_string(out_size));
  const std::vector<i64> want = g.layout == Layout::nchw ? std::vector<i64>{g.n, g.c, out_size, out_size} : std::vector<i64>{g.n, out_size, out_size, g.c};
  if (out_shape != want) value_error("out must have shape (N, C, out_size, out_size) in NCHW or (N, out_size, out_size, C) in NHWC");
}
inline void require_resize_out(const Host& x, const ImageDims& g, i64 out_size, const Host& out) {
  require_resize_shape(g, out_size, shape_of(out.arr));
  if (out.data() == x.data() && x.n * x.d > 0) value_error("out must not be x (random_resize_pad writes a new canvas)");
  if (out.dt != x.dt) type_error(std::string("out must have the dtype of x (") + dt_name(x.dt) + ")");
}

// (N, 3) int32 rows (size, top, left), 1 <= size <= out_size, 0 <= top, left <= out_size - size.
inline const int* resize_params(const py::array& a, const ImageDims& g, i64 out_size) {
  if (a.ndim() != 2 || a.shape(0) != g.n || a.shape(1) != 3 || a.dtype().kind() != 'i' || a.itemsize() != 4)
    value_error("params must be an int32 array of shape (N, 3): size, top, left per sample");
  const int* p = static_cast<const int*>(a.data());
  for (i64 r = 0; r < g.n; ++r) {
    const i64 s = p[3 * r], t = p[3 * r + 1], l = p[3 * r + 2];
    if (s < 1 || s > out_size || t < 0 || l < 0 || t > out_size - s || l > out_size - s)
      value_error("params row " + std::to_string(r) + " does not fit in out_size " + std::to_string(out_size));
  }
  return p;
}

inline void require_deflection_args(const ImageDims& g, i64 deflections, i64 window) {
  if (deflections < 0) value_error("deflections must be >= 0, got " + std::to_string(deflections));
  if (window < 1) value_error("window must be >= 1, got " + std::to_string(window));
  if (deflections > 0 && g.n * g.c > 0 && (g.h < 1 || g.w < 1 || g.h >= (i64(1) << 31) || g.w >= (i64(1) << 31)))
    value_error("x must have images of 1 to 2**31 - 1 pixels a side");
}

enum class VoteType { f32, f64, i32, i64 };

inline VoteType vote_type(char kind, i64 itemsize) {
  if (kind == 'f' && itemsize == 4) return VoteType::f32;
  if (kind == 'f' && itemsize == 8) return VoteType::f64;
  if (kind == 'i' && itemsize == 4) return VoteType::i32;
  if (kind == 'i' && itemsize == 8) return VoteType::i64;
  type_error("the model's output must be float32/float64 logits or int32/int64 labels");
}

struct Votes {
  VoteType type;
  bool is_logits;
};

// pred: (n,) integer labels or (n, k) float logits; counts: int64 of k + 1 slots.
inline Votes votes_check(VoteType t, const std::vector<i64>& shape, i64 k, char counts_kind, i64 counts_itemsize, const std::vector<i64>& counts_shape) {
  const bool logits = t == VoteType::f32 || t == VoteType::f64;
  if (k < 1) value_error("the number of classes must be >= 1, got " + std::to_string(k));
  if (logits ? (shape.size() != 2 || shape[1] != k) : shape.size() != 1)
    value_error("the model's output must be labels (batch,) or logits (batch, " + std::to_string(k) + ")");
  if (counts_kind != 'i' || counts_itemsize != 8 || counts_shape != std::vector<i64>{k + 1}) value_error("counts must be int64 of k + 1 slots");
  return Votes{t, logits};
}
inline Votes votes_arg(const py::array& pred, i64 k, const py::array& counts) {
  return votes_check(vote_type(pred.dtype().kind(), pred.itemsize()), shape_of(pred), k, counts.dtype().kind(), counts.itemsize(), shape_of(counts));
}

template <class F> void vote_switch(VoteType t, F&& f) {
  switch (t) {
    case VoteType::f32: return f(float{});
    case VoteType::f64: return f(double{});
    case VoteType::i32: return f(std::int32_t{});
    default: return f(std::int64_t{});
  }
}
}  // namespace mlsec
