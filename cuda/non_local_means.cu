// CUDA non-local means: one thread per output pixel, the sums in the order of
// non_local_means.hpp (offsets row-major; per offset, column sums then their sum).
#include "common.cuh"
#include "non_local_means.hpp"

namespace mlsec {
template <class T> struct NlmOp {
  const T* x;
  T* out;
  Planes g;
  NlmParams prm;
  __device__ float at(const T* src, i64 i, i64 j) const {
    return float(src[(edge_index(i, g.H, Edge::mirror) * g.W + edge_index(j, g.W, Edge::mirror)) * g.step()]);
  }
  __device__ void operator()(i64 idx) const {
    const i64 hw = g.H * g.W, p = idx / hw, i = (idx - p * hw) / g.W, j = idx - p * hw - i * g.W;
    const T* src = x + g.base(p);
    const int rt = prm.rt, rs = prm.rs;
    float num = 0.0f, den = 0.0f;
    for (int dy = -rs; dy <= rs; ++dy)
      for (int dx = -rs; dx <= rs; ++dx) {
        float s = 0.0f;
        for (int ux = -rt; ux <= rt; ++ux) {
          float col = 0.0f;
          for (int uy = -rt; uy <= rt; ++uy) {
            const float e = at(src, i + uy, j + ux) - at(src, i + dy + uy, j + dx + ux);
            col += e * e;
          }
          s += col;
        }
        const float w = exp_neg(-(s * prm.c));
        num += w * at(src, i + dy, j + dx);
        den += w;
      }
    out[g.base(p) + (i * g.W + j) * g.step()] = nlm_store<T>(num, den);
  }
};

template <class T> void non_local_means_cuda(const T* x, T* out, Planes g, NlmParams prm, void* stream) {
  launch_flat(g.count() * g.H * g.W, NlmOp<T>{x, out, g, prm}, stream);
}

template void non_local_means_cuda<float>(const float*, float*, Planes, NlmParams, void*);
template void non_local_means_cuda<std::uint8_t>(const std::uint8_t*, std::uint8_t*, Planes, NlmParams, void*);
}  // namespace mlsec
