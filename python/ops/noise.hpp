// noise(x, scale, kind, seed, substream, offset, lo, hi, out): out = clip(x + scale * z), z
// the stream's normals (kind "normal", scale = sigma) or uniforms on [-1, 1) ("uniform",
// scale = eps), from stream element offset on. x may be one row broadcast over out's rows
// (smoothing's noisy batches). Integer x gives float64 out.
#pragma once
#include "cpp/noise.hpp"
#include "python/checks.hpp"

namespace mlsec::ops {
// The draw of cpp/noise.hpp, as a Norm: l2 for normal, inf for uniform.
inline Norm noise_kind(const std::string& k) {
  if (k == "normal") return Norm::l2;
  if (k == "uniform") return Norm::inf;
  value_error("noise kind must be 'normal' or 'uniform', got " + shown(k));
}

// x is out's shape, or one row broadcast over out's rows; out has the result's dtype (x's
// own for float x, float64 for integer x).
template <class A> bool noise_broadcast(const A& x, const A& out) {
  if (x.n == 1 && out.n != 1 && x.d == out.d && out.dt == float_result_dt(x.dt)) {
    require_same_device(x, "x", out, "out");
    return true;
  }
  require_out(x, out, float_result_dt(x.dt));
  return false;
}

template <class A> void noise(const Go<A>& go, py::handle x_, py::handle scale_, const std::string& kind,
                              py::handle seed, py::handle substream, py::handle offset, double lo, double hi,
                              py::handle out_) {
  const A x(x_, "x"), out(out_, "out", true);
  require_real(x, "x");
  const bool bc = noise_broadcast(x, out);
  require_no_partial_overlap(out, x, "x");
  require_clip(lo, hi);
  const Norm k = noise_kind(kind);
  const PerSample scale = per_sample(scale_, k == Norm::l2 ? "sigma" : "eps", out);
  const StreamPos o = offset_arg(offset, out.n * out.d);
  const Philox p = philox_arg(seed, substream);
  go.run(x, kReals, [&](auto t) {
    using T = decltype(t);
    using R = float_result<T>;
    go(MLSEC_DRIVERS(noise), ptr<T>(x), ptr<R>(out), out.n, out.d, bc, scale, k, p, o, R(lo), R(hi));
  });
}
}  // namespace mlsec::ops
