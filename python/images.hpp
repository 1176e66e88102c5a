// Binding-side checks shared by the image ops (median_filter, non_local_means), for host
// and device arrays alike: layout, window sizes, modes. Messages match the Python layer's.
#pragma once
#include <string>
#include <vector>

#include "host.hpp"
#include "image.hpp"
#include "non_local_means.hpp"

namespace mlsec {
inline std::vector<i64> shape_of(const Host& a) {
  std::vector<i64> s;
  for (py::ssize_t k = 0; k < a.arr.ndim(); ++k) s.push_back(a.arr.shape(k));
  return s;
}

// (N, C, H, W) / (N, T, C, H, W) for "NCHW", (N, H, W, C) / (N, T, H, W, C) for "NHWC".
inline Planes planes_of(const std::vector<i64>& s, const std::string& layout) {
  if (layout != "NCHW" && layout != "NHWC") value_error("layout must be 'NCHW' or 'NHWC', got '" + layout + "'");
  const size_t nd = s.size();
  if (nd != 4 && nd != 5) value_error("x must be 4-D (N, C, H, W) / (N, H, W, C) or 5-D (N, T, ...) video, got " + std::to_string(nd) + "-D");
  const i64 outer = nd == 5 ? s[0] * s[1] : s[0];
  if (layout == "NCHW") return Planes{outer, s[nd - 3], s[nd - 2], s[nd - 1], false};
  return Planes{outer, s[nd - 1], s[nd - 3], s[nd - 2], true};
}

inline void require_window(int h, int w, const Planes& g, int max_size) {
  if (h < 1 || w < 1 || h > max_size || w > max_size)
    value_error("size must be in 1.." + std::to_string(max_size) + " along each axis, got (" + std::to_string(h) + ", " + std::to_string(w) + ")");
  if (h > g.H || w > g.W)
    value_error("size (" + std::to_string(h) + ", " + std::to_string(w) + ") is larger than the image (" + std::to_string(g.H) + ", " + std::to_string(g.W) + ")");
}

inline Edge edge_of(const std::string& mode) {
  if (mode == "reflect") return Edge::reflect;
  if (mode == "mirror") return Edge::mirror;
  value_error("mode must be 'reflect' or 'mirror', got '" + mode + "'");
}

// An output an op writes while still reading its input's neighbourhood: no overlap at all.
inline void require_disjoint(const char* o, i64 obytes, const char* i, i64 ibytes) {
  if (o < i + ibytes && i < o + obytes) value_error("out must not overlap x (this op reads neighbouring pixels)");
}

inline void require_bits(int bits) {
  if (bits < 1 || bits > 16) value_error("bits must be an integer in 1..16, got " + std::to_string(bits));
}

inline void require_range(double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi))
    value_error("clip must be finite (low, high) with low < high, got (" + std::to_string(lo) + ", " + std::to_string(hi) + ")");
}
}  // namespace mlsec

namespace mlsec {
inline NlmParams nlm_params(double h, int template_size, int search_size) {
  if (!(h > 0.0) || std::isinf(h)) value_error("h must be finite and > 0, got " + std::to_string(h));
  if (template_size < 1 || template_size > 15 || template_size % 2 == 0)
    value_error("template_size must be odd, in 1..15, got " + std::to_string(template_size));
  if (search_size < 1 || search_size > 45 || search_size % 2 == 0)
    value_error("search_size must be odd, in 1..45, got " + std::to_string(search_size));
  const double t = template_size;
  return NlmParams{static_cast<float>(1.0 / (t * t * h * h)), template_size / 2, search_size / 2};
}
}  // namespace mlsec
