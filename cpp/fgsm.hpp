// FGSM (Goodfellow, Shlens & Szegedy 2015): out = clip(x + s * sign(g), lo, hi), where
// s = eps for an untargeted step and -eps for a targeted one.
#pragma once
#include "common.hpp"

namespace mlsec {
template <class T> MLSEC_HD T fgsm_elem(T x, T g, T s, T lo, T hi) { return clampv(x + s * signv(g), lo, hi); }

template <class T>
void fgsm_cpu(const T* x, const T* g, T* out, i64 n, i64 d, PerSample eps, bool targeted, T lo, T hi);
template <class T>
void fgsm_cuda(const T* x, const T* g, T* out, i64 n, i64 d, PerSample eps, bool targeted, T lo, T hi, void* stream);
}  // namespace mlsec
