// Float32 log, exp and sin/cos of a fraction of a turn, each a fixed sequence of IEEE-754
// operations (+, -, *, sqrt, exact floor, bit moves), so that C++, CUDA and the Numba port
// (src/mlsec_kernels/_numba/fmath.py) compute the same bits; libm and CUDA's intrinsics
// differ in the last place between platforms (docs/design.md). Polynomials are Cephes'
// (S. Moshier) single-precision minimax fits; error within ~2 ulp on the ranges used.
// The build forbids contraction (-ffp-contract=off, --fmad=false): keep it that way.
#pragma once
#include <cmath>
#include <cstring>

#include "common.hpp"

namespace mlsec {
MLSEC_HD u32 f32_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  u32 u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}

MLSEC_HD float f32_from_bits(u32 u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
#endif
}

// floor(y) for |y| < 2^31, exact: floorf itself does not vectorise under GCC's default
// -ftrapping-math, a truncating conversion does.
MLSEC_HD float floor_f32(float y) {
  const float t = float(int(y));
  return t > y ? t - 1.0f : t;
}

// Natural log of a positive normal float (the random stream only asks for (0, 1]):
// x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log x = log1p(m - 1) + e*ln2, ln2 split in
// two so that e*ln2_hi is exact.
MLSEC_HD float log_f32(float x) {
  const u32 b = f32_bits(x);
  int e = int(b >> 23) - 126;  // x = m * 2^e, m in [0.5, 1)
  float m = f32_from_bits((b & 0x007fffffu) | 0x3f000000u);
  const bool low = m < 0.707106781186547524f;  // branch-free, so loops of it vectorise
  e -= int(low);
  m = (low ? m + m : m) - 1.0f;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  const float fe = float(e);
  y = y + -2.12194440e-4f * fe;
  y = y + -0.5f * z;
  return (m + y) + 0.693359375f * fe;
}

// e^x for x in [-87, 88] (clamped there): x = n*ln2 + r, |r| <= ln2/2, 2^n by bits.
MLSEC_HD float exp_f32(float x) {
  x = clampv(x, -87.0f, 88.0f);
  // n = floor(y), as an int and a float. Not int(y): that is undefined for a NaN x (UBSan's
  // float-cast-overflow), and guarding it with a select (a NaN test, a max) cost the baseline
  // tier 40% of exp_f32, GCC threading the clamp's branches through it. Instead, adding
  // 1.5 * 2^23 rounds y (in [-124.6, 127.5]) to an integer k held in the sum's low bits
  // (0x4b400000 + k), then one step down where k > y: the same n, as fast as the cvt. A NaN
  // x gives a meaningless but defined ni (unsigned arithmetic), and a NaN result through r.
  const float y = 1.44269504088896341f * x + 0.5f;
  const float s = y + 12582912.0f;
  const u32 ni = f32_bits(s) - 0x4b400000u - u32(s - 12582912.0f > y);
  const float n = float(int(ni));
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * z + r + 1.0f;
  return p * f32_from_bits((ni + 127u) << 23);
}

// sin(2*pi*u) and cos(2*pi*u) for u in [0, 1), reduced exactly in quarter turns (u*4 and
// its distance to the nearest integer are exact), then Cephes' sinf/cosf kernels on
// [-pi/4, pi/4] and the quadrant's rotation.
MLSEC_HD void sincos_turn(float u, float* s, float* c) {
  const float t = u * 4.0f;
  const float q = floor_f32(t + 0.5f);
  const float x = (t - q) * 1.57079632679489662f;
  const float z = x * x;
  float ps = -1.9515295891e-4f;
  ps = ps * z + 8.3321608736e-3f;
  ps = ps * z - 1.6666654611e-1f;
  const float sx = ps * z * x + x;
  float pc = 2.443315711809948e-5f;
  pc = pc * z - 1.388731625493765e-3f;
  pc = pc * z + 4.166664568298827e-2f;
  const float cx = (pc * z * z - 0.5f * z) + 1.0f;
  // quadrant q in {0, 1, 2, 3, 4 (= 0)}: odd quadrants swap sin and cos; quadrants 2, 3
  // negate the sine and 1, 2 the cosine, as a flip of the sign bit (the same bits as
  // unary minus, without the compares and blends a select would cost on AVX2 and SSE2)
  const int qi = int(q);
  const bool odd = (qi & 1) != 0;
  const float ss = odd ? cx : sx, cc = odd ? sx : cx;
  *s = f32_from_bits(f32_bits(ss) ^ (u32(qi & 2) << 30));
  *c = f32_from_bits(f32_bits(cc) ^ (u32((qi + 1) & 2) << 30));
}
}  // namespace mlsec
