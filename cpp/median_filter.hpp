// Median filter, the local-smoothing squeezer of feature squeezing (Xu, Evans & Qi, NDSS
// 2018), per channel, with scipy.ndimage.median_filter(x, size=(1, 1, h, w))'s semantics:
// output (i, j) is the element of rank (h*w)/2 (0-based: the upper median for even windows)
// among input rows i - h/2 .. i - h/2 + h - 1 and columns j - w/2 .. j - w/2 + w - 1
// (integer halves: SciPy's default origin). Beyond the edge, "reflect" repeats the edge
// sample (d c b a | a b c d) and "mirror" does not (d c b | a b c d); the window never
// exceeds the image. Windows holding NaN give an unspecified
// element of the window (SciPy's answer depends on its selection order too).
#pragma once
#include "image.hpp"

namespace mlsec {
// Written as selects so that compilers map them to vector min/max instructions.
template <class T> MLSEC_HD T minv(T a, T b) { return b < a ? b : a; }
template <class T> MLSEC_HD T maxv(T a, T b) { return a < b ? b : a; }
template <class T> MLSEC_HD void sort2(T& a, T& b) {
  const T l = minv(a, b);
  b = maxv(a, b);
  a = l;
}
template <class T> MLSEC_HD T med3(T a, T b, T c) { return maxv(minv(a, b), minv(maxv(a, b), c)); }

// 3x3 median from three neighbouring columns, each sorted (lo <= mid <= hi): the median is
// the median of (largest lo, median mid, smallest hi), since those three are the only
// elements that can hold rank 4 once rows and columns are sorted.
template <class T> MLSEC_HD T median3x3_sorted(const T* lo, const T* mid, const T* hi) {
  return med3(maxv(maxv(lo[0], lo[1]), lo[2]), med3(mid[0], mid[1], mid[2]), minv(minv(hi[0], hi[1]), hi[2]));
}
// 2x2 upper median (rank 2 of 4) from two sorted columns, by the same argument.
template <class T> MLSEC_HD T median2x2_sorted(const T* lo, const T* hi) {
  return maxv(maxv(lo[0], lo[1]), minv(hi[0], hi[1]));
}

// Element of rank k of v[0..n) (Hoare's selection; reorders v).
template <class T> MLSEC_HD T select_kth(T* v, int n, int k) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    const T pivot = v[(lo + hi) / 2];
    int i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) ++i;
      while (pivot < v[j]) --j;
      if (i <= j) {
        const T t = v[i];
        v[i++] = v[j];
        v[j--] = t;
      }
    }
    if (k <= j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      break;
  }
  return v[k];
}

struct Window {
  int h, w;
  Edge edge;
};
constexpr int kMaxWindow = 15;

template <class T> void median_filter_cpu(const T* x, T* out, Planes g, Window win);
template <class T> void median_filter_cuda(const T* x, T* out, Planes g, Window win, void* stream);
}  // namespace mlsec
