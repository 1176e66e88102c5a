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
// Visits stream elements [g, g + len) block by block: f(pos, block, k0, k1) handles words
// k0..k1-1 of `block`, which are local elements pos+k0 .. pos+k1-1 (pos < 0 for a head
// block that starts before g). Whole blocks take the straight loop the compiler
// vectorises across blocks; f must be inlinable (a lambda).
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
  for (i64 i = 0; i < full; ++i) f(pos + 4 * i, p.block(b + u64(i)), 0, 4);
  pos += 4 * full;
  b += u64(full);
  if (pos < len) f(pos, p.block(b), 0, int(len - pos));
}
}  // namespace mlsec
#endif
