#include "cpu_tiers.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif

namespace mlsec {
namespace {
constexpr bool all(u32 word, u32 bits) { return (word & bits) == bits; }
constexpr u32 bit(int i) { return u32(1) << i; }
}  // namespace

int tiers_from_cpuid(u32 leaf1_ecx, u32 leaf7_ebx, u32 ext1_ecx, u64 xcr0) {
  int tiers = kDefault;
  // x86-64-v2 (SSE3, SSSE3, CX16, SSE4.1, SSE4.2, POPCNT; LAHF) and v3 (FMA, MOVBE,
  // AVX, F16C; BMI1, AVX2, BMI2; LZCNT), with OSXSAVE so that XCR0 can be read at all.
  const u32 v3_leaf1 =
      bit(0) | bit(9) | bit(12) | bit(13) | bit(19) | bit(20) | bit(22) | bit(23) | bit(27) | bit(28) | bit(29);
  const u32 v3_leaf7 = bit(3) | bit(5) | bit(8);
  const u32 v3_ext1 = bit(0) | bit(5);
  const bool os_ymm = (xcr0 & 0x6) == 0x6;    // SSE and AVX state
  const bool os_zmm = (xcr0 & 0xe6) == 0xe6;  // and opmask, ZMM_Hi256, Hi16_ZMM
  if (!(all(leaf1_ecx, v3_leaf1) && all(leaf7_ebx, v3_leaf7) && all(ext1_ecx, v3_ext1) && os_ymm)) return tiers;
  tiers |= kAvx2;
  // x86-64-v4: AVX512F, DQ, CD, BW, VL.
  const u32 v4_leaf7 = bit(16) | bit(17) | bit(28) | bit(30) | bit(31);
  if (all(leaf7_ebx, v4_leaf7) && os_zmm) tiers |= kAvx512;
  return tiers;
}

int cpu_tiers() {
#if defined(__x86_64__) || defined(_M_X64)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return kDefault;
  const u32 leaf1_ecx = c;
  u64 xcr0 = 0;
  if (leaf1_ecx & bit(27)) {  // OSXSAVE: XGETBV is available
    u32 lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (u64(hi) << 32) | lo;
  }
  u32 leaf7_ebx = 0, ext1_ecx = 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) leaf7_ebx = b;
  if (__get_cpuid(0x80000001u, &a, &b, &c, &d)) ext1_ecx = c;
  return tiers_from_cpuid(leaf1_ecx, leaf7_ebx, ext1_ecx, xcr0);
#else
  return kDefault;
#endif
}
}  // namespace mlsec
