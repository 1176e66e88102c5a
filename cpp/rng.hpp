// The random stream as arrays (docs/design.md): raw words, uniforms in [0, 1), standard
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
constexpr int kGroup = 64;       // the most blocks one SIMD pass makes (4 AVX-512 vectors of each word)
constexpr int kSpanBlocks = 64;  // blocks per philox_span piece: 1 KiB of words, stays in L1
static_assert(kSpanBlocks % kGroup == 0, "a span piece is whole passes");

// The words of blocks b0 .. b0 + nblocks - 1 in stream order: out[4*i + k] is word k of
// block b0 + i. Each tier's build runs the rounds on its widest vectors (AVX-512, AVX2, SSE2
// or NEON), a whole vector at a time, so up to one vector's blocks past nblocks are written
// too: out holds nblocks rounded up to a multiple of kGroup. A short row (a small image, a
// class-score row) pays for the blocks it uses, not for a full group.
void philox_words(const Philox& p, u64 b0, int nblocks, u32* out);
const char* philox_isa();  // "avx512", "avx2", "sse2", "neon" or "scalar"

// Visits stream elements [g, g + len) in pieces: f(pos, w, j0, j1) gets whole blocks w in
// stream order (w[0] is word 0 of a block) and handles their words j0 .. j1-1, which are
// local elements pos+j0 .. pos+j1-1 (pos < 0 when g starts inside a block). f's loops over
// j are plain array loops, so they vectorise; blocks past the end are generated and unused.
template <class F> void philox_span(const Philox& p, StreamPos g, i64 len, F&& f) {
  alignas(64) u32 w[4 * kSpanBlocks];
  u64 b = g.block;
  for (i64 pos = -i64(g.lane); pos < len; pos += 4 * kSpanBlocks, b += kSpanBlocks) {
    const i64 blocks = std::min<i64>(kSpanBlocks, (len - pos + 3) / 4);
    philox_words(p, b, int(blocks), w);
    f(pos, static_cast<const u32*>(w), pos < 0 ? int(-pos) : 0, int(std::min<i64>(4 * blocks, len - pos)));
  }
}
}  // namespace mlsec
#endif
