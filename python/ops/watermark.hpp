// hmac_sha256(key, x, out): DAWN's keyed hash (cpp/watermark.hpp), HMAC-SHA256 of each row's
// bytes into out (uint8, (N, 32)); host arrays only.
#pragma once
#include "cpp/watermark.hpp"
#include "python/checks.hpp"
#include "python/host.hpp"

namespace mlsec::ops {
inline void hmac_sha256(const Go<Host>&, py::bytes key, py::handle x_, py::handle out_) {
  const Host x(x_, "x"), out(out_, "out", true);
  if (out.dt != Dt::u8 || out.shape().size() != 2 || out.n != x.n || out.d != 32)
    value_error("out must be uint8 of shape (N, 32)");
  const std::string k = key;
  if (k.empty()) value_error("key must not be empty");
  const i64 row_bytes = x.d * x.itemsize;
  py::gil_scoped_release nogil;
  hmac_sha256_rows(reinterpret_cast<const unsigned char*>(k.data()), i64(k.size()),
                   static_cast<const unsigned char*>(x.data()), x.n, row_bytes,
                   static_cast<unsigned char*>(out.data()));
}
}  // namespace mlsec::ops
