// Pixel deflection (Prakash, Moran, Garber, DiLillo & Storer, "Deflecting adversarial
// attacks with pixel deflection", CVPR 2018), the loop of their reference code without
// the class-activation map: `deflections` times per image, for each channel in turn, a
// random pixel (py, px) takes the value of a random pixel (sy, sx) of the same channel
// within `window` of it (the window clipped to the image). Deflections are applied in
// order, so later ones see earlier ones; channels never touch each other, so each
// (image, channel) plane runs its own sequence, in any order, with the same result.
//
// Word mapping (docs/rng.md): deflection k (0-based) of channel ch of image r uses block
// e = (r * channels + ch) * deflections + k (a plane's blocks are consecutive), r the image's
// index in the whole batch: s0 + its index in this call (s0: sample_start, for a batch run
// in pieces):
//   py = below(w0, H), px = below(w1, W),
//   sy = lo_y + below(w2, hi_y - lo_y + 1), lo_y = max(0, py - window), hi_y = min(H - 1, py + window),
//   sx likewise from w3.
// Uniform (sy, sx) on the clipped window is what the reference's rejection loop samples
// (uniform offsets on the square, kept when inside the image), without its variable
// number of draws.
#pragma once
#include "common.hpp"
#include "philox.hpp"

namespace mlsec {
struct Deflection {
  i64 dst, src;  // pixel offsets (row * W + column) inside the plane
};

MLSEC_HD Deflection deflection_of(const Block& b, i64 h, i64 w, i64 window) {
  const i64 py = below(b.w[0], u32(h)), px = below(b.w[1], u32(w));
  const i64 ly = py - window > 0 ? py - window : 0, hy = py + window < h - 1 ? py + window : h - 1;
  const i64 lx = px - window > 0 ? px - window : 0, hx = px + window < w - 1 ? px + window : w - 1;
  const i64 sy = ly + below(b.w[2], u32(hy - ly + 1)), sx = lx + below(b.w[3], u32(hx - lx + 1));
  return Deflection{py * w + px, sy * w + sx};
}

// One deflection of a plane whose pixel p is at plane[p * step].
template <class T> MLSEC_HD void deflect(T* plane, i64 step, const Block& b, i64 h, i64 w, i64 window) {
  const Deflection d = deflection_of(b, h, w, window);
  plane[d.dst * step] = plane[d.src * step];
}

// out receives x (unless it is x) and then the deflections; layout NCHW or NHWC.
template <class T> void pixel_deflection_cpu(const T* x, T* out, i64 n, i64 c, i64 h, i64 w, bool nchw, i64 deflections,
                                             i64 window, Philox p, i64 s0);
template <class T> void pixel_deflection_cuda(const T* x, T* out, i64 n, i64 c, i64 h, i64 w, bool nchw,
                                              i64 deflections, i64 window, Philox p, i64 s0, void* stream);
}  // namespace mlsec
