// A plain parallel copy: the bench command's bandwidth floor on the host. It is split
// like every elementwise op (same threads, same small-call threshold), so a kernel's
// "x of floor" compares like with like.
#pragma once
#include "common.hpp"

namespace mlsec {
// Copies `bytes` bytes; `elements` (the array's element count) decides threading.
void memcopy_cpu(const void* src, void* dst, i64 bytes, i64 elements);
}  // namespace mlsec
