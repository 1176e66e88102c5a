// Random start (Madry et al., ICLR 2018): out = clip(x0 + u, lo, hi), u uniform in volume
// over the eps-ball of the norm. One call, one substream; the word mapping is in
// docs/rng.md:
// Row `row` of the call is sample s0 + row of the batch (s0: sample_start, when a batch is
// run in pieces; 0 otherwise), and global sample g = s0 + row draws:
//   stream element f = g*d + j (word f % 4 of block f / 4) feeds element j of the row:
//     inf: u = eps * (2*U[0,1) - 1)
//     l2:  z = the stream's standard normal f (spec pairs); u = z * eps * R / ||z||
//     l1:  E = -log U(0,1] from the top 24 bits, sign from bit 0; u = +-E * eps / S
//   block kExtra + g, word 0, feeds the row's extra draw:
//     l2:  R = U(0,1]^(1/d) = exp(log(U) / d)     l1: E_{d+1} = -log U(0,1]
// with ||z||^2 and S = sum_j E_j + E_{d+1} summed in double in cpp/reduce.hpp's order.
#pragma once
#include "common.hpp"
#include "philox.hpp"

namespace mlsec {
constexpr u64 kExtraBlock = u64(1) << 63;  // far above any array's element blocks

// The draws of stream words w[a .. b) into v[a .. b) (w starts on a block; normals_span).
template <Norm N> MLSEC_HD void start_draws_span(const u32* w, int a, int b, float* v) {
  if constexpr (N == Norm::l2) {
    normals_span(w, a, b, v);
  } else {
    for (int j = a; j < b; ++j) {
      if constexpr (N == Norm::inf) {
        v[j] = uniform_co(w[j]) * 2.0f - 1.0f;
      } else {
        const float e = 0.0f - log_f32(uniform_oc(w[j]));
        v[j] = (w[j] & 1u) ? -e : e;
      }
    }
  }
}

// The draws of the four elements of block b (stream elements 4b .. 4b+3).
template <Norm N> MLSEC_HD void start_draws(const Block& b, float v[4]) { start_draws_span<N>(b.w, 0, 4, v); }

template <Norm N> MLSEC_HD float start_draw_at(const Philox& p, u64 f) {
  float v[4];
  start_draws<N>(p.block(f >> 2), v);
  return v[f & 3];
}

// The row's term of the canonical sum: z^2 (l2) or |draw| = E (l1).
template <Norm N> MLSEC_HD double start_term(float v) {
  const double dv = double(v);
  return N == Norm::l2 ? dv * dv : (dv < 0 ? -dv : dv);
}

// What global sample g's draws are multiplied by, from the canonical sum of their terms.
template <Norm N> MLSEC_HD double start_scale(const Philox& p, i64 g, i64 d, double sum, double eps) {
  const u32 w = p.block(kExtraBlock + u64(g)).w[0];
  const float lu = log_f32(uniform_oc(w));
  if (N == Norm::l2) {
    const float r = exp_f32(lu / float(d));
    return sum > 0.0 ? eps * double(r) / sqrt(sum) : 0.0;
  }
  const double s = sum + double(0.0f - lu);
  return s > 0.0 ? eps / s : 0.0;
}

template <class T> MLSEC_HD T start_elem(T x, float draw, T scale, T lo, T hi) {
  return clampv(x + T(draw) * scale, lo, hi);
}

template <class T>
void random_start_cpu(const T* x, T* out, i64 n, i64 d, PerSample eps, Norm norm, Philox p, i64 s0, T lo, T hi);
template <class T> void random_start_cuda(const T* x, T* out, i64 n, i64 d, PerSample eps, Norm norm, Philox p, i64 s0,
                                          T lo, T hi, void* stream);
}  // namespace mlsec
