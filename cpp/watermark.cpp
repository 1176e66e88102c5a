#include "watermark.hpp"

#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define MLSEC_SHANI 1
#endif

namespace mlsec {
namespace {
constexpr u32 kK[64] = {0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
                        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
                        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
                        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
                        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
                        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
                        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
                        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

inline u32 rotr(u32 x, int n) { return (x >> n) | (x << (32 - n)); }

void compress_scalar(u32 h[8], const unsigned char* p) {
  u32 w[64];
  for (int i = 0; i < 16; ++i)
    w[i] = u32(p[4 * i]) << 24 | u32(p[4 * i + 1]) << 16 | u32(p[4 * i + 2]) << 8 | u32(p[4 * i + 3]);
  for (int i = 16; i < 64; ++i) {
    const u32 s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    const u32 s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  u32 a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; ++i) {
    const u32 t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kK[i] + w[i];
    const u32 t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

#ifdef MLSEC_SHANI
// The x86 SHA extensions (Goldmont and later, Zen): two rounds per sha256rnds2, the
// message schedule by sha256msg1/msg2, state kept as (ABEF, CDGH).
__attribute__((target("sha,sse4.1"))) void compress_shani(u32 h[8], const unsigned char* p) {
  const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i*)&h[0]), 0xB1);
  __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i*)&h[4]), 0x1B);
  __m128i s0 = _mm_alignr_epi8(t, s1, 8);
  s1 = _mm_blend_epi16(s1, t, 0xF0);
  const __m128i abef = s0, cdgh = s1;
  __m128i m[4];
  for (int g = 0; g < 4; ++g) m[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i*)(p + 16 * g)), swap);
  for (int g = 0; g < 16; ++g) {
    if (g >= 4) {  // W[4g..4g+3] from the previous 16 words, in place of W[4g-16..]
      __m128i w = _mm_sha256msg1_epu32(m[g & 3], m[(g + 1) & 3]);
      w = _mm_add_epi32(w, _mm_alignr_epi8(m[(g + 3) & 3], m[(g + 2) & 3], 4));
      m[g & 3] = _mm_sha256msg2_epu32(w, m[(g + 3) & 3]);
    }
    __m128i msg = _mm_add_epi32(m[g & 3], _mm_loadu_si128((const __m128i*)&kK[4 * g]));
    s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
    s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(msg, 0x0E));
  }
  s0 = _mm_add_epi32(s0, abef);
  s1 = _mm_add_epi32(s1, cdgh);
  t = _mm_shuffle_epi32(s0, 0x1B);
  s1 = _mm_shuffle_epi32(s1, 0xB1);
  _mm_storeu_si128((__m128i*)&h[0], _mm_blend_epi16(t, s1, 0xF0));
  _mm_storeu_si128((__m128i*)&h[4], _mm_alignr_epi8(s1, t, 8));
}

bool has_shani() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3)) return false;
  return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#endif

using Compress = void (*)(u32*, const unsigned char*);
const Compress compress =
#ifdef MLSEC_SHANI
    has_shani() ? compress_shani :
#endif
                compress_scalar;

struct Sha256 {
  u32 h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  unsigned char buf[64];
  u64 total = 0;
  int fill = 0;

  void block(const unsigned char* p) { compress(h, p); }

  void update(const unsigned char* p, i64 len) {
    total += u64(len);
    if (fill) {
      const i64 take = std::min<i64>(len, 64 - fill);
      std::memcpy(buf + fill, p, size_t(take));
      fill += int(take), p += take, len -= take;
      if (fill < 64) return;
      block(buf);
      fill = 0;
    }
    for (; len >= 64; p += 64, len -= 64) block(p);
    std::memcpy(buf, p, size_t(len));
    fill = int(len);
  }

  void digest(unsigned char out[32]) {
    const u64 bits = total * 8;
    const unsigned char one = 0x80, zero = 0;
    update(&one, 1);
    while (fill != 56) update(&zero, 1);
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = (unsigned char)(bits >> (56 - 8 * i));
    update(len, 8);
    for (int i = 0; i < 32; ++i) out[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
  }
};
}  // namespace

void hmac_sha256_rows(const unsigned char* key, i64 key_len, const unsigned char* rows, i64 n, i64 row_bytes,
                      unsigned char* out) {
  unsigned char k[64] = {};
  if (key_len > 64) {
    Sha256 s;
    s.update(key, key_len);
    s.digest(k);
  } else {
    std::memcpy(k, key, size_t(key_len));
  }
  // The padded keys' first blocks are hashed once and the states copied for every row.
  unsigned char ipad[64], opad[64];
  for (int i = 0; i < 64; ++i) ipad[i] = k[i] ^ 0x36, opad[i] = k[i] ^ 0x5c;
  Sha256 inner0, outer0;
  inner0.update(ipad, 64);
  outer0.update(opad, 64);
  for_each_row(n, row_bytes / 4 + 1, [&](i64 r) {
    Sha256 inner = inner0, outer = outer0;
    unsigned char mid[32];
    inner.update(rows + r * row_bytes, row_bytes);
    inner.digest(mid);
    outer.update(mid, 32);
    outer.digest(out + r * 32);
  });
}
}  // namespace mlsec
