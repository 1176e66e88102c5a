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
  __device__ float at(i64 p, i64 i, i64 j) const {
    return float(x[g.offset(p, edge_index(i, g.H, Edge::mirror), edge_index(j, g.W, Edge::mirror))]);
  }
  __device__ void operator()(i64 idx) const {
    const Pixel q = pixel_of(g, idx);
    const i64 p = q.p, i = q.i, j = q.j;
    const int rt = prm.rt, rs = prm.rs;
    float num = 0.0f, den = 0.0f;
    for (int dy = -rs; dy <= rs; ++dy)
      for (int dx = -rs; dx <= rs; ++dx) {
        float s = 0.0f;
        for (int ux = -rt; ux <= rt; ++ux) {
          float col = 0.0f;
          for (int uy = -rt; uy <= rt; ++uy) {
            const float e = at(p, i + uy, j + ux) - at(p, i + dy + uy, j + dx + ux);
            col += e * e;
          }
          s += col;
        }
        const float w = exp_f32(-(s * prm.c));
        num += w * at(p, i + dy, j + dx);
        den += w;
      }
    out[g.offset(p, i, j)] = nlm_store<T>(num, den);
  }
};

template <class T> void non_local_means_cuda(const T* x, T* out, Planes g, NlmParams prm, void* stream) {
  launch_flat(g.count() * g.H * g.W, NlmOp<T>{x, out, g, prm}, stream);
}

template void non_local_means_cuda<float>(const float*, float*, Planes, NlmParams, void*);
template void non_local_means_cuda<std::uint8_t>(const std::uint8_t*, std::uint8_t*, Planes, NlmParams, void*);
}  // namespace mlsec
