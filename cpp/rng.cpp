#include "rng.hpp"

#include <type_traits>

#if defined(__SSE2__)
#include <immintrin.h>
#define MLSEC_PHILOX_SIMD 1
#elif defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>
#define MLSEC_PHILOX_SIMD 1
#endif
// words_simd passes vectors by value between inlined helpers; none crosses an ABI boundary.
#pragma GCC diagnostic ignored "-Wpsabi"
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's _mm512_mul_epu32 starts from _mm512_undefined_epi32(): a known false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace mlsec {
namespace {
// The rounds of philox4x32_10 on U vectors of W blocks. The compiler's own vectorisation
// of the scalar rounds falls back to 64-bit multiplies; every ISA has a widening 32x32->64
// multiply (vpmuludq, pmuludq, umull), so each tier's build spells the rounds out with it.
// A round is a chain of multiply, shift and xor: U independent vectors in flight keep the
// multiplier busy through that latency.
// Blocks h0 .. h1 - 1 (relative to b0), in passes of U*W blocks (the last one may run past h1).
template <class S, int U> void words_simd(const Philox& p, u64 b0, int h0, int h1, u32* out) {
  using V = typename S::V;
  constexpr int B = U * S::W;
  static_assert(kGroup % B == 0, "a group is whole passes");
  alignas(64) u32 lo[B], hi[B];
  const V m0 = S::set1(0xD2511F53u), m1 = S::set1(0xCD9E8D57u);
  for (int h = h0; h < h1; h += B) {
    for (int i = 0; i < B; ++i) {
      const u64 b = b0 + u64(h + i);
      lo[i] = u32(b);
      hi[i] = u32(b >> 32);
    }
    V c0[U], c1[U], c2[U], c3[U];
    for (int u = 0; u < U; ++u) {
      c0[u] = S::load(lo + u * S::W);
      c1[u] = S::load(hi + u * S::W);
      c2[u] = S::set1(p.s0);
      c3[u] = S::set1(p.s1);
    }
    u32 k0 = p.k0, k1 = p.k1;
    for (int r = 0; r < 10; ++r) {
      if (r > 0) {
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
      }
      const V key0 = S::set1(k0), key1 = S::set1(k1);
      for (int u = 0; u < U; ++u) {
        V hi0, lo0, hi1, lo1;
        S::mulhilo(c0[u], m0, &hi0, &lo0);
        S::mulhilo(c2[u], m1, &hi1, &lo1);
        c0[u] = S::bxor(S::bxor(hi1, c1[u]), key0);
        c2[u] = S::bxor(S::bxor(hi0, c3[u]), key1);
        c1[u] = lo1;
        c3[u] = lo0;
      }
    }
    for (int u = 0; u < U; ++u) S::store4(out + 4 * (h + u * S::W), c0[u], c1[u], c2[u], c3[u]);
  }
}

#if defined(__AVX512F__)
// x86: mul_epu32 multiplies the even 32-bit lanes into 64-bit products; the odd lanes go
// through a 64-bit shift; hi and lo words are blended back into 32-bit lanes.
struct Simd {
  using V = __m512i;
  static constexpr int W = 16;
  static V load(const u32* p) { return _mm512_loadu_si512(p); }
  // Lane i of c0..c3 is block i; the 4x4 transposes within 128-bit lanes leave r_k =
  // blocks k, k+4, k+8, k+12, which two 128-bit lane shuffles put in order.
  static void store4(u32* dst, V c0, V c1, V c2, V c3) {
    const V t0 = _mm512_unpacklo_epi32(c0, c1), t1 = _mm512_unpackhi_epi32(c0, c1);
    const V t2 = _mm512_unpacklo_epi32(c2, c3), t3 = _mm512_unpackhi_epi32(c2, c3);
    const V r0 = _mm512_unpacklo_epi64(t0, t2), r1 = _mm512_unpackhi_epi64(t0, t2);
    const V r2 = _mm512_unpacklo_epi64(t1, t3), r3 = _mm512_unpackhi_epi64(t1, t3);
    const V x0 = _mm512_shuffle_i32x4(r0, r1, _MM_SHUFFLE(1, 0, 1, 0)),
            x1 = _mm512_shuffle_i32x4(r2, r3, _MM_SHUFFLE(1, 0, 1, 0));
    const V x2 = _mm512_shuffle_i32x4(r0, r1, _MM_SHUFFLE(3, 2, 3, 2)),
            x3 = _mm512_shuffle_i32x4(r2, r3, _MM_SHUFFLE(3, 2, 3, 2));
    _mm512_storeu_si512(dst, _mm512_shuffle_i32x4(x0, x1, _MM_SHUFFLE(2, 0, 2, 0)));
    _mm512_storeu_si512(dst + 16, _mm512_shuffle_i32x4(x0, x1, _MM_SHUFFLE(3, 1, 3, 1)));
    _mm512_storeu_si512(dst + 32, _mm512_shuffle_i32x4(x2, x3, _MM_SHUFFLE(2, 0, 2, 0)));
    _mm512_storeu_si512(dst + 48, _mm512_shuffle_i32x4(x2, x3, _MM_SHUFFLE(3, 1, 3, 1)));
  }
  static V set1(u32 x) { return _mm512_set1_epi32(int(x)); }
  static V bxor(V a, V b) { return _mm512_xor_si512(a, b); }
  static void mulhilo(V a, V m, V* hi, V* lo) {
    const V e = _mm512_mul_epu32(a, m), o = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    *hi = _mm512_mask_blend_epi32(__mmask16(0xAAAA), _mm512_srli_epi64(e, 32), o);
    *lo = _mm512_mask_blend_epi32(__mmask16(0xAAAA), e, _mm512_slli_epi64(o, 32));
  }
};
constexpr const char* kSimd = "avx512";
#elif defined(__AVX2__)
struct Simd {
  using V = __m256i;
  static constexpr int W = 8;
  static V load(const u32* p) { return _mm256_loadu_si256(reinterpret_cast<const V*>(p)); }
  // r_k = blocks k and k+4 (one per 128-bit lane) after the in-lane transposes.
  static void store4(u32* dst, V c0, V c1, V c2, V c3) {
    const V t0 = _mm256_unpacklo_epi32(c0, c1), t1 = _mm256_unpackhi_epi32(c0, c1);
    const V t2 = _mm256_unpacklo_epi32(c2, c3), t3 = _mm256_unpackhi_epi32(c2, c3);
    const V r0 = _mm256_unpacklo_epi64(t0, t2), r1 = _mm256_unpackhi_epi64(t0, t2);
    const V r2 = _mm256_unpacklo_epi64(t1, t3), r3 = _mm256_unpackhi_epi64(t1, t3);
    auto* d = reinterpret_cast<V*>(dst);
    _mm256_storeu_si256(d, _mm256_permute2x128_si256(r0, r1, 0x20));
    _mm256_storeu_si256(d + 1, _mm256_permute2x128_si256(r2, r3, 0x20));
    _mm256_storeu_si256(d + 2, _mm256_permute2x128_si256(r0, r1, 0x31));
    _mm256_storeu_si256(d + 3, _mm256_permute2x128_si256(r2, r3, 0x31));
  }
  static V set1(u32 x) { return _mm256_set1_epi32(int(x)); }
  static V bxor(V a, V b) { return _mm256_xor_si256(a, b); }
  static void mulhilo(V a, V m, V* hi, V* lo) {
    const V e = _mm256_mul_epu32(a, m), o = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(e, 32), o, 0xAA);
    *lo = _mm256_blend_epi32(e, _mm256_slli_epi64(o, 32), 0xAA);
  }
};
constexpr const char* kSimd = "avx2";
#elif defined(__SSE2__)
struct Simd {  // baseline x86-64: SSE2 has no dword blend, so the odd lanes are masked in
  using V = __m128i;
  static constexpr int W = 4;
  static V load(const u32* p) { return _mm_loadu_si128(reinterpret_cast<const V*>(p)); }
  static void store4(u32* dst, V c0, V c1, V c2, V c3) {  // a 4x4 transpose
    const V t0 = _mm_unpacklo_epi32(c0, c1), t1 = _mm_unpackhi_epi32(c0, c1);
    const V t2 = _mm_unpacklo_epi32(c2, c3), t3 = _mm_unpackhi_epi32(c2, c3);
    auto* d = reinterpret_cast<V*>(dst);
    _mm_storeu_si128(d, _mm_unpacklo_epi64(t0, t2));
    _mm_storeu_si128(d + 1, _mm_unpackhi_epi64(t0, t2));
    _mm_storeu_si128(d + 2, _mm_unpacklo_epi64(t1, t3));
    _mm_storeu_si128(d + 3, _mm_unpackhi_epi64(t1, t3));
  }
  static V set1(u32 x) { return _mm_set1_epi32(int(x)); }
  static V bxor(V a, V b) { return _mm_xor_si128(a, b); }
  static void mulhilo(V a, V m, V* hi, V* lo) {
    const V e = _mm_mul_epu32(a, m), o = _mm_mul_epu32(_mm_srli_epi64(a, 32), m);
    const V odd = _mm_set_epi32(-1, 0, -1, 0);
    *hi = _mm_or_si128(_mm_srli_epi64(e, 32), _mm_and_si128(odd, o));
    *lo = _mm_or_si128(_mm_andnot_si128(odd, e), _mm_slli_epi64(o, 32));
  }
};
constexpr const char* kSimd = "sse2";
#elif defined(__ARM_NEON) && defined(__aarch64__)
struct Simd {  // umull on the low and high halves, then the hi and lo words unzipped
  using V = uint32x4_t;
  static constexpr int W = 4;
  static V load(const u32* p) { return vld1q_u32(p); }
  static void store4(u32* dst, V c0, V c1, V c2, V c3) { vst4q_u32(dst, (uint32x4x4_t{{c0, c1, c2, c3}})); }
  static V set1(u32 x) { return vdupq_n_u32(x); }
  static V bxor(V a, V b) { return veorq_u32(a, b); }
  static void mulhilo(V a, V m, V* hi, V* lo) {
    const V pl = vreinterpretq_u32_u64(vmull_u32(vget_low_u32(a), vget_low_u32(m)));
    const V ph = vreinterpretq_u32_u64(vmull_high_u32(a, m));
    *lo = vuzp1q_u32(pl, ph);
    *hi = vuzp2q_u32(pl, ph);
  }
};
constexpr const char* kSimd = "neon";
#endif

#ifndef MLSEC_PHILOX_U
#define MLSEC_PHILOX_U 4
#endif
#ifdef MLSEC_PHILOX_SIMD
// U vectors in flight over the whole passes, then single vectors for the rest: a short row
// makes at most W - 1 blocks it does not use.
void words(const Philox& p, u64 b0, int nblocks, u32* out) {
  constexpr int B = MLSEC_PHILOX_U * Simd::W;
  const int full = nblocks / B * B;
  words_simd<Simd, MLSEC_PHILOX_U>(p, b0, 0, full, out);
  words_simd<Simd, 1>(p, b0, full, nblocks, out);
}
#else
constexpr const char* kSimd = "scalar";
void words(const Philox& p, u64 b0, int nblocks, u32* out) {
  for (int i = 0; i < nblocks; ++i) {
    const Block blk = p.block(b0 + u64(i));
    for (int k = 0; k < 4; ++k) out[4 * i + k] = blk.w[k];
  }
}
#endif

// Splits [0, n) among threads; each piece runs philox_span from its own stream element.
template <class F> void fill(i64 n, StreamPos offset, const Philox& p, F&& f) {
  for_each_span(1, n, [&](i64, i64 j0, i64 j1) {
    philox_span(p, offset.plus(u64(j0)), j1 - j0, [&](i64 pos, const u32* w, int a, int b) { f(j0 + pos, w, a, b); });
  });
}
}  // namespace

void philox_words(const Philox& p, u64 b0, int nblocks, u32* out) { words(p, b0, nblocks, out); }
const char* philox_isa() { return kSimd; }

void random_raw_cpu(u32* out, i64 n, Philox p, StreamPos offset) {
  fill(n, offset, p, [=](i64 pos, const u32* w, int a, int b) {
    for (int j = a; j < b; ++j) out[pos + j] = w[j];
  });
}

template <class T> void uniform_cpu(T* out, i64 n, Philox p, StreamPos offset) {
  fill(n, offset, p, [=](i64 pos, const u32* w, int a, int b) {
    for (int j = a; j < b; ++j) out[pos + j] = uniform_as<T>(w[j]);
  });
}

template <class T> void normal_cpu(T* out, i64 n, Philox p, StreamPos offset) {
  fill(n, offset, p, [=](i64 pos, const u32* w, int a, int b) {
    if constexpr (std::is_same_v<T, float>) {
      normals_span(w, a, b, out + pos);  // normals_span writes exactly [a, b)
    } else {
      float z[4 * kSpanBlocks];
      normals_span(w, a, b, z);
      for (int j = a; j < b; ++j) out[pos + j] = T(z[j]);
    }
  });
}

template void uniform_cpu<float>(float*, i64, Philox, StreamPos);
template void uniform_cpu<double>(double*, i64, Philox, StreamPos);
template void normal_cpu<float>(float*, i64, Philox, StreamPos);
template void normal_cpu<double>(double*, i64, Philox, StreamPos);
}  // namespace mlsec
