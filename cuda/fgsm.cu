#include "common.cuh"
#include "fgsm.hpp"

namespace mlsec {
template <class T> struct FgsmOp {
  const T *x, *g;
  T* out;
  PerSample eps;
  T sign, lo, hi;
  __device__ void operator()(i64 row, i64 i) const { out[i] = fgsm_elem(x[i], g[i], sign * T(eps[row]), lo, hi); }
};

template <class T>
void fgsm_cuda(const T* x, const T* g, T* out, i64 n, i64 d, PerSample eps, bool targeted, T lo, T hi, void* stream) {
  launch_rows(n, d, FgsmOp<T>{x, g, out, eps, targeted ? T(-1) : T(1), lo, hi}, stream);
}

template void fgsm_cuda<float>(const float*, const float*, float*, i64, i64, PerSample, bool, float, float, void*);
template void fgsm_cuda<double>(const double*, const double*, double*, i64, i64, PerSample, bool, double, double,
                                void*);
}  // namespace mlsec
