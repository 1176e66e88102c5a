#include "rng.hpp"

#include <cstdlib>
#include <string>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define MLSEC_X86_SIMD 1
// groups_simd passes vectors by value between functions that all end up inlined into one
// ISA-specific wrapper; no vector crosses an ABI boundary, so the ABI note is moot.
#pragma GCC diagnostic ignored "-Wpsabi"
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
// The rounds of philox4x32_10 on a vector of blocks. mul_epu32 multiplies the even 32-bit
// lanes into 64-bit products; the odd lanes go through a 32-bit shift; hi and lo are
// blended back into 32-bit lanes. S names one ISA's intrinsics; the body is flattened
// into a wrapper compiled for that ISA.
template <class S> void groups_simd(const Philox& p, u64 b0, int ngroups, Group* out) {
  using V = typename S::V;
  alignas(64) u32 c0s[kGroup], c1s[kGroup];
  const V m0 = S::set1(0xD2511F53u), m1 = S::set1(0xCD9E8D57u);
  for (int g = 0; g < ngroups; ++g) {
    for (int i = 0; i < kGroup; ++i) {
      const u64 b = b0 + u64(g * kGroup + i);
      c0s[i] = u32(b);
      c1s[i] = u32(b >> 32);
    }
    for (int h = 0; h < kGroup; h += S::W) {
      V c0 = S::load(c0s + h), c1 = S::load(c1s + h), c2 = S::set1(p.s0), c3 = S::set1(p.s1);
      u32 k0 = p.k0, k1 = p.k1;
      for (int r = 0; r < 10; ++r) {
        if (r > 0) {
          k0 += 0x9E3779B9u;
          k1 += 0xBB67AE85u;
        }
        const V e0 = S::mul(c0, m0), o0 = S::mul(S::srli(c0), m0);
        const V e1 = S::mul(c2, m1), o1 = S::mul(S::srli(c2), m1);
        const V hi0 = S::blend_odd(S::srli(e0), o0), lo0 = S::blend_odd(e0, S::slli(o0));
        const V hi1 = S::blend_odd(S::srli(e1), o1), lo1 = S::blend_odd(e1, S::slli(o1));
        c0 = S::bxor(S::bxor(hi1, c1), S::set1(k0));
        c2 = S::bxor(S::bxor(hi0, c3), S::set1(k1));
        c1 = lo1;
        c3 = lo0;
      }
      S::store(out[g][0] + h, c0);
      S::store(out[g][1] + h, c1);
      S::store(out[g][2] + h, c2);
      S::store(out[g][3] + h, c3);
    }
  }
}

#define MLSEC_AVX512 __attribute__((target("avx512f"))) static
struct Avx512 {
  using V = __m512i;
  static constexpr int W = 16;
  MLSEC_AVX512 V load(const u32* p) { return _mm512_load_si512(p); }
  MLSEC_AVX512 void store(u32* p, V v) { _mm512_store_si512(p, v); }
  MLSEC_AVX512 V set1(u32 x) { return _mm512_set1_epi32(int(x)); }
  MLSEC_AVX512 V mul(V a, V b) { return _mm512_mul_epu32(a, b); }
  MLSEC_AVX512 V srli(V a) { return _mm512_srli_epi64(a, 32); }
  MLSEC_AVX512 V slli(V a) { return _mm512_slli_epi64(a, 32); }
  MLSEC_AVX512 V bxor(V a, V b) { return _mm512_xor_si512(a, b); }
  MLSEC_AVX512 V blend_odd(V even, V odd) { return _mm512_mask_blend_epi32(__mmask16(0xAAAA), even, odd); }
};
#define MLSEC_AVX2 __attribute__((target("avx2"))) static
struct Avx2 {
  using V = __m256i;
  static constexpr int W = 8;
  MLSEC_AVX2 V load(const u32* p) { return _mm256_load_si256(reinterpret_cast<const V*>(p)); }
  MLSEC_AVX2 void store(u32* p, V v) { _mm256_store_si256(reinterpret_cast<V*>(p), v); }
  MLSEC_AVX2 V set1(u32 x) { return _mm256_set1_epi32(int(x)); }
  MLSEC_AVX2 V mul(V a, V b) { return _mm256_mul_epu32(a, b); }
  MLSEC_AVX2 V srli(V a) { return _mm256_srli_epi64(a, 32); }
  MLSEC_AVX2 V slli(V a) { return _mm256_slli_epi64(a, 32); }
  MLSEC_AVX2 V bxor(V a, V b) { return _mm256_xor_si256(a, b); }
  MLSEC_AVX2 V blend_odd(V even, V odd) { return _mm256_blend_epi32(even, odd, 0xAA); }
};

__attribute__((target("avx512f"), flatten)) void groups_avx512(const Philox& p, u64 b0, int ngroups, Group* out) {
  groups_simd<Avx512>(p, b0, ngroups, out);
}
__attribute__((target("avx2"), flatten)) void groups_avx2(const Philox& p, u64 b0, int ngroups, Group* out) {
  groups_simd<Avx2>(p, b0, ngroups, out);
}

using GroupsFn = void (*)(const Philox&, u64, int, Group*);
// MLSEC_PHILOX_ISA=avx2|scalar (read at load) caps the choice, so that tests can check
// every path against the reference on one machine.
GroupsFn pick_groups(const char** name) {
  __builtin_cpu_init();
  const char* cap = std::getenv("MLSEC_PHILOX_ISA");
  const std::string want = cap ? cap : "";
  if (want != "avx2" && want != "scalar" && __builtin_cpu_supports("avx512f")) {
    *name = "avx512";
    return groups_avx512;
  }
  if (want != "scalar" && __builtin_cpu_supports("avx2")) {
    *name = "avx2";
    return groups_avx2;
  }
  *name = "scalar";
  return groups_scalar;
}
const char* groups_name = "scalar";
const GroupsFn groups_impl = pick_groups(&groups_name);
#else
const char* groups_name = "scalar";
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
const char* philox_isa() { return groups_name; }

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
