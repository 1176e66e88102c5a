// The random stream (docs/design.md) written into out (contiguous, any shape) from stream
// element offset on: random_raw(out, seed, substream, offset) the raw uint32 words,
// uniform(...) and normal(...) float32 or float64 draws.
#pragma once
#include "cpp/rng.hpp"
#include "python/checks.hpp"

namespace mlsec::ops {
template <class A, class... T, class Cpu, class Cuda> void fill(const Go<A>& go, py::handle out_, py::handle seed,
                                                                py::handle substream, py::handle offset,
                                                                Types<T...> types, Cpu cpu, Cuda cuda) {
  const A out(out_, "out", true);
  require_dtype(out, "out", {dt_of<T>...});
  const i64 count = out.n * out.d;
  const StreamPos o = offset_arg(offset, count);
  const Philox p = philox_arg(seed, substream);
  go.run(out, types, [&](auto t) { go(cpu, cuda, ptr<decltype(t)>(out), count, p, o); });
}

template <class A>
void random_raw(const Go<A>& go, py::handle out, py::handle seed, py::handle substream, py::handle offset) {
  fill(go, out, seed, substream, offset, Types<u32>{}, MLSEC_DRIVERS(random_raw));
}
template <class A>
void uniform(const Go<A>& go, py::handle out, py::handle seed, py::handle substream, py::handle offset) {
  fill(go, out, seed, substream, offset, kFloats, MLSEC_DRIVERS(uniform));
}
template <class A>
void normal(const Go<A>& go, py::handle out, py::handle seed, py::handle substream, py::handle offset) {
  fill(go, out, seed, substream, offset, kFloats, MLSEC_DRIVERS(normal));
}
}  // namespace mlsec::ops
