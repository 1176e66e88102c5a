// Additive input noise (randomised defences; Cohen, Rosenfeld & Kolter 2019 sample it for
// randomized smoothing): out = clip(x + scale * draw, lo, hi), where draw is the stream's
// standard normal (gaussian_noise) or 2*U[0,1) - 1 (uniform_noise, the same draw as
// random_start's norm inf). Word mapping (docs/rng.md): out element (r, j) draws stream
// element offset + r*d + j. x is either out's shape or a single row broadcast over out's
// rows, so that smoothing fills a batch of noisy copies of one input straight from it.
// Integer x gives double out (as NumPy's x + noise): double(x) + double(draw) * scale.
#pragma once
#include "random_start.hpp"

namespace mlsec {
// Norm::l2 names the Gaussian draw, Norm::inf the uniform one (start_draws of random_start).
template <class T> void noise_cpu(const T* x, float_result<T>* out, i64 n, i64 d, bool broadcast, PerSample scale,
                                  Norm kind, Philox p, StreamPos offset, float_result<T> lo, float_result<T> hi);
template <class T> void noise_cuda(const T* x, float_result<T>* out, i64 n, i64 d, bool broadcast, PerSample scale,
                                   Norm kind, Philox p, StreamPos offset, float_result<T> lo, float_result<T> hi,
                                   void* stream);
}  // namespace mlsec
