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
// Integer data keeps its dtype. Nearest copies pixels, exactly. Bilinear mixes in double
// with the weights (1 - f, f) taken in double, whose sum is 1 (f has 24 bits), where
// OpenCV's float32 1 - f may miss by 2^-25 (a flat int32 area would move by up to 64);
// the result is rounded half to even and saturated to T's range (saturate_cast of a
// float). OpenCV's 8-bit path mixes in 11-bit fixed point instead: 1 level apart at most.
#pragma once
#include <cmath>
#include <type_traits>

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

// The bilinear mix of two T values in float_result<T>: lerp2 for float data; for integers
// in double with weights (1 - wb, wb) (wa = 1 - wb rounded to float32, not used).
template <class T> MLSEC_HD float_result<T> mix2(float_result<T> a, float_result<T> b, float wa, float wb) {
  if constexpr (std::is_floating_point_v<T>)
    return lerp2(a, b, wa, wb);
  else
    return a * (1.0 - double(wb)) + b * double(wb);
}

// A bilinear mix of T data computed in float_result<T>, back to T: float as it is; an
// integer rounded half to even and saturated to [min, max] of T (bounds compared in double:
// -2^(bits-1) and 2^(bits-1) for signed T, 0 and 2^bits for unsigned ones, all exact).
template <class T> MLSEC_HD T resize_store(float_result<T> v) {
  if constexpr (std::is_floating_point_v<T>) {
    return v;
  } else {
    // (numeric_limits is host-only for nvcc without --expt-relaxed-constexpr)
    constexpr bool sgn = T(-1) < T(0);
    constexpr u64 half = u64(1) << (8 * sizeof(T) - 1);  // 2^(bits-1)
    constexpr T tmax = sgn ? T(half - 1) : T(~u64(0)), tmin = sgn ? T(-tmax - 1) : T(0);
    constexpr double lo = double(tmin), top = sgn ? double(half) : 2.0 * double(half);  // top = max + 1
    const double r = rintv(v);
    return r >= top ? tmax : (r >= lo ? T(r) : tmin);
  }
}

template <class T> void random_resize_pad_cpu(const T* x, T* out, i64 n, i64 c, i64 h, i64 w, i64 out_size,
                                              const int* params, Layout layout, bool bilinear);
template <class T> void random_resize_pad_cuda(const T* x, T* out, i64 n, i64 c, i64 h, i64 w, i64 out_size,
                                               const int* params, Layout layout, bool bilinear, void* stream);
}  // namespace mlsec
