// _cuda: the device kernels. Arrays arrive as objects with __cuda_array_interface__;
// every kernel runs on the caller's stream, on the device that holds the data.
#include "device.hpp"
#include "fgsm.hpp"
#include "output_program.hpp"
#include "random_start.hpp"
#include "rng.hpp"
#include "pgd_step.hpp"
#include "project.hpp"
#include "bit_depth.hpp"
#include "images.hpp"
#include "median_filter.hpp"
#include "non_local_means.hpp"
#include "noise.hpp"
#include "pixel_deflection.hpp"
#include "class_counts.hpp"
#include "transforms_args.hpp"

using namespace mlsec;

static void py_fgsm(py::handle x_, py::handle g_, py::handle eps_, bool targeted, double lo, double hi, py::handle out_, py::handle stream) {
  Dev x = dev(x_, "x"), g = dev(g_, "grad"), out = dev(out_, "out", true);
  require_fgsm(x, g, out, lo, hi);
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

static void py_bit_depth(py::handle x_, int bits, double lo, double hi, py::handle out_, py::handle stream) {
  Dev x = dev(x_, "x"), out = dev(out_, "out", true);
  require_dtype(x, "x", {Dt::f32, Dt::f64, Dt::u8}, [&] { return std::string(dt_name(x.dt)); });
  require_like(x, "x", out, "out");
  require_no_partial_overlap(out, x, "x");
  require_bits(bits);
  require_range(lo, hi);
  if (x.n * x.d == 0) return;
  CudaDeviceGuard on(x.device);
  dtype_switch(x.dt, [&](auto t) {
    using T = decltype(t);
    bit_depth_cuda<T>((const T*)x.ptr, (T*)out.ptr, x.n * x.d, bits, lo, hi, as_stream(stream));
  });
}

static Planes image_args(const Dev& x, const Dev& out, const std::string& layout, std::initializer_list<Dt> dts) {
  Planes g = planes_of(x.shape, layout);
  require_dtype(x, "x", dts, [&] { return std::string(dt_name(x.dt)); });
  require_like(x, "x", out, "out");
  require_disjoint((const char*)out.ptr, out.bytes(), (const char*)x.ptr, x.bytes());
  return g;
}

static void py_median_filter(py::handle x_, int h, int w, const std::string& layout, const std::string& mode, py::handle out_, py::handle stream) {
  Dev x = dev(x_, "x"), out = dev(out_, "out", true);
  Planes g = image_args(x, out, layout, {Dt::f32, Dt::f64, Dt::u8});
  require_window(h, w, g, kMaxWindow);
  const Window win{h, w, edge_of(mode)};
  if (x.n * x.d == 0) return;
  CudaDeviceGuard on(x.device);
  dtype_switch(x.dt, [&](auto t) {
    using T = decltype(t);
    median_filter_cuda<T>((const T*)x.ptr, (T*)out.ptr, g, win, as_stream(stream));
  });
}

static void py_non_local_means(py::handle x_, double h, int template_size, int search_size, const std::string& layout, py::handle out_, py::handle stream) {
  Dev x = dev(x_, "x"), out = dev(out_, "out", true);
  Planes g = image_args(x, out, layout, {Dt::f32, Dt::u8});
  const NlmParams prm = nlm_params(h, template_size, search_size);
  if (x.n * x.d == 0) return;
  CudaDeviceGuard on(x.device);
  if (x.dt == Dt::f32) non_local_means_cuda<float>((const float*)x.ptr, (float*)out.ptr, g, prm, as_stream(stream));
  else non_local_means_cuda<std::uint8_t>((const std::uint8_t*)x.ptr, (std::uint8_t*)out.ptr, g, prm, as_stream(stream));
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

static void py_random_start(py::handle x_, py::handle eps_, int norm, py::handle seed, py::handle substream, double lo, double hi, py::handle out_, py::handle stream) {
  Dev x = dev(x_, "x0"), out = dev(out_, "out", true);
  require_float_out(x, "x0", out);
  require_clip(lo, hi);
  const Norm nm = norm_code(norm);
  PerSample eps = per_sample(eps_, "eps", x);
  const Philox p = Philox::make(u64_arg(seed, "seed"), u64_arg(substream, "substream"));
  if (x.n * x.d == 0) return;
  CudaDeviceGuard on(x.device);
  float_switch(x.dt, [&](auto t) {
    using T = decltype(t);
    random_start_cuda<T>((const T*)x.ptr, (T*)out.ptr, x.n, x.d, eps, nm, p, T(lo), T(hi), as_stream(stream));
  });
}

static void py_project(py::handle d_, py::handle eps_, int norm, py::handle out_, py::handle stream) {
  Dev d = dev(d_, "delta"), out = dev(out_, "out", true);
  require_float_out(d, "delta", out);
  const Norm nm = norm_code(norm);
  PerSample eps = per_sample(eps_, "eps", d);
  if (d.n * d.d == 0) return;
  CudaDeviceGuard on(d.device);
  float_switch(d.dt, [&](auto t) {
    using T = decltype(t);
    project_cuda<T>((const T*)d.ptr, (T*)out.ptr, d.n, d.d, eps, nm, as_stream(stream));
  });
}

static void py_pgd_step(py::handle x_, py::handle x0_, py::handle g_, py::handle step_, py::handle eps_, int norm,
                        bool targeted, double l1_sparsity, double lo, double hi, py::handle out_, py::handle stream) {
  Dev x = dev(x_, "x"), x0 = dev(x0_, "x0"), g = dev(g_, "grad"), out = dev(out_, "out", true);
  const Norm nm = require_pgd_step(x, x0, g, out, norm, l1_sparsity, lo, hi);
  PerSample step = per_sample(step_, "step", x), eps = per_sample(eps_, "eps", x);
  if (x.n * x.d == 0) return;
  CudaDeviceGuard on(x.device);
  float_switch(x.dt, [&](auto t) {
    using T = decltype(t);
    pgd_step_cuda<T>((const T*)x.ptr, (const T*)x0.ptr, (const T*)g.ptr, (T*)out.ptr, x.n, x.d, step, eps, nm,
                     targeted, l1_sparsity, T(lo), T(hi), as_stream(stream));
  });
}

static void py_noise(py::handle x_, py::handle scale_, const std::string& kind, py::handle seed, py::handle substream, py::handle offset, double lo, double hi, py::handle out_, py::handle stream) {
  Dev x = dev(x_, "x"), out = dev(out_, "out", true);
  require_float(x, "x");
  const bool bc = noise_broadcast(x, out);
  require_no_partial_overlap(out, x, "x");
  require_clip(lo, hi);
  const Norm k = noise_kind(kind);
  PerSample scale = per_sample(scale_, k == Norm::l2 ? "sigma" : "eps", out);
  const StreamPos o = offset_arg(offset, out.n * out.d);
  const Philox p = Philox::make(u64_arg(seed, "seed"), u64_arg(substream, "substream"));
  if (out.n * out.d == 0) return;
  CudaDeviceGuard on(out.device);
  float_switch(x.dt, [&](auto t) {
    using T = decltype(t);
    noise_cuda<T>((const T*)x.ptr, (T*)out.ptr, out.n, out.d, bc, scale, k, p, o, T(lo), T(hi), as_stream(stream));
  });
}

static void py_random_resize_pad(py::handle x_, py::handle params_, i64 out_size, const std::string& layout, const std::string& interp, py::handle out_, py::handle stream) {
  Dev x = dev(x_, "x"), out = dev(out_, "out", true), prm = dev(params_, "params");
  require_float(x, "x");
  const ImageDims g = image_dims(x.shape, layout, "x");
  const bool bilinear = interp_arg(interp);
  require_resize_shape(g, out_size, out.shape);
  if (out.dt != x.dt) type_error("out must have the dtype of x");
  if (out.ptr == x.ptr && x.n * x.d > 0) value_error("out must not be x (random_resize_pad writes a new canvas)");
  if (prm.shape != std::vector<i64>{g.n, 3} || prm.itemsize != 4) value_error("params must be an int32 array of shape (N, 3)");
  require_no_partial_overlap(out, x, "x");
  if (out.n * out.d == 0) return;
  CudaDeviceGuard on(out.device);
  float_switch(x.dt, [&](auto t) {
    using T = decltype(t);
    random_resize_pad_cuda<T>((const T*)x.ptr, (T*)out.ptr, g.n, g.c, g.h, g.w, out_size, (const int*)prm.ptr, g.layout, bilinear, as_stream(stream));
  });
}

static void py_pixel_deflection(py::handle x_, i64 deflections, i64 window, const std::string& layout, py::handle seed, py::handle substream, py::handle out_, py::handle stream) {
  Dev x = dev(x_, "x"), out = dev(out_, "out", true);
  require_float_out(x, "x", out);
  const ImageDims g = image_dims(x.shape, layout, "x");
  require_deflection_args(g, deflections, window);
  const Philox p = Philox::make(u64_arg(seed, "seed"), u64_arg(substream, "substream"));
  if (x.n * x.d == 0) return;
  CudaDeviceGuard on(x.device);
  float_switch(x.dt, [&](auto t) {
    using T = decltype(t);
    pixel_deflection_cuda<T>((const T*)x.ptr, (T*)out.ptr, g.n, g.c, g.h, g.w, g.layout == Layout::nchw, deflections, window, p, as_stream(stream));
  });
}

static char kind_of(py::handle h) { return py::cast<std::string>(h.attr("__cuda_array_interface__")["typestr"])[1]; }

static void py_class_counts(py::handle pred_, i64 k, py::handle counts_, py::handle stream) {
  Dev pred = dev(pred_, "pred"), counts = dev(counts_, "counts", true);
  const Votes v = votes_check(vote_type(kind_of(pred_), pred.itemsize), pred.shape, k, kind_of(counts_), counts.itemsize, counts.shape);
  if (pred.n == 0) return;
  CudaDeviceGuard on(pred.device);
  vote_switch(v.type, [&](auto t) {
    using T = decltype(t);
    class_counts_cuda<T>((const T*)pred.ptr, pred.n, k, v.is_logits, (i64*)counts.ptr, as_stream(stream));
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
  m.def("project", &py_project);
  m.def("pgd_step", &py_pgd_step);
  m.def("bit_depth", &py_bit_depth);
  m.def("median_filter", &py_median_filter);
  m.def("non_local_means", &py_non_local_means);
  m.def("noise", &py_noise);
  m.def("random_resize_pad", &py_random_resize_pad);
  m.def("pixel_deflection", &py_pixel_deflection);
  m.def("class_counts", &py_class_counts);
}
