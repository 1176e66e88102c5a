// CUDA median filter: one thread per output pixel. 3x3 and 2x2 windows use the closed forms
// of median_filter.hpp on columns sorted in registers; other sizes select the element of
// rank (h*w)/2 from the window copied to thread-local memory.
#include "common.cuh"
#include "median_filter.hpp"

namespace mlsec {
template <class T> struct MedianOp {
  const T* x;
  T* out;
  Planes g;
  Window win;
  __device__ void operator()(i64 idx) const {
    const Pixel q = pixel_of(g, idx);
    const int h = win.h, w = win.w;
    auto at = [&](int r, int c) {
      return x[g.offset(q.p, edge_index(q.i - h / 2 + r, g.H, win.edge), edge_index(q.j - w / 2 + c, g.W, win.edge))];
    };
    T result;
    if (h == 3 && w == 3) {
      T lo[3], mid[3], hi[3];
      for (int c = 0; c < 3; ++c) {
        T a = at(0, c), b = at(1, c), d = at(2, c);
        sort2(a, b);
        sort2(b, d);
        sort2(a, b);
        lo[c] = a, mid[c] = b, hi[c] = d;
      }
      result = median3x3_sorted(lo, mid, hi);
    } else if (h == 2 && w == 2) {
      T lo[2], hi[2];
      for (int c = 0; c < 2; ++c) {
        lo[c] = at(0, c), hi[c] = at(1, c);
        sort2(lo[c], hi[c]);
      }
      result = median2x2_sorted(lo, hi);
    } else {
      T v[kMaxWindow * kMaxWindow];
      for (int r = 0; r < h; ++r)
        for (int c = 0; c < w; ++c) v[r * w + c] = at(r, c);
      result = select_kth(v, h * w, h * w / 2);
    }
    out[g.offset(q.p, q.i, q.j)] = result;
  }
};

template <class T> void median_filter_cuda(const T* x, T* out, Planes g, Window win, void* stream) {
  launch_flat(g.count() * g.H * g.W, MedianOp<T>{x, out, g, win}, stream);
}

template void median_filter_cuda<float>(const float*, float*, Planes, Window, void*);
template void median_filter_cuda<double>(const double*, double*, Planes, Window, void*);
template void median_filter_cuda<std::uint8_t>(const std::uint8_t*, std::uint8_t*, Planes, Window, void*);
}  // namespace mlsec
