// Output post-processors against model extraction (ReverseSigmoid of Lee et al. 2019,
// Gaussian noise, rounding, high-confidence cut-off, top-k, class labels), written as the
// steps of a small program that one call runs on each row of a (N, C) batch. A Guard is a
// program of several steps; a single op is a program of one. The row is read once and then
// rewritten in place by each step while it is still in cache, and every step stores in the
// data's dtype, so the fused program and the steps called one by one give the same bits.
#pragma once
#include <cmath>

#include "common.hpp"
#include "philox.hpp"
#include "reduce.hpp"
#include "rng.hpp"

namespace mlsec {
enum StepKind : int {
  kReverseSigmoid = 0,
  kGaussianNoise = 1,
  kRound = 2,
  kHighConfidence = 3,
  kTopK = 4,
  kClassLabels = 5
};
enum Renorm : int { kRenormNever = 0, kRenormAlways = 1, kRenormAuto = 2 };
constexpr int kMaxSteps = 8;

// a, b: real parameters (beta and gamma; scale; 10**decimals; cutoff); k: top-k's k or the
// renormalisation mode; flag: one-hot; seed and substream: the noise's stream; row0: the
// noise's sample_start (row r of the call draws as row row0 + r of a larger batch).
struct Step {
  int kind, flag;
  i64 k;
  double a, b;
  u64 seed, substream;
  i64 row0;
};

struct Program {
  int n;
  Step s[kMaxSteps];
};

// Float32 log and exp from fmath.hpp (fixed operation sequences: the same bits on every
// backend); float64 uses the platform's log and exp, which agree to a tolerance only
// (CUDA's differ from glibc's in the last place). The float32 log takes 0, NaN or a
// positive normal float (reverse_sigmoid's odds ratios lie in [2^-24, 1e9] or are 0);
// its selects come after log_f32, whose argument must stay a plain value for GCC to
// vectorise the loop.
MLSEC_HD float log_t(float x) {
  const float r = log_f32(x);
  return x == 0.0f ? -INFINITY : (x == x ? r : x);
}
// exp_f32 takes NaN only when p is NaN, and then q is NaN whatever exp returns; a NaN
// guard here (any select around exp_f32) stops GCC vectorising the loop.
MLSEC_HD float exp_t(float x) { return exp_f32(x); }
MLSEC_HD double log_t(double x) { return log(x); }
MLSEC_HD double exp_t(double x) { return exp(x); }

// ART's ReverseSigmoid term: q = clip(p - beta*(sigmoid(-gamma*log((1-pc)/pc)) - 1/2), 0, 1)
// with pc = clip(p, 1e-9, 1-1e-9), the clip bounds rounded to T as NumPy rounds them.
template <class T> MLSEC_HD T rs_sigmoid(T pc, T gamma) {
  return T(1) / (T(1) + exp_t(gamma * log_t((T(1) - pc) / pc)));
}
template <class T> MLSEC_HD T reverse_sigmoid_elem(T p, T beta, T gamma) {
  const T pc = clampv(p, T(1e-9), T(1.0 - 1e-9));
  return clampv(p - beta * (rs_sigmoid(pc, gamma) - T(0.5)), T(0), T(1));
}

// One column, P(positive), as ART computes it: the terms of the two-class row [p, 1 - p],
// the second clipped as 1 - pc (not clip(1 - p): they differ at the bounds), then p's share.
// pc = 1 (float32 p >= 1) makes the second odds ratio 1/0, whose sigmoid is 0; log_f32
// takes no infinity, so that limit is a factor 0 on its finite result (a select there
// stops GCC vectorising run_block's loop for AVX2 and AVX-512).
template <class T> MLSEC_HD T reverse_sigmoid_binary(T p, T beta, T gamma) {
  const T pc = clampv(p, T(1e-9), T(1.0 - 1e-9)), pc2 = T(1) - pc;
  const T q1 = clampv(p - beta * (rs_sigmoid(pc, gamma) - T(0.5)), T(0), T(1));
  const T s2 = (pc2 == T(0) ? T(0) : T(1)) * rs_sigmoid(pc2, gamma);
  const T q2 = clampv((T(1) - p) - beta * (s2 - T(0.5)), T(0), T(1));
  const T total = q1 + q2;  // > 0 for any real p (q1 = 0 forces q2 = 1); in T, as ART sums
  return total != T(0) ? q1 * (T(1) / total) : T(0.5);
}

// One column's label: 1 where P(positive) > 1/2 (ART's ClassLabels; 1/2 and NaN give 0).
template <class T> MLSEC_HD T binary_label(T p) { return p > T(0.5) ? T(1) : T(0); }

// One column's noise: nothing to renormalise; a probability (under "auto", the entry in
// [0, 1]) is clipped to [0, 1] after its noise, as the renormalised rows stay in [0, 1].
template <class T> MLSEC_HD T binary_noisy(T p, float z, T scale, i64 mode) {
  const T v = p + scale * T(z);
  return mode == kRenormAlways || (mode == kRenormAuto && p >= T(0) && p <= T(1)) ? clampv(v, T(0), T(1)) : v;
}

// NumPy's np.round for decimals >= 0: multiply by 10**decimals (in T), rint, divide.
template <class T> MLSEC_HD T round_elem(T x, T f) { return rintv(x * f) / f; }

// A total order for ranking (top-k, argmax): NaN above everything, as np.argmax has it,
// and -0 equal to +0; keys as wide as the data. Selects only after the bit move, so that
// the loops vectorise.
MLSEC_HD u32 rank_key(float v) {
#if defined(__CUDA_ARCH__)
  const u32 b = __float_as_uint(v);
#else
  const u32 b = __builtin_bit_cast(u32, v);
#endif
  const u32 sign = u32(1) << 31, key = (b >> 31) ? ~b : (b | sign);
  return v != v ? ~u32(0) : (v == 0.0f ? sign : key);
}
MLSEC_HD u64 rank_key(double v) {
#if defined(__CUDA_ARCH__)
  const u64 b = u64(__double_as_longlong(v));
#else
  const u64 b = __builtin_bit_cast(u64, v);
#endif
  const u64 sign = u64(1) << 63, key = (b >> 63) ? ~b : (b | sign);
  return v != v ? ~u64(0) : (v == 0.0 ? sign : key);
}
template <class T> using Key = decltype(rank_key(T()));

constexpr int kSmallK = 32;

// Inserts v into the descending list a[0..*n) of at most k entries (the k largest so far).
template <class K> MLSEC_HD void sorted_insert(K* a, int* n, int k, K v) {
  if (*n == k && v <= a[k - 1]) return;
  int i = *n < k ? (*n)++ : k - 1;
  for (; i > 0 && a[i - 1] < v; --i) a[i] = a[i - 1];
  a[i] = v;
}

// The keys of x[0 .. len) (len <= kChunk) and the maxima of their 16-element blocks,
// in two passes GCC vectorises (a max reduction over keys computed in the same loop does
// not); returns the number of blocks. Pads get key 0, below every value's key.
template <class T> MLSEC_HD int chunk_keys(const T* x, int len, Key<T>* keys, Key<T>* bmax) {
  const int nb = (len + 15) / 16;
  for (int j = 0; j < len; ++j) keys[j] = rank_key(x[j]);
  for (int j = len; j < 16 * nb; ++j) keys[j] = 0;
  for (int b = 0; b < nb; ++b) {
    Key<T> m = 0;
    for (int i = 0; i < 16; ++i) m = keys[16 * b + i] > m ? keys[16 * b + i] : m;
    bmax[b] = m;
  }
  return nb;
}

// The first index of the row's largest key (np.argmax's answer).
template <class T> MLSEC_HD i64 argmax_row(const T* x, i64 c) {
  Key<T> keys[kChunk], bmax[kChunk / 16], best = 0;
  i64 at = 0;
  for (i64 c0 = 0; c0 < c; c0 += kChunk) {
    const int nb = chunk_keys(x + c0, int(c - c0 < kChunk ? c - c0 : kChunk), keys, bmax);
    int b = 0;
    for (int i = 1; i < nb; ++i) b = bmax[i] > bmax[b] ? i : b;
    if (c0 > 0 && bmax[b] <= best) continue;
    int j = 16 * b;
    while (keys[j] != bmax[b]) ++j;
    best = bmax[b];
    at = c0 + j;
  }
  return at;
}

// Where the k largest entries of a row are: every key above t, and the entries equal to
// t up to index `last` (ties go to the lower index).
template <class K> struct Cut {
  K t;
  i64 last;
};

// Small k: sorted insertion of (key, index) into top[], visiting only 16-element blocks
// that can hold one of the k largest: per 1024-element chunk, the block maxima's k-th
// largest B bounds the row's k-th largest key from below; blocks whose maximum is under B
// (or under top[k-1] once full) are skipped. Equal keys keep the earlier index, so top[]
// ends as exactly the kept entries. Large k: a bisection on the key space (32 or 64
// counting passes), then a scan for the last kept tie. No scratch beyond a chunk.
template <class T> MLSEC_HD Cut<Key<T>> top_k_cut(const T* x, i64 c, i64 k) {
  if (k <= kSmallK) {
    Key<T> top[kSmallK], keys[kChunk], bmax[kChunk / 16], best[kSmallK];
    i64 at[kSmallK];
    int have = 0;
    for (i64 c0 = 0; c0 < c; c0 += kChunk) {
      const int len = int(c - c0 < kChunk ? c - c0 : kChunk), nb = chunk_keys(x + c0, len, keys, bmax);
      Key<T> bar = 0;
      if (nb >= k) {
        int nbest = 0;
        for (int b = 0; b < nb; ++b) sorted_insert(best, &nbest, int(k), bmax[b]);
        bar = best[k - 1];
      }
      for (int b = 0; b < nb; ++b) {
        if (bmax[b] < bar || (have == k && bmax[b] <= top[k - 1])) continue;
        const int j1 = len - 16 * b < 16 ? len : 16 * b + 16;
        for (int j = 16 * b; j < j1; ++j) {
          const Key<T> v = keys[j];
          if (v < bar || (have == k && v <= top[k - 1])) continue;  // under B: never among the k
          int i = have < k ? have++ : int(k) - 1;
          for (; i > 0 && top[i - 1] < v; --i) top[i] = top[i - 1], at[i] = at[i - 1];
          top[i] = v, at[i] = c0 + j;
        }
      }
    }
    Cut<Key<T>> cut{top[k - 1], 0};
    for (i64 i = 0; i < k; ++i)
      if (top[i] == cut.t && at[i] > cut.last) cut.last = at[i];
    return cut;
  }
  Key<T> lo = 0, hi = Key<T>(~Key<T>(0));  // invariant: count(key >= lo) >= k
  while (lo < hi) {
    const Key<T> mid = lo + (hi - lo) / 2 + 1;
    i64 cnt = 0;
    for (i64 j = 0; j < c; ++j) cnt += rank_key(x[j]) >= mid;
    if (cnt >= k)
      lo = mid;
    else
      hi = mid - 1;
  }
  i64 ties = k, j0 = 0;  // k minus the keys above lo: the ties kept, counted off in 16-blocks
  for (i64 j = 0; j < c; ++j) ties -= rank_key(x[j]) > lo;
  for (;; j0 += 16) {
    const i64 j1 = c - j0 < 16 ? c : j0 + 16;
    i64 eq = 0;
    for (i64 j = j0; j < j1; ++j) eq += rank_key(x[j]) == lo;
    if (eq >= ties) break;
    ties -= eq;
  }
  for (i64 j = j0;; ++j)
    if (rank_key(x[j]) == lo && --ties == 0) return Cut<Key<T>>{lo, j};
}

// Keeps the k largest entries of the row (ties: lower index first), zeroing the rest;
// one_hot writes 1 for the kept ones. k = 1 with one_hot is the class label.
// One column (C = 1) holds P(positive): top-1 keeps it, and its one-hot is the label of the
// two-class row [1 - p, p], 1 where p > 1/2 (ART's ClassLabels; 1/2 and NaN give 0).
template <class T> MLSEC_HD void top_k_row(T* x, i64 c, i64 k, bool one_hot) {
  if (c < 2) {
    if (c == 1 && one_hot) x[0] = binary_label(x[0]);
    return;
  }
  if (k == 1) {  // class labels and top-1: the first argmax, the rest zeroed
    const i64 at = argmax_row(x, c);
    const T v = one_hot ? T(1) : x[at];
    for (i64 j = 0; j < c; ++j) x[j] = T(0);
    x[at] = v;
    return;
  }
  const Cut<Key<T>> cut = top_k_cut(x, c, k);
  const Key<T> t = cut.t;
  const i64 last = cut.last;
  for (i64 j = 0; j < c; ++j) {
    const Key<T> v = rank_key(x[j]);
    const bool keep = v > t || (v == t && j <= last);
    x[j] = keep ? (one_hot ? T(1) : x[j]) : T(0);
  }
}

#if !defined(__CUDACC__)
constexpr int kNormalBlocks = kGroup;

// The normals of blocks b0 .. b0+nb-1 (nb <= kNormalBlocks) in element order: rng.hpp's
// philox_words, then their Box-Muller pairs in a loop that vectorises.
inline void normals_batch(const Philox& ph, u64 b0, int nb, float* z) {
  alignas(64) u32 w[4 * kNormalBlocks];
  philox_words(ph, b0, nb, w);
  normals_span(w, 0, 4 * nb, z);
}
#endif

// Calls f(j, z) for the standard normals of stream elements e0 .. e0+c-1 (the CPU in
// batches of up to kNormalBlocks blocks, only those the row uses: a 10-class row makes 3
// blocks, not 64; the GPU a block at a time: the same numbers).
template <class F> MLSEC_HD void normals_span(const Philox& ph, u64 e0, i64 c, F&& f) {
  u64 b = e0 / 4;
  int k = int(e0 % 4);
#if !defined(__CUDACC__)
  float z[4 * kNormalBlocks];
  for (i64 j = 0; j < c; b += kNormalBlocks, k = 0) {
    const int nb = int(std::min<i64>(kNormalBlocks, (k + c - j + 3) / 4));
    normals_batch(ph, b, nb, z);
    const i64 take = std::min<i64>(4 * nb - k, c - j);
    for (i64 t = 0; t < take; ++t) f(j + t, z[k + t]);
    j += take;
  }
#else
  for (i64 j = 0; j < c; ++b, k = 0) {
    float z[4];
    normals_of(ph.block(b), z);
    for (; k < 4 && j < c; ++k, ++j) f(j, z[k]);
  }
#endif
}

// x + scale*z; with renormalisation, negatives zeroed and the row divided by its sum, a
// row summing to zero left noiseless (so the sum pass must not overwrite the row); NaN is
// kept, so a row holding one comes out NaN (ART: its sum is NaN).
template <class T> MLSEC_HD void gaussian_noise_row(T* x, i64 c, i64 row, const Step& st) {
  const Philox ph = Philox::make(st.seed, st.substream);
  const u64 e0 = u64(st.row0 + row) * u64(c);
  const T scale = T(st.a);
  bool renorm = st.k == kRenormAlways;
  if (c == 1) {  // the GPU's one-column rows (the CPU runs a column in run_block)
    float z[4];
    normals_of(ph.block(e0 / 4), z);
    x[0] = binary_noisy(x[0], z[e0 % 4], scale, st.k);
    return;
  }
  if (st.k == kRenormAuto) {
    const Sums<2> s = row_sum<2>(c, [&](i64 j) {
      return Sums<2>{{double(x[j]), (x[j] >= T(0) && x[j] <= T(1)) ? 0.0 : 1.0}};
    });
    renorm = s.v[1] == 0.0 && fabs(s.v[0] - 1.0) <= 1e-3;
  }
  if (!renorm) {
    normals_span(ph, e0, c, [&](i64 j, float z) { x[j] = x[j] + scale * T(z); });
    return;
  }
  // One 1024-element chunk of noise at a time in nz, summed in reduce.hpp's order; a row
  // longer than a chunk draws its noise again for the write.
  float nz[kChunk];
  i64 c0 = 0;  // the chunk in nz
  const auto draw = [&](i64 len) { normals_span(ph, e0 + u64(c0), len, [&](i64 j, float z) { nz[j] = z; }); };
  const auto noisy = [&](i64 i) {
    const T v = x[i] + scale * T(nz[i - c0]);
    return v > T(0) || v != v ? v : T(0);  // NaN stays NaN (and makes the row NaN, as in ART)
  };
  double total = 0.0;
  for (c0 = 0; c0 < c; c0 += kChunk) {
    const i64 c1 = c - c0 < kChunk ? c : c0 + kChunk;
    draw(c1 - c0);
    total += chunk_sum<1>(c0, c1, [&](i64 i) { return Sums<1>{{double(noisy(i))}}; }).v[0];
  }
  if (total == 0.0) return;
  const double inv = 1.0 / total;  // scaled in double: T(1/total) overflows for a row of denormals
  for (c0 = 0; c0 < c; c0 += kChunk) {
    const i64 c1 = c - c0 < kChunk ? c : c0 + kChunk;
    if (c > kChunk) draw(c1 - c0);
    for (i64 i = c0; i < c1; ++i) x[i] = T(double(noisy(i)) * inv);
  }
}

// ReverseSigmoid on the row, renormalised; a row with no mass left comes out uniform.
// A row of reverse-sigmoid terms (C >= 2) divided by its canonical sum.
template <class T> MLSEC_HD void reverse_sigmoid_share(T* x, i64 c) {
  const double total = row_sum<1>(c, [&](i64 j) { return Sums<1>{{double(x[j])}}; }).v[0];
  const double inv = total != 0.0 ? 1.0 / total : 0.0;  // in double, as gaussian_noise_row's
  for (i64 j = 0; j < c; ++j) x[j] = total != 0.0 ? T(double(x[j]) * inv) : T(1.0 / double(c));
}

template <class T> MLSEC_HD void reverse_sigmoid_row(T* x, i64 c, const Step& st) {
  const T beta = T(st.a), gamma = T(st.b);
  if (c == 1) {
    x[0] = reverse_sigmoid_binary(x[0], beta, gamma);
    return;
  }
  for (i64 j = 0; j < c; ++j) x[j] = reverse_sigmoid_elem(x[j], beta, gamma);
  reverse_sigmoid_share(x, c);
}

// The program on one row: in -> out (which may be the same memory), row index `row`.
template <class T> MLSEC_HD void run_row(const Program& prog, const T* in, T* out, i64 c, i64 row) {
  if (out != in)
    for (i64 j = 0; j < c; ++j) out[j] = in[j];
  for (int i = 0; i < prog.n; ++i) {
    const Step& st = prog.s[i];
    switch (st.kind) {
      case kReverseSigmoid:
        reverse_sigmoid_row(out, c, st);
        break;
      case kGaussianNoise:
        gaussian_noise_row(out, c, row, st);
        break;
      case kRound: {
        const T f = T(st.a);
        for (i64 j = 0; j < c; ++j) out[j] = round_elem(out[j], f);
        break;
      }
      case kHighConfidence: {
        const T cut = T(st.a);
        for (i64 j = 0; j < c; ++j) out[j] = out[j] < cut ? T(0) : out[j];
        break;
      }
      case kTopK:
        top_k_row(out, c, st.k, st.flag != 0);
        break;
      case kClassLabels:
        top_k_row(out, c, 1, true);
        break;
      default:
        break;
    }
  }
}

#if !defined(__CUDACC__)
// The CPU runs the program on a block of whole rows at a time (about kChunk elements, in
// cache), step by step: an elementwise step (the reverse-sigmoid terms, rounding, the
// cut-off, noise without renormalisation, and every step of a one-column batch) as one
// loop over the block's flat elements, which vectorises whatever C; the steps that need a
// whole row (the renormalising sums, renormalised noise, top-k, labels) row by row with
// run_row's functions. Row by row, short rows paid the dispatch and the vector loops'
// remainders once per row. The same functions and stream elements (entry (r, j) is element
// (row0 + r)*C + j) as run_row, which CUDA and Numba run: the same bits.
template <class T> void run_block(const Program& prog, const T* in, T* out, i64 r0, i64 r1, i64 c) {
  const i64 e0 = r0 * c, e1 = r1 * c;
  if (out != in)
    for (i64 j = e0; j < e1; ++j) out[j] = in[j];
  for (int i = 0; i < prog.n; ++i) {
    const Step& st = prog.s[i];
    const T a = T(st.a), b = T(st.b);
    const bool hot = st.kind == kClassLabels || st.flag != 0;
    switch (st.kind) {
      case kReverseSigmoid:
        if (c == 1) {
          for (i64 j = e0; j < e1; ++j) out[j] = reverse_sigmoid_binary(out[j], a, b);
          break;
        }
        for (i64 j = e0; j < e1; ++j) out[j] = reverse_sigmoid_elem(out[j], a, b);
        for (i64 r = r0; r < r1; ++r) reverse_sigmoid_share(out + r * c, c);
        break;
      case kGaussianNoise:
        if (c == 1 || st.k == kRenormNever) {
          const i64 mode = c == 1 ? st.k : i64(kRenormNever);
          normals_span(Philox::make(st.seed, st.substream), u64((st.row0 + r0) * c), e1 - e0,
                       [&](i64 t, float z) { out[e0 + t] = binary_noisy(out[e0 + t], z, a, mode); });
        } else {
          for (i64 r = r0; r < r1; ++r) gaussian_noise_row(out + r * c, c, r, st);
        }
        break;
      case kRound:
        for (i64 j = e0; j < e1; ++j) out[j] = round_elem(out[j], a);
        break;
      case kHighConfidence:
        for (i64 j = e0; j < e1; ++j) out[j] = out[j] < a ? T(0) : out[j];
        break;
      case kTopK:
      case kClassLabels:
        if (c == 1 && hot)
          for (i64 j = e0; j < e1; ++j) out[j] = binary_label(out[j]);
        else if (c > 1)
          for (i64 r = r0; r < r1; ++r) top_k_row(out + r * c, c, st.kind == kTopK ? st.k : 1, hot);
        break;
      default:
        break;
    }
  }
}
#endif

template <class T> void output_cpu(const T* p, T* out, i64 n, i64 c, const Program& prog);
template <class T> void output_cuda(const T* p, T* out, i64 n, i64 c, const Program& prog, void* stream);
}  // namespace mlsec
