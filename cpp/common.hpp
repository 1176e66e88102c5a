// Shared by every op: the MLSEC_HD marker, scalar helpers, the CPU parallel driver.
// Headers included by nvcc must stay free of host-only code outside #ifndef __CUDACC__.
#pragma once
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <type_traits>

#if defined(__CUDACC__)
#define MLSEC_HD __host__ __device__ __forceinline__
#else
#define MLSEC_HD inline
#endif

namespace mlsec {
using i64 = std::int64_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;

MLSEC_HD float fabsv(float v) { return fabsf(v); }
MLSEC_HD double fabsv(double v) { return fabs(v); }
MLSEC_HD float copysignv(float m, float s) { return copysignf(m, s); }
MLSEC_HD double copysignv(double m, double s) { return copysign(m, s); }

// NaN passes through both helpers unchanged, as in np.clip and np.sign. Written as one
// select each, the shapes x86 has single instructions for (maxps/minps, and/or + one
// blend): nested selects cost AVX2 and SSE2 three times the instructions. clampv assumes
// lo <= hi, which every caller guarantees (bounds are checked where they come in).
template <class T> MLSEC_HD T clampv(T v, T lo, T hi) {
  const T a = lo > v ? lo : v;
  return hi < a ? hi : a;
}
template <class T> MLSEC_HD T signv(T v) { return fabsv(v) > T(0) ? copysignv(T(1), v) : v; }

// rint (half to even, in the FPU's rounding mode). Where x86 has a round instruction
// (SSE4.1's roundps/roundpd, on the x86-64-v3 and v4 tiers) it is rint itself, which the
// compilers vectorise into it (AVX2 bit_depth: 1.4x faster than the sequence below);
// elsewhere +, -, copysign and a select, so that loops of it vectorise where the ISA has no
// round instruction (baseline x86-64's SSE2): adding and removing 2^23 (2^52 for double)
// rounds |v| to an integer; larger magnitudes are integers already, and NaN fails the
// compare and passes through. Both give the same bits, signed zeros included.
#if defined(__SSE4_1__) && !defined(__CUDA_ARCH__)
MLSEC_HD float rintv(float v) { return rintf(v); }
MLSEC_HD double rintv(double v) { return rint(v); }
#else
MLSEC_HD float rintv(float v) {
  const float a = fabsf(v), big = 8388608.0f;
  return a < big ? copysignf((a + big) - big, v) : v;
}
MLSEC_HD double rintv(double v) {
  const double a = fabs(v), big = 4503599627370496.0;
  return a < big ? copysign((a + big) - big, v) : v;
}
#endif

// The real integer types the integer-taking ops are instantiated for, listed once:
// MLSEC_INTEGER_TYPES(X) expands X(T) for each (explicit instantiations in cpp/ and cuda/;
// python/array.hpp builds its dtype dispatch list kIntegers from it). MLSEC_REAL_TYPES adds
// the two float types.
// clang-format off
#define MLSEC_INTEGER_TYPES(X) \
  X(std::int8_t) X(std::int16_t) X(std::int32_t) X(std::int64_t) \
  X(std::uint8_t) X(std::uint16_t) X(std::uint32_t) X(std::uint64_t)
// clang-format on
#define MLSEC_REAL_TYPES(X) X(float) X(double) MLSEC_INTEGER_TYPES(X)

// The type of an op's result on data of type T when the op computes in floating point:
// T for float data, double for integers (as NumPy's true division and x + noise give).
template <class T> using float_result = std::conditional_t<std::is_floating_point_v<T>, T, double>;

// A per-sample parameter: one value for the whole batch (p == nullptr) or one per row,
// read through p (host memory for CPU kernels, device memory for CUDA kernels).
struct PerSample {
  const double* p;
  double value;
  MLSEC_HD double operator[](i64 row) const { return p ? p[row] : value; }
};

// The norm of a per-sample ball, with the int codes the bindings take.
enum class Norm : int { inf = 0, l1 = 1, l2 = 2 };

inline void require(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(what);
}
}  // namespace mlsec

#if !defined(__CUDACC__)
#include <algorithm>
#ifdef _OPENMP
#include <omp.h>
#endif
namespace mlsec {
// Below this many elements a kernel runs on the calling thread: waking an OpenMP team
// costs more than the work (docs/design.md, principle 5).
constexpr i64 kParallelMin = i64(1) << 16;

inline int num_threads(i64 work) {
#ifdef _OPENMP
  return work < kParallelMin ? 1 : omp_get_max_threads();
#else
  (void)work;
  return 1;
#endif
}

// Calls body(part, nparts) on nparts threads (the calling thread alone for small work).
template <class F> void run_parallel(i64 work, F&& body) {
  const int nt = num_threads(work);
  if (nt <= 1) return body(0, 1);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
  body(omp_get_thread_num(), omp_get_num_threads());
#endif
}

// Splits the flat (n, d) index space evenly and calls span(row, j0, j1) on contiguous
// pieces of rows: elementwise ops with per-sample parameters use it.
template <class F> void for_each_span(i64 n, i64 d, F&& span) {
  run_parallel(n * d, [&](int part, int nparts) {
    const i64 total = n * d, begin = total * part / nparts, end = total * (part + 1) / nparts;
    for (i64 i = begin; i < end;) {
      const i64 row = i / d, j0 = i - row * d, j1 = std::min(d, j0 + (end - i));
      span(row, j0, j1);
      i += j1 - j0;
    }
  });
}

// Calls row(r) for every row, rows shared among threads: per-sample reductions use it.
template <class F> void for_each_row(i64 n, i64 d, F&& row) {
  run_parallel(n * d, [&](int part, int nparts) {
    for (i64 r = part; r < n; r += nparts) row(r);
  });
}
}  // namespace mlsec
#endif
