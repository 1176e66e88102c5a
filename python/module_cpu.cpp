// The host kernels' bindings, shared by every CPU tier's module (module_tier.cpp).
// One short binding per op; checks live in host.hpp.
#include <optional>

#include "host.hpp"
#include "cpu_tiers.hpp"
#include "fgsm.hpp"
#include "output_program.hpp"
#include "watermark.hpp"
#include "random_start.hpp"
#include "rng.hpp"
#include "memcopy.hpp"
#include "pgd_step.hpp"
#include "project.hpp"
#include "bit_depth.hpp"
#include "images.hpp"
#include "median_filter.hpp"
#include "non_local_means.hpp"
#include "noise.hpp"
#include "random_resize_pad.hpp"
#include "pixel_deflection.hpp"
#include "class_counts.hpp"
#include "transforms_args.hpp"

using namespace mlsec;

static void py_fgsm(py::handle x_, py::handle g_, py::handle eps_, bool targeted, double lo, double hi, py::handle out_) {
  Host x = host(x_, "x"), g = host(g_, "grad"), out = host(out_, "out", true);
  require_fgsm(x, g, out, lo, hi);
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

static void py_bit_depth(py::handle x_, int bits, double lo, double hi, py::handle out_) {
  Host x = host(x_, "x"), out = host(out_, "out", true);
  require_dtype(x, "x", {Dt::f32, Dt::f64, Dt::u8});
  require_like(x, "x", out, "out");
  require_no_partial_overlap(out, x, "x");
  require_bits(bits);
  require_range(lo, hi);
  py::gil_scoped_release nogil;
  dtype_switch(x.dt, [&](auto t) {
    using T = decltype(t);
    bit_depth_cpu<T>((const T*)x.data(), (T*)out.data(), x.n * x.d, bits, lo, hi);
  });
}

// The checks median_filter and non_local_means share: layout, dtype, out.
static Planes image_args(const Host& x, const Host& out, const std::string& layout, std::initializer_list<Dt> dts) {
  Planes g = planes_of(shape_of(x), layout);
  require_dtype(x, "x", dts);
  require_like(x, "x", out, "out");
  require_disjoint((const char*)out.data(), out.bytes(), (const char*)x.data(), x.bytes());
  return g;
}

static void py_median_filter(py::handle x_, int h, int w, const std::string& layout, const std::string& mode, py::handle out_) {
  Host x = host(x_, "x"), out = host(out_, "out", true);
  Planes g = image_args(x, out, layout, {Dt::f32, Dt::f64, Dt::u8});
  require_window(h, w, g, kMaxWindow);
  const Window win{h, w, edge_of(mode)};
  py::gil_scoped_release nogil;
  dtype_switch(x.dt, [&](auto t) {
    using T = decltype(t);
    median_filter_cpu<T>((const T*)x.data(), (T*)out.data(), g, win);
  });
}

static void py_non_local_means(py::handle x_, double h, int template_size, int search_size, const std::string& layout, py::handle out_) {
  Host x = host(x_, "x"), out = host(out_, "out", true);
  Planes g = image_args(x, out, layout, {Dt::f32, Dt::u8});
  const NlmParams prm = nlm_params(h, template_size, search_size);
  py::gil_scoped_release nogil;
  if (x.dt == Dt::f32) non_local_means_cpu<float>((const float*)x.data(), (float*)out.data(), g, prm);
  else non_local_means_cpu<std::uint8_t>((const std::uint8_t*)x.data(), (std::uint8_t*)out.data(), g, prm);
}

// The rng family: out (contiguous, any shape) filled from stream elements offset, offset+1, ...
template <class Fill> static void rng_fill(py::handle out_, py::handle seed, py::handle substream, py::handle offset, bool raw, Fill&& fill) {
  Host out = host(out_, "out", true);
  if (raw ? out.dt != Dt::u32 : (out.dt != Dt::f32 && out.dt != Dt::f64))
    type_error(std::string("out must be ") + (raw ? "uint32" : "float32 or float64") + ", got " + std::string(py::str(out.arr.dtype())));
  const i64 count = out.n * out.d;
  const StreamPos o = offset_arg(offset, count);
  const Philox p = Philox::make(u64_arg(seed, "seed"), u64_arg(substream, "substream"));
  py::gil_scoped_release nogil;
  fill(out, count, p, o);
}

static void py_random_raw(py::handle out, py::handle seed, py::handle substream, py::handle offset) {
  rng_fill(out, seed, substream, offset, true, [](const Host& a, i64 n, const Philox& p, StreamPos o) { random_raw_cpu((u32*)a.data(), n, p, o); });
}

static void py_uniform(py::handle out, py::handle seed, py::handle substream, py::handle offset) {
  rng_fill(out, seed, substream, offset, false, [](const Host& a, i64 n, const Philox& p, StreamPos o) {
    float_switch(a.dt, [&](auto t) { uniform_cpu((decltype(t)*)a.data(), n, p, o); });
  });
}

static void py_normal(py::handle out, py::handle seed, py::handle substream, py::handle offset) {
  rng_fill(out, seed, substream, offset, false, [](const Host& a, i64 n, const Philox& p, StreamPos o) {
    float_switch(a.dt, [&](auto t) { normal_cpu((decltype(t)*)a.data(), n, p, o); });
  });
}

static void py_random_start(py::handle x_, py::handle eps_, int norm, py::handle seed, py::handle substream, double lo, double hi, py::handle out_) {
  Host x = host(x_, "x0"), out = host(out_, "out", true);
  require_float_out(x, "x0", out);
  require_clip(lo, hi);
  const Norm nm = norm_code(norm);
  PerSample eps = per_sample(eps_, "eps", x.n);
  const Philox p = Philox::make(u64_arg(seed, "seed"), u64_arg(substream, "substream"));
  py::gil_scoped_release nogil;
  float_switch(x.dt, [&](auto t) {
    using T = decltype(t);
    random_start_cpu<T>((const T*)x.data(), (T*)out.data(), x.n, x.d, eps, nm, p, T(lo), T(hi));
  });
}

static void py_project(py::handle d_, py::handle eps_, int norm, py::handle out_) {
  Host d = host(d_, "delta"), out = host(out_, "out", true);
  require_float_out(d, "delta", out);
  const Norm nm = norm_code(norm);
  PerSample eps = per_sample(eps_, "eps", d.n);
  py::gil_scoped_release nogil;
  float_switch(d.dt, [&](auto t) {
    using T = decltype(t);
    project_cpu<T>((const T*)d.data(), (T*)out.data(), d.n, d.d, eps, nm);
  });
}

static void py_pgd_step(py::handle x_, py::handle x0_, py::handle g_, py::handle step_, py::handle eps_, int norm,
                        bool targeted, double l1_sparsity, double lo, double hi, py::handle out_) {
  Host x = host(x_, "x"), x0 = host(x0_, "x0"), g = host(g_, "grad"), out = host(out_, "out", true);
  const Norm nm = require_pgd_step(x, x0, g, out, norm, l1_sparsity, lo, hi);
  PerSample step = per_sample(step_, "step", x.n), eps = per_sample(eps_, "eps", x.n);
  py::gil_scoped_release nogil;
  float_switch(x.dt, [&](auto t) {
    using T = decltype(t);
    pgd_step_cpu<T>((const T*)x.data(), (const T*)x0.data(), (const T*)g.data(), (T*)out.data(), x.n, x.d, step, eps,
                    nm, targeted, l1_sparsity, T(lo), T(hi));
  });
}

static void py_noise(py::handle x_, py::handle scale_, const std::string& kind, py::handle seed, py::handle substream, py::handle offset, double lo, double hi, py::handle out_) {
  Host x = host(x_, "x"), out = host(out_, "out", true);
  require_float(x, "x");
  const bool bc = noise_broadcast(x, out);
  require_no_partial_overlap(out, x, "x");
  require_clip(lo, hi);
  const Norm k = noise_kind(kind);
  PerSample scale = per_sample(scale_, k == Norm::l2 ? "sigma" : "eps", out.n);
  const StreamPos o = offset_arg(offset, out.n * out.d);
  const Philox p = Philox::make(u64_arg(seed, "seed"), u64_arg(substream, "substream"));
  py::gil_scoped_release nogil;
  float_switch(x.dt, [&](auto t) {
    using T = decltype(t);
    noise_cpu<T>((const T*)x.data(), (T*)out.data(), out.n, out.d, bc, scale, k, p, o, T(lo), T(hi));
  });
}

static void py_random_resize_pad(py::handle x_, py::handle params_, i64 out_size, const std::string& layout, const std::string& interp, py::handle out_) {
  Host x = host(x_, "x"), out = host(out_, "out", true);
  require_float(x, "x");
  const ImageDims g = image_dims(x.arr, layout, "x");
  const bool bilinear = interp_arg(interp);
  require_resize_out(x, g, out_size, out);
  require_no_partial_overlap(out, x, "x");
  Host prm = host(params_, "params");
  const int* p = resize_params(prm.arr, g, out_size);
  py::gil_scoped_release nogil;
  float_switch(x.dt, [&](auto t) {
    using T = decltype(t);
    random_resize_pad_cpu<T>((const T*)x.data(), (T*)out.data(), g.n, g.c, g.h, g.w, out_size, p, g.layout, bilinear);
  });
}

static void py_pixel_deflection(py::handle x_, i64 deflections, i64 window, const std::string& layout, py::handle seed, py::handle substream, py::handle out_) {
  Host x = host(x_, "x"), out = host(out_, "out", true);
  require_float_out(x, "x", out);
  const ImageDims g = image_dims(x.arr, layout, "x");
  require_deflection_args(g, deflections, window);
  const Philox p = Philox::make(u64_arg(seed, "seed"), u64_arg(substream, "substream"));
  py::gil_scoped_release nogil;
  float_switch(x.dt, [&](auto t) {
    using T = decltype(t);
    pixel_deflection_cpu<T>((const T*)x.data(), (T*)out.data(), g.n, g.c, g.h, g.w, g.layout == Layout::nchw, deflections, window, p);
  });
}

static void py_class_counts(py::handle pred_, i64 k, py::handle counts_) {
  Host pred = host(pred_, "pred"), counts = host(counts_, "counts", true);
  const Votes v = votes_arg(pred.arr, k, counts.arr);
  i64* c = (i64*)counts.data();
  py::gil_scoped_release nogil;
  vote_switch(v.type, [&](auto t) {
    using T = decltype(t);
    class_counts_cpu<T>((const T*)pred.data(), pred.n, k, v.is_logits, c);
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

static py::list tier_names(int mask) {
  py::list out;
  for (auto [bit, name] : {std::pair{kDefault, "default"}, std::pair{kAvx2, "avx2"}, std::pair{kAvx512, "avx512"}})
    if (mask & bit) out.append(name);
  return out;
}

void bind_cpu(py::module_& m) {
  m.doc() = "mlsec_kernels host kernels (C++, OpenMP), built for one CPU tier (m.capability)";
  m.def("cpu_tiers", [] { return tier_names(cpu_tiers()); }, "The CPU tiers this machine runs, lowest first (CPUID + XGETBV)");
  m.def("tiers_from_cpuid", [](u32 l1, u32 l7, u32 x1, u64 xcr0) { return tier_names(tiers_from_cpuid(l1, l7, x1, xcr0)); },
        "tiers_from_cpuid(leaf1_ecx, leaf7_ebx, ext1_ecx, xcr0): the tiers those CPUID words and XCR0 allow");
  py::register_local_exception<Fallback>(m, "Fallback");
#ifdef _OPENMP
  m.attr("openmp") = true;
#else
  m.attr("openmp") = false;
#endif
  m.def("fgsm", &py_fgsm);
  m.def("output", &py_output);
  m.def("hmac_sha256", &py_hmac_sha256);
  m.def("random_raw", &py_random_raw);
  m.def("uniform", &py_uniform);
  m.def("normal", &py_normal);
  m.def("random_start", &py_random_start);
  m.attr("philox_isa") = philox_isa();  // the SIMD path of this tier's Philox build
  m.def("memcopy", &py_memcopy, "memcopy(src, dst): parallel copy of src's bytes into dst (C-contiguous host arrays)");
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
