// Random resize and pad (Xie, Wang, Zhang, Ren & Yuille, "Mitigating adversarial effects
// through randomization", ICLR 2018): sample r is resized to size x size and written at
// (top, left) of a zero out_size x out_size canvas. The (size, top, left) triples come
// from the stream in the Python layer (docs/rng.md); this kernel is deterministic.
//
// Resampling follows OpenCV's cv::resize, so results match it within float rounding:
//   nearest  (INTER_NEAREST): src = min(floor(dst * (1 / (size / in))), in - 1), the
//            top-left convention (no half-pixel shift), computed in double as OpenCV does;
//   bilinear (INTER_LINEAR): pixel centres, g = (dst + 0.5) * (in / size) - 0.5 in
//            double, s = floor(g), weights (1 - f, f) with f = float(g - s), as OpenCV 5
//            (4.x rounds g to float first: ~1e-5 apart); columns clamp to the edge
//            with weight 0 (OpenCV's horizontal pass), rows clamp their indices only
//            (OpenCV's vertical pass); horizontal pass first, then vertical, in T.
#pragma once
#include <cmath>

#include "common.hpp"

namespace mlsec {
enum class Layout { nchw, nhwc };

// One output coordinate's source taps and weights.
struct Taps {
  int s0, s1;
  float a0, a1;
};

// 1 / (size / in): the source step per output pixel, in double as OpenCV computes it.
MLSEC_HD double resize_step(i64 in, i64 size) { return 1.0 / (double(size) / double(in)); }

MLSEC_HD i64 nearest_src(i64 dst, double step, i64 in) {
  const i64 s = i64(floor(double(dst) * step));
  return s < in - 1 ? s : in - 1;
}

// edge_weight: columns (weight 0 beyond the edge); rows keep the weight, clamp the index.
MLSEC_HD Taps linear_taps(i64 dst, double step, i64 in, bool edge_weight) {
  const double g = (double(dst) + 0.5) * step - 0.5;
  i64 s = i64(floor(g));
  float f = float(g - double(s));
  if (edge_weight) {
    if (s < 0) s = 0, f = 0.0f;
    if (s >= in - 1) s = in - 1, f = 0.0f;
  }
  const i64 s0 = clampv<i64>(s, 0, in - 1), s1 = clampv<i64>(s + 1, 0, in - 1);
  return Taps{int(s0), int(s1), 1.0f - f, f};
}

template <class T> MLSEC_HD T lerp2(T a, T b, float wa, float wb) { return a * T(wa) + b * T(wb); }

template <class T> void random_resize_pad_cpu(const T* x, T* out, i64 n, i64 c, i64 h, i64 w, i64 out_size,
                                              const int* params, Layout layout, bool bilinear);
template <class T> void random_resize_pad_cuda(const T* x, T* out, i64 n, i64 c, i64 h, i64 w, i64 out_size,
                                               const int* params, Layout layout, bool bilinear, void* stream);
}  // namespace mlsec
