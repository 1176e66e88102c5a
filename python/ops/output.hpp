// output(p, steps, out): the output post-processors' step program (cpp/output.hpp) run on each
// row of p (N, C). steps is the tuple the Python layer builds, ((kind, params...), ...); its
// parameters get the same messages as the Python step classes.
#pragma once
#include "cpp/output.hpp"
#include "python/checks.hpp"

namespace mlsec::ops {
// NumPy's power_of_ten (np.round): exact table to 1e8, then repeated *10 in double.
inline double power_of_ten(i64 n) {
  static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
  if (n < 9) return p10[n];
  double r = 1e9;
  while (n-- > 9 && r < INFINITY) r *= 10.0;
  return r;
}

inline Program program_arg(const py::handle& h, i64 p_n, i64 c) {
  if (!PyTuple_Check(h.ptr())) type_error("steps must be a tuple of encoded steps");
  auto steps = py::reinterpret_borrow<py::tuple>(h);
  if (steps.size() > size_t(kMaxSteps)) value_error("a Guard takes at most " + std::to_string(kMaxSteps) + " steps");
  Program prog{};
  prog.n = int(steps.size());
  for (int i = 0; i < prog.n; ++i) {
    auto t = py::reinterpret_borrow<py::tuple>(steps[i]);
    Step& s = prog.s[i];
    s.kind = int(int_arg(t[0], "step kind"));
    const size_t want[] = {3, 6, 2, 2, 3, 1};
    if (s.kind < 0 || s.kind > kClassLabels || t.size() != want[s.kind])
      value_error("malformed step " + std::string(py::str(t)));
    switch (s.kind) {
      case kReverseSigmoid:
        s.a = real_arg(t[1], "beta", true);
        s.b = real_arg(t[2], "gamma", true);
        break;
      case kGaussianNoise:
        s.a = real_arg(t[1], "scale", false);
        s.seed = u64_arg(t[2], "seed");
        s.substream = u64_arg(t[3], "substream");
        s.k = int_arg(t[4], "renormalize");
        if (s.k < kRenormNever || s.k > kRenormAuto) value_error("malformed renormalize mode");
        s.row0 = sample_start_arg(t[5], p_n, c);
        break;
      case kRound: {
        const i64 d = int_arg(t[1], "decimals");
        if (d < 0) value_error("decimals must be >= 0, got " + std::to_string(d));
        s.a = power_of_ten(d);
        break;
      }
      case kHighConfidence:
        s.a = real_arg(t[1], "cutoff", false);
        break;
      case kTopK:
        s.k = int_arg(t[1], "k");
        if (s.k < 1 || s.k > c)
          value_error("k must be in [1, C] = [1, " + std::to_string(c) + "], got " + std::to_string(s.k));
        s.flag = py::cast<bool>(t[2]);
        break;
      default:  // class labels: no parameters
        break;
    }
  }
  return prog;
}

template <class A> void output(const Go<A>& go, py::handle p_, py::handle steps, py::handle out_) {
  const A p(p_, "p"), out(out_, "out", true);
  require_float(p, "p");
  if (p.shape().size() != 2) value_error("p must be 2-D (N, C), got shape " + p.shape().str());
  require_out(p, out);
  require_no_partial_overlap(out, p, "p");
  const Program prog = program_arg(steps, p.n, p.d);
  // A one-row server call on the host is shorter than handing the GIL over and back.
  go.run(
      p, kFloats,
      [&](auto t) {
        using T = decltype(t);
        go(MLSEC_DRIVERS(output), ptr<T>(p), ptr<T>(out), p.n, p.d, prog);
      },
      p.n * p.d >= kParallelMin);
}
}  // namespace mlsec::ops
