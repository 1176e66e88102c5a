#include "memcopy.hpp"

#include <cstring>

namespace mlsec {
void memcopy_cpu(const void* src, void* dst, i64 bytes, i64 elements) {
  const char* s = static_cast<const char*>(src);
  char* d = static_cast<char*>(dst);
  run_parallel(elements, [&](int part, int nparts) {
    // 64-byte aligned chunk edges: no cache line is written by two threads.
    const i64 lines = (bytes + 63) / 64;
    const i64 b = std::min(bytes, lines * part / nparts * 64), e = std::min(bytes, lines * (part + 1) / nparts * 64);
    if (e > b) std::memcpy(d + b, s + b, static_cast<size_t>(e - b));
  });
}
}  // namespace mlsec
