#include "rng.hpp"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define MLSEC_X86_SIMD 1
#endif

namespace mlsec {
namespace {
void groups_scalar(const Philox& p, u64 b0, int ngroups, Group* out) {
  for (int g = 0; g < ngroups; ++g)
    for (int i = 0; i < kGroup; ++i) {
      const Block blk = p.block(b0 + u64(g * kGroup + i));
      for (int k = 0; k < 4; ++k) out[g][k][i] = blk.w[k];
    }
}

#ifdef MLSEC_X86_SIMD
// The same rounds as philox4x32_10, a vector of blocks at a time. mul_epu32 multiplies the
// even 32-bit lanes into 64-bit products; the odd lanes go through a 32-bit shift. hi and lo
// are blended back into 32-bit lanes.
#define MLSEC_PHILOX_SIMD(ATTR, NAME, V, W, LOAD, STORE, SET1, MUL, SRLI, SLLI, XOR, ADD, BLEND_ODD)  \
  ATTR void NAME(const Philox& p, u64 b0, int ngroups, Group* out) {                                \
    alignas(64) u32 c0s[kGroup], c1s[kGroup];                                                       \
    const V m0 = SET1(int(0xD2511F53u)), m1 = SET1(int(0xCD9E8D57u));                              \
    for (int g = 0; g < ngroups; ++g) {                                                             \
      for (int i = 0; i < kGroup; ++i) {                                                            \
        const u64 b = b0 + u64(g * kGroup + i);                                                     \
        c0s[i] = u32(b);                                                                            \
        c1s[i] = u32(b >> 32);                                                                      \
      }                                                                                             \
      for (int h = 0; h < kGroup; h += W) {                                                         \
        V c0 = LOAD((const V*)(c0s + h)), c1 = LOAD((const V*)(c1s + h));                           \
        V c2 = SET1(int(p.s0)), c3 = SET1(int(p.s1));                                               \
        u32 k0 = p.k0, k1 = p.k1;                                                                   \
        for (int r = 0; r < 10; ++r) {                                                              \
          if (r > 0) {                                                                              \
            k0 += 0x9E3779B9u;                                                                      \
            k1 += 0xBB67AE85u;                                                                      \
          }                                                                                         \
          const V e0 = MUL(c0, m0), o0 = MUL(SRLI(c0, 32), m0);                                     \
          const V e1 = MUL(c2, m1), o1 = MUL(SRLI(c2, 32), m1);                                     \
          const V hi0 = BLEND_ODD(SRLI(e0, 32), o0), lo0 = BLEND_ODD(e0, SLLI(o0, 32));             \
          const V hi1 = BLEND_ODD(SRLI(e1, 32), o1), lo1 = BLEND_ODD(e1, SLLI(o1, 32));             \
          c0 = XOR(XOR(hi1, c1), SET1(int(k0)));                                                    \
          c2 = XOR(XOR(hi0, c3), SET1(int(k1)));                                                    \
          c1 = lo1;                                                                                 \
          c3 = lo0;                                                                                 \
        }                                                                                           \
        STORE((V*)(out[g][0] + h), c0);                                                             \
        STORE((V*)(out[g][1] + h), c1);                                                             \
        STORE((V*)(out[g][2] + h), c2);                                                             \
        STORE((V*)(out[g][3] + h), c3);                                                             \
      }                                                                                             \
    }                                                                                               \
  }

#define MLSEC_BLEND512(a, b) _mm512_mask_blend_epi32(__mmask16(0xAAAA), a, b)
#define MLSEC_BLEND256(a, b) _mm256_blend_epi32(a, b, 0xAA)
MLSEC_PHILOX_SIMD(__attribute__((target("avx512f"))), groups_avx512, __m512i, 16, _mm512_load_si512, _mm512_store_si512,
                  _mm512_set1_epi32, _mm512_mul_epu32, _mm512_srli_epi64, _mm512_slli_epi64, _mm512_xor_si512,
                  _mm512_add_epi32, MLSEC_BLEND512)
MLSEC_PHILOX_SIMD(__attribute__((target("avx2"))), groups_avx2, __m256i, 8, _mm256_load_si256, _mm256_store_si256,
                  _mm256_set1_epi32, _mm256_mul_epu32, _mm256_srli_epi64, _mm256_slli_epi64, _mm256_xor_si256,
                  _mm256_add_epi32, MLSEC_BLEND256)

using GroupsFn = void (*)(const Philox&, u64, int, Group*);
GroupsFn pick_groups() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return groups_avx512;
  if (__builtin_cpu_supports("avx2")) return groups_avx2;
  return groups_scalar;
}
const GroupsFn groups_impl = pick_groups();
#else
const auto groups_impl = groups_scalar;
#endif

// Splits [0, n) among threads; each piece runs philox_span from its own stream element.
template <class F> void fill(i64 n, StreamPos offset, const Philox& p, F&& f) {
  for_each_span(1, n, [&](i64, i64 j0, i64 j1) {
    philox_span(p, offset.plus(u64(j0)), j1 - j0, [&](i64 pos, const Block& b, int k0, int k1) { f(j0 + pos, b, k0, k1); });
  });
}
}  // namespace

void philox_groups(const Philox& p, u64 b0, int ngroups, Group* out) { groups_impl(p, b0, ngroups, out); }

void random_raw_cpu(u32* out, i64 n, Philox p, StreamPos offset) {
  fill(n, offset, p, [=](i64 pos, const Block& b, int k0, int k1) {
    for (int k = k0; k < k1; ++k) out[pos + k] = b.w[k];
  });
}

template <class T> void uniform_cpu(T* out, i64 n, Philox p, StreamPos offset) {
  fill(n, offset, p, [=](i64 pos, const Block& b, int k0, int k1) {
    for (int k = k0; k < k1; ++k) out[pos + k] = uniform_as<T>(b.w[k]);
  });
}

template <class T> void normal_cpu(T* out, i64 n, Philox p, StreamPos offset) {
  fill(n, offset, p, [=](i64 pos, const Block& b, int k0, int k1) {
    float z[4];
    normals_of(b, z);
    for (int k = k0; k < k1; ++k) out[pos + k] = T(z[k]);
  });
}

template void uniform_cpu<float>(float*, i64, Philox, StreamPos);
template void uniform_cpu<double>(double*, i64, Philox, StreamPos);
template void normal_cpu<float>(float*, i64, Philox, StreamPos);
template void normal_cpu<double>(double*, i64, Philox, StreamPos);
}  // namespace mlsec
