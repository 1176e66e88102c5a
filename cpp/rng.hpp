// The random stream as arrays (spec/rng.md): raw words, uniforms in [0, 1), standard
// normals. Element e of a call with element offset o is stream element o + e, i.e. word
// (o+e) % 4 of block (o+e) / 4 (normals: the spec's Box-Muller pairs), so an array filled
// in one call or in pieces with matching offsets holds the same bits. float64 outputs
// are the float32 numbers widened.
#pragma once
#include "common.hpp"
#include "philox.hpp"

namespace mlsec {
template <class T> MLSEC_HD T uniform_as(u32 w) { return T(uniform_co(w)); }

void random_raw_cpu(u32* out, i64 n, Philox p, StreamPos offset);
template <class T> void uniform_cpu(T* out, i64 n, Philox p, StreamPos offset);
template <class T> void normal_cpu(T* out, i64 n, Philox p, StreamPos offset);
void random_raw_cuda(u32* out, i64 n, Philox p, StreamPos offset, void* stream);
template <class T> void uniform_cuda(T* out, i64 n, Philox p, StreamPos offset, void* stream);
template <class T> void normal_cuda(T* out, i64 n, Philox p, StreamPos offset, void* stream);
}  // namespace mlsec

#if !defined(__CUDACC__)
namespace mlsec {
constexpr int kGroup = 16;  // blocks per SIMD group (one AVX-512 vector of each word)
constexpr int kBatch = 4;   // groups per generator call
using Group = u32[4][kGroup];

// Blocks b0 .. b0 + kGroup*ngroups - 1 in SoA form: word k of block b0 + kGroup*g + i is
// out[g][k][i]. AVX-512 or AVX2 (widening vpmuludq; the compiler's own vectorisation
// falls back to slow 64-bit multiplies) or scalar, chosen once at load time.
void philox_groups(const Philox& p, u64 b0, int ngroups, Group* out);
const char* philox_isa();  // "avx512", "avx2" or "scalar"

// Visits stream elements [g, g + len) block by block: f(pos, block, k0, k1) handles words
// k0..k1-1 of `block`, which are local elements pos+k0 .. pos+k1-1 (pos < 0 for a head
// block that starts before g). Whole blocks come from philox_groups and feed f in a
// straight loop the compiler vectorises; f must be inlinable (a lambda).
template <class F> MLSEC_CLONES void philox_span(const Philox& p, StreamPos g, i64 len, F&& f) {
  if (len <= 0) return;
  u64 b = g.block;
  i64 pos = -i64(g.lane);
  if (pos < 0) {
    f(pos, p.block(b), int(-pos), int(std::min<i64>(4, len - pos)));
    pos += 4;
    ++b;
  }
  const i64 full = len > pos ? (len - pos) / 4 : 0;
  alignas(64) Group w[kBatch];
  for (i64 i = 0; i < full; i += kBatch * kGroup) {
    const i64 m = std::min<i64>(kBatch * kGroup, full - i);
    const int ng = int((m + kGroup - 1) / kGroup);
    philox_groups(p, b + u64(i), ng, w);
    for (int q = 0; q < ng; ++q) {
      const int cnt = int(std::min<i64>(kGroup, m - i64(q) * kGroup));
      const i64 at = pos + 4 * (i + i64(q) * kGroup);
      for (int t = 0; t < cnt; ++t) f(at + 4 * t, Block{{w[q][0][t], w[q][1][t], w[q][2][t], w[q][3][t]}}, 0, 4);
    }
  }
  pos += 4 * full;
  b += u64(full);
  if (pos < len) f(pos, p.block(b), 0, int(len - pos));
}
}  // namespace mlsec
#endif
