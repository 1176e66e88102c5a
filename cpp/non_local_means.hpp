// Non-local means (Buades, Coll & Morel, CVPR 2005), per channel, in the form of OpenCV's
// fastNlMeansDenoising that Xu, Evans & Qi (NDSS 2018) squeeze with. With t = template_size
// and s = search_size (both odd), rt = t/2, rs = s/2 and I extended by mirroring
// (d c b | a b c d, OpenCV's BORDER_REFLECT_101):
//   ssd(p, o) = sum_{|u|_inf <= rt} (I(p+u) - I(p+o+u))^2   (column sums first, in order)
//   w(p, o)   = exp(-ssd(p, o) * c),  c = 1 / (t^2 h^2)        (mean squared distance / h^2)
//   out(p)    = sum_o w(p, o) I(p+o) / sum_o w(p, o),  o over |o|_inf <= rs in row-major order.
// All in float32; exp is exp_neg below, so the CPU and the GPU agree to the bit. uint8 output
// is rounded half to even. OpenCV differs in its arithmetic only: fixed-point weights read
// from a table, weights under 0.001 dropped, integer rounding.
#pragma once
#include <cmath>
#include <cstring>

#include "image.hpp"

namespace mlsec {
struct NlmParams {
  float c;     // 1 / (t^2 h^2), rounded once from double
  int rt, rs;  // template and search radii
};

MLSEC_HD float pow2i(int n) {
#if defined(__CUDA_ARCH__)
  return __int_as_float((n + 127) << 23);
#else
  const u32 b = u32(n + 127) << 23;
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
#endif
}

// e^a for a <= 0 (Cephes' expf polynomial, a few ulp; a below -87 is taken as -87, whose
// weight is negligible next to the centre's 1). Plain operations only, no FMA: same bits
// on every backend.
MLSEC_HD float exp_neg(float a) {
  a = a < -87.0f ? -87.0f : a;
  const float n = rintf(a * 1.44269504088896341f);
  float r = a - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  return (p * (r * r) + r + 1.0f) * pow2i(static_cast<int>(n));
}

template <class T> MLSEC_HD T nlm_store(float num, float den) {
  const float v = num / den;
  if constexpr (sizeof(T) == 1) return T(clampv(rintf(v), 0.0f, 255.0f));
  else return v;
}

template <class T> void non_local_means_cpu(const T* x, T* out, Planes g, NlmParams prm);
template <class T> void non_local_means_cuda(const T* x, T* out, Planes g, NlmParams prm, void* stream);
}  // namespace mlsec
