// _cpu: the host kernels. One short binding per op; checks live in host.hpp.
#include <optional>

#include "host.hpp"
#include "fgsm.hpp"
#include "output_program.hpp"
#include "watermark.hpp"

using namespace mlsec;

static void py_fgsm(py::handle x_, py::handle g_, py::handle eps_, bool targeted, double lo, double hi, py::handle out_) {
  Host x = host(x_, "x"), g = host(g_, "grad"), out = host(out_, "out", true);
  require_float(x, "x");
  require_like(x, "x", g, "grad");
  require_like(x, "x", out, "out");
  require_no_partial_overlap(out, x, "x");
  require_no_partial_overlap(out, g, "grad");
  require_clip(lo, hi);
  PerSample eps = per_sample(eps_, "eps", x.n);
  py::gil_scoped_release nogil;
  float_switch(x.dt, [&](auto t) {
    using T = decltype(t);
    fgsm_cpu<T>((const T*)x.data(), (const T*)g.data(), (T*)out.data(), x.n, x.d, eps, targeted, T(lo), T(hi));
  });
}

static void py_output(py::handle p_, py::handle steps, py::handle out_) {
  Host p = host(p_, "p"), out = host(out_, "out", true);
  require_float(p, "p");
  if (p.arr.ndim() != 2) value_error("p must be 2-D (N, C), got shape " + std::string(py::str(p.arr.attr("shape"))));
  require_like(p, "p", out, "out");
  require_no_partial_overlap(out, p, "p");
  const Program prog = program_arg(steps, p.d);
  // A one-row server call is shorter than handing the GIL over and back.
  std::optional<py::gil_scoped_release> nogil;
  if (p.n * p.d >= kParallelMin) nogil.emplace();
  float_switch(p.dt, [&](auto t) {
    using T = decltype(t);
    output_cpu<T>((const T*)p.data(), (T*)out.data(), p.n, p.d, prog);
  });
}

static void py_hmac_sha256(py::bytes key, py::handle x_, py::handle out_) {
  Host x = host(x_, "x"), out = host(out_, "out", true);
  if (out.dt != Dt::u8 || out.arr.ndim() != 2 || out.n != x.n || out.d != 32) value_error("out must be uint8 of shape (N, 32)");
  const std::string k = key;
  if (k.empty()) value_error("key must not be empty");
  const i64 row_bytes = x.d * i64(x.arr.itemsize());
  py::gil_scoped_release nogil;
  hmac_sha256_rows(reinterpret_cast<const unsigned char*>(k.data()), i64(k.size()), static_cast<const unsigned char*>(x.data()), x.n, row_bytes, static_cast<unsigned char*>(out.data()));
}

PYBIND11_MODULE(_cpu, m) {
  m.doc() = "mlsec_kernels host kernels (C++, OpenMP)";
  py::register_local_exception<Fallback>(m, "Fallback");
#ifdef _OPENMP
  m.attr("openmp") = true;
#else
  m.attr("openmp") = false;
#endif
  m.def("fgsm", &py_fgsm);
  m.def("output", &py_output);
  m.def("hmac_sha256", &py_hmac_sha256);
}
