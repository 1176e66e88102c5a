// Which CPU tiers this machine can run. CPUID says what the core implements; XGETBV says
// which vector registers the OS saves on a context switch. A core with AVX whose OS does
// not save the YMM (or ZMM) state would fault on the first vector instruction, so such a
// tier is not offered: the next lower one runs instead.
#pragma once
#include "common.hpp"

namespace mlsec {
// The tiers, lowest first; each module _cpu_<name> holds the kernels built for one.
enum Tier : int { kDefault = 1, kAvx2 = 2, kAvx512 = 4 };

// The tiers that CPUID leaf 1 ECX, leaf 7 (subleaf 0) EBX, leaf 0x80000001 ECX and XCR0
// allow: the x86-64-v3 and x86-64-v4 feature sets the tiers are compiled for.
int tiers_from_cpuid(u32 leaf1_ecx, u32 leaf7_ebx, u32 ext1_ecx, u64 xcr0);

// This machine's tiers (a bit mask of Tier); on non-x86 targets only kDefault.
int cpu_tiers();
}  // namespace mlsec
