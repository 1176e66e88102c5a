// The keyed hash of DAWN's watermark (Szyller et al. 2021): HMAC-SHA256 (RFC 2104,
// FIPS 180-4) of each query's bytes, computed for a batch of rows in parallel. Equal to
// Python's hmac.new(key, row.tobytes(), hashlib.sha256). Host only: queries are hashed
// where they arrive, and the Python layer refuses device arrays.
#pragma once
#include "common.hpp"

namespace mlsec {
// rows: n rows of row_bytes bytes each, contiguous; out: n digests of 32 bytes.
void hmac_sha256_rows(const unsigned char* key, i64 key_len, const unsigned char* rows, i64 n, i64 row_bytes,
                      unsigned char* out);
}  // namespace mlsec
