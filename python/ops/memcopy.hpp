// memcopy(src, dst): the bench's bandwidth floor, src's bytes copied into dst (host only).
#pragma once
#include "cpp/memcopy.hpp"
#include "python/checks.hpp"
#include "python/host.hpp"

namespace mlsec::ops {
inline void memcopy(const Go<Host>&, py::handle src_, py::handle dst_) {
  const Host src(src_, "src"), dst(dst_, "dst", true);
  if (src.bytes() != dst.bytes())
    value_error("dst must have as many bytes as src: " + std::to_string(dst.bytes()) + " vs " +
                std::to_string(src.bytes()));
  require_no_partial_overlap(dst, src, "src");
  py::gil_scoped_release nogil;
  memcopy_cpu(src.data(), dst.data(), src.bytes(), src.n * src.d);
}
}  // namespace mlsec::ops

namespace mlsec {
template <> inline constexpr const char* doc<&ops::memcopy> =
    "memcopy(src, dst): parallel copy of src's bytes into dst (C-contiguous host arrays)";
}  // namespace mlsec
