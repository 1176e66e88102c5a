// random_start(x0, eps, norm, seed, substream, sample_start, lo, hi, out): clip(x0 + u), u
// drawn uniformly from the norm ball of radius eps, from the Philox stream (seed, substream),
// row r of x0 drawing as sample sample_start + r of a larger batch.
#pragma once
#include "cpp/random_start.hpp"
#include "python/checks.hpp"

namespace mlsec::ops {
template <class A> void random_start(const Go<A>& go, py::handle x_, py::handle eps_, int norm, py::handle seed,
                                     py::handle substream, py::handle sample_start, double lo, double hi,
                                     py::handle out_) {
  const A x(x_, "x0"), out(out_, "out", true);
  require_float_out<A>({x, "x0"}, {}, out);
  require_clip(lo, hi);
  const Norm nm = norm_code(norm);
  const PerSample eps = per_sample(eps_, "eps", x);
  const Philox p = philox_arg(seed, substream);
  const i64 s0 = sample_start_arg(sample_start, x.n, x.d);
  go.run(x, kFloats, [&](auto t) {
    using T = decltype(t);
    go(MLSEC_DRIVERS(random_start), ptr<T>(x), ptr<T>(out), x.n, x.d, eps, nm, p, s0, T(lo), T(hi));
  });
}
}  // namespace mlsec::ops
