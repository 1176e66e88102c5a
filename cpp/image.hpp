// Batches of images as the image ops (median_filter, non_local_means) see them: planes of
// H x W pixels, channels-first or channels-last, and the edge extensions they use.
#pragma once
#include "common.hpp"

namespace mlsec {
// "reflect" repeats the edge sample (d c b a | a b c d), SciPy's reflect and OpenCV's
// BORDER_REFLECT; "mirror" does not (d c b | a b c d), SciPy's mirror and OpenCV's
// BORDER_REFLECT_101. Indices further out fold again.
enum class Edge : int { reflect = 0, mirror = 1 };

MLSEC_HD i64 edge_index(i64 i, i64 n, Edge e) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) {
    if (i < 0)
      i = e == Edge::reflect ? -i - 1 : -i;
    else
      i = e == Edge::reflect ? 2 * n - 1 - i : 2 * n - 2 - i;
  }
  return i;
}

// `outer` x `channels` planes of H x W pixels. Pixel (i, j) of plane p lies at
// base(p) + (i * W + j) * step(): channels-first data (N, C, H, W) has step 1,
// channels-last data (N, H, W, C) step C.
struct Planes {
  i64 outer, channels, H, W;
  bool channels_last;
  MLSEC_HD i64 count() const { return outer * channels; }
  MLSEC_HD i64 step() const { return channels_last ? channels : 1; }
  MLSEC_HD i64 base(i64 p) const {
    return channels_last ? (p / channels) * channels * H * W + p % channels : p * H * W;
  }
  MLSEC_HD i64 offset(i64 p, i64 i, i64 j) const { return base(p) + (i * W + j) * step(); }
};

// Pixel (plane, row, column) of flat index idx over all planes' pixels (one GPU thread each).
struct Pixel {
  i64 p, i, j;
};
MLSEC_HD Pixel pixel_of(const Planes& g, i64 idx) {
  const i64 hw = g.H * g.W, p = idx / hw, r = idx - p * hw, i = r / g.W;
  return Pixel{p, i, r - i * g.W};
}
}  // namespace mlsec
