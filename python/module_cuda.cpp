// _cuda: the device kernels. Arrays arrive as objects with __cuda_array_interface__;
// every kernel runs on the caller's stream, on the device that holds the data.
#include "device.hpp"
#include "fgsm.hpp"
#include "output_program.hpp"
#include "random_start.hpp"
#include "rng.hpp"

using namespace mlsec;

static void py_fgsm(py::handle x_, py::handle g_, py::handle eps_, bool targeted, double lo, double hi, py::handle out_, py::handle stream) {
  Dev x = dev(x_, "x"), g = dev(g_, "grad"), out = dev(out_, "out", true);
  require_float(x, "x");
  require_like(x, "x", g, "grad");
  require_like(x, "x", out, "out");
  require_no_partial_overlap(out, x, "x");
  require_no_partial_overlap(out, g, "grad");
  require_clip(lo, hi);
  PerSample eps = per_sample(eps_, "eps", x);
  if (x.n * x.d == 0) return;
  CudaDeviceGuard on(x.device);
  float_switch(x.dt, [&](auto t) {
    using T = decltype(t);
    fgsm_cuda<T>((const T*)x.ptr, (const T*)g.ptr, (T*)out.ptr, x.n, x.d, eps, targeted, T(lo), T(hi), as_stream(stream));
  });
}

static void py_output(py::handle p_, py::handle steps, py::handle out_, py::handle stream) {
  Dev p = dev(p_, "p"), out = dev(out_, "out", true);
  require_float(p, "p");
  if (p.shape.size() != 2) value_error("p must be 2-D (N, C)");
  require_like(p, "p", out, "out");
  require_no_partial_overlap(out, p, "p");
  const Program prog = program_arg(steps, p.d);
  if (p.n * p.d == 0) return;
  CudaDeviceGuard on(p.device);
  float_switch(p.dt, [&](auto t) {
    using T = decltype(t);
    output_cuda<T>((const T*)p.ptr, (T*)out.ptr, p.n, p.d, prog, as_stream(stream));
  });
}

// The rng family on the device: out (contiguous, any shape) from stream element offset on.
template <class Fill>
static void rng_fill(py::handle out_, py::handle seed, py::handle substream, py::handle offset, bool raw, py::handle stream, Fill&& fill) {
  Dev out = dev(out_, "out", true);
  if (raw ? out.dt != Dt::u32 : (out.dt != Dt::f32 && out.dt != Dt::f64))
    type_error(std::string("out must be ") + (raw ? "uint32" : "float32 or float64"));
  const i64 count = out.n * out.d;
  const StreamPos o = offset_arg(offset, count);
  const Philox p = Philox::make(u64_arg(seed, "seed"), u64_arg(substream, "substream"));
  if (count == 0) return;
  CudaDeviceGuard on(out.device);
  fill(out, count, p, o, as_stream(stream));
}

static void py_random_raw(py::handle out, py::handle seed, py::handle substream, py::handle offset, py::handle stream) {
  rng_fill(out, seed, substream, offset, true, stream, [](const Dev& a, i64 n, const Philox& p, StreamPos o, void* s) { random_raw_cuda((u32*)a.ptr, n, p, o, s); });
}

static void py_uniform(py::handle out, py::handle seed, py::handle substream, py::handle offset, py::handle stream) {
  rng_fill(out, seed, substream, offset, false, stream, [](const Dev& a, i64 n, const Philox& p, StreamPos o, void* s) {
    float_switch(a.dt, [&](auto t) { uniform_cuda((decltype(t)*)a.ptr, n, p, o, s); });
  });
}

static void py_normal(py::handle out, py::handle seed, py::handle substream, py::handle offset, py::handle stream) {
  rng_fill(out, seed, substream, offset, false, stream, [](const Dev& a, i64 n, const Philox& p, StreamPos o, void* s) {
    float_switch(a.dt, [&](auto t) { normal_cuda((decltype(t)*)a.ptr, n, p, o, s); });
  });
}

static void py_random_start(py::handle x_, py::handle eps_, const std::string& norm, py::handle seed, py::handle substream, double lo, double hi, py::handle out_, py::handle stream) {
  Dev x = dev(x_, "x0"), out = dev(out_, "out", true);
  require_float(x, "x0");
  require_like(x, "x0", out, "out");
  require_no_partial_overlap(out, x, "x0");
  require_clip(lo, hi);
  const Norm nm = norm_arg(norm);
  PerSample eps = per_sample(eps_, "eps", x);
  const Philox p = Philox::make(u64_arg(seed, "seed"), u64_arg(substream, "substream"));
  if (x.n * x.d == 0) return;
  CudaDeviceGuard on(x.device);
  float_switch(x.dt, [&](auto t) {
    using T = decltype(t);
    random_start_cuda<T>((const T*)x.ptr, (T*)out.ptr, x.n, x.d, eps, nm, p, T(lo), T(hi), as_stream(stream));
  });
}

static py::object probe() {
  std::string why;
  const int n = cuda_device_count(&why);
  py::list names;
  for (int i = 0; i < n; ++i) names.append(cuda_device_name(i));
  return py::make_tuple(n, names, why);
}

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "mlsec_kernels device kernels (CUDA)";
  py::register_local_exception<Fallback>(m, "Fallback");
  m.def("probe", &probe, "(device count, device names, reason when there is none)");
  m.def("synchronize", [](py::handle s) { cuda_synchronize(as_stream(s)); });
  m.def("fgsm", &py_fgsm);
  m.def("output", &py_output);
  m.def("random_raw", &py_random_raw);
  m.def("uniform", &py_uniform);
  m.def("normal", &py_normal);
  m.def("random_start", &py_random_start);
}
