// Non-local means (Buades, Coll & Morel, CVPR 2005), per channel, in the form of OpenCV's
// fastNlMeansDenoising that Xu, Evans & Qi (NDSS 2018) squeeze with. With t = template_size
// and s = search_size (both odd), rt = t/2, rs = s/2 and I extended by mirroring
// (d c b | a b c d, OpenCV's BORDER_REFLECT_101):
//   ssd(p, o) = sum_{|u|_inf <= rt} (I(p+u) - I(p+o+u))^2   (column sums first, in order)
//   w(p, o)   = exp(-ssd(p, o) * c),  c = 1 / (t^2 h^2)        (mean squared distance / h^2)
//   out(p)    = sum_o w(p, o) I(p+o) / sum_o w(p, o),  o over |o|_inf <= rs in row-major order.
// All in float32; exp is fmath.hpp's exp_f32, so the CPU, the GPU and Numba agree to the
// bit. uint8 output is rounded half to even. OpenCV differs in its arithmetic only: fixed-point weights read
// from a table, weights under 0.001 dropped, integer rounding.
#pragma once
#include <cmath>

#include "fmath.hpp"
#include "image.hpp"

namespace mlsec {
struct NlmParams {
  float c;     // nlm_c(t, h)
  int rt, rs;  // template and search radii
};

// c = 1 / (t^2 h^2), rounded once from double and capped at float32's largest value: with a
// tiny h an exact match (ssd 0) keeps weight exp(-0) = 1, where 0 * inf would be NaN.
MLSEC_HD float nlm_c(int t, double h) {
  const double c = 1.0 / (double(t) * t * h * h);
  return float(c < 3.4028234663852886e38 ? c : 3.4028234663852886e38);
}

template <class T> MLSEC_HD T nlm_store(float num, float den) {
  const float v = num / den;
  if constexpr (sizeof(T) == 1)
    return T(clampv(rintv(v), 0.0f, 255.0f));
  else
    return v;
}

template <class T> void non_local_means_cpu(const T* x, T* out, Planes g, NlmParams prm);
template <class T> void non_local_means_cuda(const T* x, T* out, Planes g, NlmParams prm, void* stream);
}  // namespace mlsec
