// _cpu: the host kernels. One short binding per op; checks live in host.hpp.
#include "host.hpp"
#include "fgsm.hpp"
#include "memcopy.hpp"

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

// The bench's bandwidth floor: dst[...] = src, any dtype, the bytes of one into the other.
static void py_memcopy(py::handle src_, py::handle dst_) {
  Host src = host(src_, "src"), dst = host(dst_, "dst", true);
  if (src.bytes() != dst.bytes()) value_error("dst must have as many bytes as src: " + std::to_string(dst.bytes()) + " vs " + std::to_string(src.bytes()));
  require_no_partial_overlap(dst, src, "src");
  py::gil_scoped_release nogil;
  memcopy_cpu(src.data(), dst.data(), src.bytes(), src.n * src.d);
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
  m.def("memcopy", &py_memcopy, "memcopy(src, dst): parallel copy of src's bytes into dst (C-contiguous host arrays)");
}
