#include "pixel_deflection.hpp"

#include <cstring>

#include "rng.hpp"

namespace mlsec {
template <class T> void pixel_deflection_cpu(const T* x, T* out, i64 n, i64 c, i64 h, i64 w, bool nchw, i64 deflections,
                                             i64 window, Philox p, i64 s0) {
  const i64 d = c * h * w;
  // work: the copy plus a Philox block per deflection (~ as dear as 16 copied elements)
  for_each_row(n, d + 16 * deflections * c, [&](i64 r) {
    if (x != out) std::memcpy(out + r * d, x + r * d, sizeof(T) * size_t(d));
    for (i64 ch = 0; ch < c; ++ch) {
      // the plane's blocks, in order, from the SIMD generator (philox_span visits blocks in order)
      T* plane = out + r * d + (nchw ? ch * h * w : ch);
      const StreamPos first{u64(((s0 + r) * c + ch) * deflections), 0};
      philox_span(p, first, 4 * deflections, [&](i64, const u32* words, int a, int b) {
        for (int k = a; k < b; k += 4)
          deflect(plane, nchw ? 1 : c, Block{{words[k], words[k + 1], words[k + 2], words[k + 3]}}, h, w, window);
      });
    }
  });
}

#define MLSEC_INSTANTIATE(T) \
  template void pixel_deflection_cpu<T>(const T*, T*, i64, i64, i64, i64, bool, i64, i64, Philox, i64);
MLSEC_REAL_TYPES(MLSEC_INSTANTIATE)
}  // namespace mlsec
