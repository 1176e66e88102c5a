#include "project.hpp"
#include "samples.cuh"

namespace mlsec {
template <class T> struct ProjectInfOp {
  const T* s;
  T* out;
  PerSample eps;
  __device__ void operator()(i64 row, i64 i) const { out[i] = project_inf_elem(s[i], T(eps[row])); }
};

// L2 and L1: one block per sample, the same sums and formulas as cpp/project.cpp.
template <class T> struct ProjectSampleOp {
  const T* delta;
  T* out;
  i64 d;
  PerSample eps;
  Norm norm;
  __device__ void operator()(i64 row) const {
    const T* s = delta + row * d;
    T* o = out + row * d;
    const double e = eps[row];
    if (norm == Norm::l2) {
      const double ss = block_row_sum<1>(d, [&](i64 j) { return Sums<1>{{double(s[j]) * double(s[j])}}; }).v[0];
      const T sc = T(l2_scale(ss, e));
      for (i64 j = threadIdx.x; j < d; j += blockDim.x) o[j] = s[j] * sc;
      return;
    }
    auto a = [&](i64 j) { return absv(s[j]); };
    const double l1 = block_row_sum<1>(d, [&](i64 j) { return Sums<1>{{double(a(j))}}; }).v[0];
    const T th = finite(l1) && l1 > e ? T(block_l1_theta<T>(d, e, a)) : T(0);
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) o[j] = soft_elem(s[j], th);
  }
};

template <class T> void project_cuda(const T* delta, T* out, i64 n, i64 d, PerSample eps, Norm norm, void* stream) {
  if (norm == Norm::inf)
    launch_rows(n, d, ProjectInfOp<T>{delta, out, eps}, stream);
  else if (d > 0)
    launch_samples(n, ProjectSampleOp<T>{delta, out, d, eps, norm}, stream);
}

template void project_cuda<float>(const float*, float*, i64, i64, PerSample, Norm, void*);
template void project_cuda<double>(const double*, double*, i64, i64, PerSample, Norm, void*);
}  // namespace mlsec
