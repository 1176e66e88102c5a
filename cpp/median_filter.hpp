// Median filter, the local-smoothing squeezer of feature squeezing (Xu, Evans & Qi, NDSS
// 2018), per channel, with scipy.ndimage.median_filter(x, size=(1, 1, h, w))'s semantics:
// output (i, j) is the element of rank (h*w)/2 (0-based: the upper median for even windows)
// among input rows i - h/2 .. i - h/2 + h - 1 and columns j - w/2 .. j - w/2 + w - 1
// (integer halves: SciPy's default origin). Beyond the edge the image is extended by
// edge_index (image.hpp), folding again as often as a window larger than the image needs.
// Any real dtype: every integer width and float32/float64. A window holding a NaN gives NaN
// (as np.median), where SciPy returns an element that depends on its selection order.
#pragma once
#include <cstring>
#include <type_traits>

#include "image.hpp"

namespace mlsec {
struct Window {
  int h, w;
  Edge edge;
};
// Largest window, in pixels (1024 x 1024): the CPU's tiles and the GPU's selection passes
// grow with it; SciPy's own per-pixel selection takes minutes long before that.
constexpr i64 kMaxWindowPixels = i64(1) << 20;

// Written as selects so that compilers map them to vector min/max instructions.
template <class T> MLSEC_HD T minv(T a, T b) { return b < a ? b : a; }
template <class T> MLSEC_HD T maxv(T a, T b) { return a < b ? b : a; }
template <class T> MLSEC_HD void sort2(T& a, T& b) {
  const T l = minv(a, b);
  b = maxv(a, b);
  a = l;
}
template <class T> MLSEC_HD T med3(T a, T b, T c) { return maxv(minv(a, b), minv(maxv(a, b), c)); }

template <class T> MLSEC_HD bool is_nan(T v) {
  if constexpr (std::is_floating_point<T>::value)
    return v != v;
  else
    return false;
}

// The NaN every backend writes (NumPy's np.nan): the quiet NaN with no payload.
template <class T> MLSEC_HD T quiet_nan() {
  static_assert(std::is_floating_point<T>::value, "integers have no NaN");
  T v;
  if constexpr (sizeof(T) == 4) {
    const std::uint32_t b = 0x7fc00000u;
    memcpy(&v, &b, sizeof v);
  } else {
    const std::uint64_t b = 0x7ff8000000000000ull;
    memcpy(&v, &b, sizeof v);
  }
  return v;
}

// quiet_nan for floats; for integers (which hold no NaN, so never asked) zero.
template <class T> MLSEC_HD T quiet_nan_if() {
  if constexpr (std::is_floating_point<T>::value)
    return quiet_nan<T>();
  else
    return T(0);
}

// Keys: an unsigned integer of T's width in T's order, so that one radix sort or radix
// selection serves every dtype. Signed integers flip the sign bit; floats flip the sign bit
// of positives and every bit of negatives (so -0.0 sorts just below +0.0), and every NaN
// maps to the largest key, above +inf.
template <int Bytes> struct UnsignedOf;
template <> struct UnsignedOf<1> { using type = std::uint8_t; };
template <> struct UnsignedOf<2> { using type = std::uint16_t; };
template <> struct UnsignedOf<4> { using type = std::uint32_t; };
template <> struct UnsignedOf<8> { using type = std::uint64_t; };
template <class T> using key_of = typename UnsignedOf<sizeof(T)>::type;

template <class T> MLSEC_HD key_of<T> order_key(T v) {
  using K = key_of<T>;
  constexpr K top = K(K(1) << (sizeof(K) * 8 - 1));
  if constexpr (std::is_floating_point<T>::value) {
    if (is_nan(v)) return K(~K(0));
    K b;
    memcpy(&b, &v, sizeof b);
    return (b & top) ? K(~b) : K(b | top);
  } else if constexpr (std::is_signed<T>::value) {
    return K(K(v) ^ top);
  } else {
    return v;
  }
}
// The inverse of order_key (a NaN comes back as some NaN).
template <class T> MLSEC_HD T from_key(key_of<T> k) {
  using K = key_of<T>;
  constexpr K top = K(K(1) << (sizeof(K) * 8 - 1));
  if constexpr (std::is_floating_point<T>::value) {
    const K b = (k & top) ? K(k ^ top) : K(~k);
    T v;
    memcpy(&v, &b, sizeof v);
    return v;
  } else {
    return T(std::is_signed<T>::value ? K(k ^ top) : k);
  }
}

// --- the GPU's per-pixel selection (cuda/median_filter.cu; tests/cross/median_pixel.cpp
// runs it on the CPU) ---

// 3x3 median from three neighbouring columns, each sorted (lo <= mid <= hi): the median is
// the median of (largest lo, median mid, smallest hi), since those three are the only
// elements that can hold rank 4 once rows and columns are sorted.
template <class T> MLSEC_HD T median3x3_sorted(const T* lo, const T* mid, const T* hi) {
  return med3(maxv(maxv(lo[0], lo[1]), lo[2]), med3(mid[0], mid[1], mid[2]), minv(minv(hi[0], hi[1]), hi[2]));
}

// Element of rank k of v[0..n) (Hoare's selection; reorders v). NaN-free input: every scan
// stops at the pivot or at an element a swap placed, so it stays within v either way.
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

// Key of rank k among the keys visit(f) passes to f (any number, each visit in the same
// order), found four bits at a time, most significant first: a pass counts the keys that
// share the digits fixed so far by their next digit. No buffer, (bits / 4) passes.
template <class K, class Visit> MLSEC_HD K radix_select(Visit visit, i64 k) {
  K prefix = 0, mask = 0;
  for (int shift = int(sizeof(K)) * 8 - 4; shift >= 0; shift -= 4) {
    i64 count[16] = {};
    visit([&](K key) {
      if ((key & mask) == prefix) ++count[(key >> shift) & 15];
    });
    int d = 0;
    while (k >= count[d]) k -= count[d++];
    prefix = K(prefix | (K(d) << shift));
    mask = K(mask | (K(15) << shift));
  }
  return prefix;
}

// Windows up to this many pixels are copied to thread-local memory and selected there;
// larger ones are selected by radix_select straight from the image.
constexpr int kLocalWindow = 225;

// Output (i, j) of plane p, computed on its own: one GPU thread's work.
template <class T> MLSEC_HD T median_at(const T* x, const Planes& g, Window win, i64 p, i64 i, i64 j) {
  const int h = win.h, w = win.w, n = h * w;
  auto row = [&](int r) { return edge_index(i - h / 2 + r, g.H, win.edge); };
  auto at = [&](i64 ii, int c) { return x[g.offset(p, ii, edge_index(j - w / 2 + c, g.W, win.edge))]; };
  // Loads the window into v (NaN: false, or the NaN to return). With H and W known at
  // compile time every index is, and v stays in registers.
  auto load = [&](T* v, int H, int W) {
    bool nan = false;
    for (int r = 0; r < H; ++r) {
      const i64 ii = row(r);
      for (int c = 0; c < W; ++c) {
        v[r * W + c] = at(ii, c);
        nan = nan || is_nan(v[r * W + c]);
      }
    }
    return nan;
  };
  if (h == 3 && w == 3) {  // the columns sorted in registers, then the closed form
    T v[9];
    if (load(v, 3, 3)) return quiet_nan_if<T>();
    for (int c = 0; c < 3; ++c) {
      sort2(v[c], v[3 + c]);
      sort2(v[3 + c], v[6 + c]);
      sort2(v[c], v[3 + c]);
    }
    return median3x3_sorted(v, v + 3, v + 6);
  }
  if (h == 2 && w == 2) {  // rank 2 of two sorted columns (lo, hi): max(lo) vs min(hi)
    T v[4];
    if (load(v, 2, 2)) return quiet_nan_if<T>();
    sort2(v[0], v[2]);
    sort2(v[1], v[3]);
    return maxv(maxv(v[0], v[1]), minv(v[2], v[3]));
  }
  if (n <= kLocalWindow) {
    T v[kLocalWindow];
    if (load(v, h, w)) return quiet_nan_if<T>();
    return select_kth(v, n, n / 2);
  }
  auto visit = [&](auto f) {
    for (int r = 0; r < h; ++r) {
      const i64 ii = row(r);
      for (int c = 0; c < w; ++c) f(order_key(at(ii, c)));
    }
  };
  using K = key_of<T>;
  if constexpr (std::is_floating_point<T>::value) {
    bool nan = false;
    visit([&](K key) { nan = nan || key == K(~K(0)); });
    if (nan) return quiet_nan<T>();
  }
  return from_key<T>(radix_select<K>(visit, n / 2));
}

template <class T> void median_filter_cpu(const T* x, T* out, Planes g, Window win);
template <class T> void median_filter_cuda(const T* x, T* out, Planes g, Window win, void* stream);
}  // namespace mlsec
