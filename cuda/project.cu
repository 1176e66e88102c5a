#include "project.hpp"
#include "samples.cuh"

namespace mlsec {
template <class T> struct ProjectInfOp {
  const T* s;
  T* out;
  PerSample eps;
  Bound<T> lo, hi;
  __device__ void operator()(i64 row, i64 i) const {
    out[i] = clampv(project_inf_elem(s[i], T(eps[row])), lo[i], hi[i]);
  }
};

// L2 and L1: one block per sample, the same sums and formulas as cpp/project.cpp.
template <class T> struct ProjectSampleOp {
  const T* delta;
  T* out;
  i64 d;
  PerSample eps;
  Norm norm;
  Bound<T> lo, hi;
  bool box;
  __device__ void operator()(i64 row) const {
    const i64 o0 = row * d;
    const T* s = delta + o0;
    T* o = out + o0;
    const double e = eps[row];
    if (norm == Norm::l2) {
      const double ss = block_row_sum<1>(d, [&](i64 j) { return Sums<1>{{double(s[j]) * double(s[j])}}; }).v[0];
      double sc = l2_scale(ss, e);
      if (box && finite(ss) && sc > 0.0)
        sc = l2_box_scale(sc, e, [&](double t) {
          const T tt = T(t);
          return block_row_sum<3>(d, [&](i64 j) { return l2_box_term(s[j], T(-0.0), lo[o0 + j], hi[o0 + j], tt); });
        });
      // as cpp/project.cpp: clip(-0.0 + s * sc), which is clip(s * sc) to the bit
      for (i64 j = threadIdx.x; j < d; j += blockDim.x) o[j] = clampv(s[j] * T(sc), lo[o0 + j], hi[o0 + j]);
      return;
    }
    auto a = [&](i64 j) { return absv(s[j]); };
    const double l1 = block_row_sum<1>(d, [&](i64 j) { return Sums<1>{{double(a(j))}}; }).v[0];
    double th = finite(l1) && l1 > e ? block_l1_theta<T>(d, e, a) : 0.0;
    if (box && finite(l1))
      th = l1_box_threshold(th, l1, e, [&](double t) {
        return block_row_sum<3>(
            d, [&](i64 j) { return l1_box_term(double(s[j]), double(lo[o0 + j]), double(hi[o0 + j]), t); });
      });
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) o[j] = clampv(soft_elem(s[j], T(th)), lo[o0 + j], hi[o0 + j]);
  }
};

template <class T> void project_cuda(const T* delta, T* out, i64 n, i64 d, PerSample eps, Norm norm, Bound<T> lo,
                                     Bound<T> hi, void* stream) {
  if (norm == Norm::inf)
    launch_rows(n, d, ProjectInfOp<T>{delta, out, eps, lo, hi}, stream);
  else if (d > 0)
    launch_samples(n, ProjectSampleOp<T>{delta, out, d, eps, norm, lo, hi, !unbounded(lo, hi)}, stream);
}

template void project_cuda<float>(const float*, float*, i64, i64, PerSample, Norm, Bound<float>, Bound<float>, void*);
template void project_cuda<double>(const double*, double*, i64, i64, PerSample, Norm, Bound<double>, Bound<double>,
                                   void*);
}  // namespace mlsec
