// Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2,
// 3", SC 2011) and the word-to-number conversions of docs/design.md. Stateless: block b of
// substream s under seed k is a pure function of (b, s, k), so any thread, block size or
// batch split draws the same bits. Ported to Numba in src/mlsec_kernels/_numba/philox.py.
#pragma once
#include "common.hpp"
#include "fmath.hpp"

namespace mlsec {
struct Block {
  u32 w[4];
};

// 32x32 -> 64-bit product: one widening multiply on every target (nvcc emits mul.hi).
MLSEC_HD void mulhilo32(u32 a, u32 b, u32* hi, u32* lo) {
  const u64 p = u64(a) * u64(b);
  *hi = u32(p >> 32);
  *lo = u32(p);
}

MLSEC_HD Block philox4x32_10(u32 c0, u32 c1, u32 c2, u32 c3, u32 k0, u32 k1) {
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    u32 hi0, lo0, hi1, lo1;
    mulhilo32(0xD2511F53u, c0, &hi0, &lo0);
    mulhilo32(0xCD9E8D57u, c2, &hi1, &lo1);
    const u32 n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  return Block{{c0, c1, c2, c3}};
}

// One call's stream: seed -> key, substream -> the high counter words.
struct Philox {
  u32 k0, k1, s0, s1;
  MLSEC_HD static Philox make(u64 seed, u64 substream) {
    return Philox{u32(seed), u32(seed >> 32), u32(substream), u32(substream >> 32)};
  }
  MLSEC_HD Block block(u64 b) const { return philox4x32_10(u32(b), u32(b >> 32), s0, s1, k0, k1); }
};

// Stream element 4*block + lane; element indices run to 2^66, past a u64.
struct StreamPos {
  u64 block;
  u32 lane;
  MLSEC_HD StreamPos plus(u64 e) const {
    const u64 t = u64(lane) + (e & 3);
    return StreamPos{block + (e >> 2) + (t >> 2), u32(t & 3)};
  }
};

// uniform in [0, 1) and in (0, 1]: the word's top 24 bits, exact in float32. Converted
// from int (exact below 2^31): only AVX-512 converts unsigned ints to float in one
// instruction, the other tiers take six.
MLSEC_HD float uniform_co(u32 w) { return float(int(w >> 8)) * 5.9604644775390625e-8f; }
MLSEC_HD float uniform_oc(u32 w) { return float(int((w >> 8) + 1u)) * 5.9604644775390625e-8f; }
// integer in [0, n) by multiply-shift (n < 2^32).
MLSEC_HD u32 below(u32 w, u32 n) { return u32((u64(w) * n) >> 32); }
MLSEC_HD bool bernoulli(u32 w, float p) { return uniform_co(w) < p; }

// Box-Muller: (w_even, w_odd) -> (z_even, z_odd), with the project's own log and sincos.
MLSEC_HD void box_muller(u32 we, u32 wo, float* ze, float* zo) {
  const float r = sqrtf(-2.0f * log_f32(uniform_oc(we)));
  float s, c;
  sincos_turn(uniform_co(wo), &s, &c);
  *ze = r * c;
  *zo = r * s;
}

// The standard normals of stream words w[a .. b) into z[a .. b), w starting on a block (so
// on a Box-Muller pair): whole pairs in a loop that vectorises, a split pair at either end.
MLSEC_HD void normals_span(const u32* w, int a, int b, float* z) {
  float t0, t1;
  if (a & 1) {
    box_muller(w[a - 1], w[a], &t0, &t1);
    z[a] = t1;
  }
  for (int i = (a + 1) / 2; i < b / 2; ++i) box_muller(w[2 * i], w[2 * i + 1], &z[2 * i], &z[2 * i + 1]);
  if ((b & 1) && b - 1 >= a + (a & 1)) {
    box_muller(w[b - 1], w[b], &t0, &t1);
    z[b - 1] = t0;
  }
}

// The four standard normals of a block (elements 4b .. 4b+3).
MLSEC_HD void normals_of(const Block& b, float z[4]) { normals_span(b.w, 0, 4, z); }
}  // namespace mlsec
