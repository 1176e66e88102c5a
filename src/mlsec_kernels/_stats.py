"""The few distribution functions randomized smoothing needs, without SciPy (a test-only
dependency): the regularized incomplete beta function and its inverse, the standard
normal quantile, and the two-sided binomial test at p = 1/2. Float64, tested against
scipy.stats.
"""

from __future__ import annotations

import math

_TINY = 1e-300
_EPS = 1e-16


def _beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction of I_x(a, b) (modified Lentz; Numerical Recipes, section 6.4)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 100000):
        m2 = 2 * m
        for num in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + num / c
            c = c if abs(c) > _TINY else _TINY
            delta = d * c
            h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), a, b > 0, x in [0, 1]."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    lfront = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(lfront) * _beta_cf(a, b, x) / a
    return 1.0 - math.exp(lfront) * _beta_cf(b, a, 1.0 - x) / b


def beta_ppf(q: float, a: float, b: float) -> float:
    """The q-quantile of Beta(a, b): bisection on I_x(a, b) = q down to adjacent doubles."""
    if q <= 0.0:
        return 0.0
    if q >= 1.0:
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(1100):  # bisection in value, then (near 0) in magnitude: ends within one ulp
        mid = 0.5 * (lo + hi) if hi - lo > 1e-3 * hi else lo + 0.5 * (hi - lo)
        if mid <= lo or mid >= hi:
            break
        if betainc(a, b, mid) < q:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


# Acklam's rational approximation of the normal quantile (relative error < 1.2e-9), then
# one Halley step on erfc, which brings it to double precision.
_A = (
    -3.969683028665376e01,
    2.209460984245205e02,
    -2.759285104469687e02,
    1.383577518672690e02,
    -3.066479806614716e01,
    2.506628277459239e00,
)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01, -1.328068155288572e01)
_C = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549732539343734e00,
    4.374664141464968e00,
    2.938163982698783e00,
)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)


def _poly(cs, t):
    r = 0.0
    for c in cs:
        r = r * t + c
    return r


def norm_ppf(p: float) -> float:
    """Phi^-1(p), the standard normal quantile; -inf at 0, inf at 1, NaN outside [0, 1]."""
    if not 0.0 <= p <= 1.0:
        return math.nan
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    if p > 0.5:
        return -norm_ppf(1.0 - p)  # exact (Sterbenz), and the refinement works in the lower tail
    if p < 0.02425:
        q = math.sqrt(-2.0 * math.log(p))
        x = _poly(_C, q) / (_poly(_D, q) * q + 1.0)
    else:
        q = p - 0.5
        r = q * q
        x = _poly(_A, r) * q / (_poly(_B, r) * r + 1.0)
    e = 0.5 * math.erfc(-x / math.sqrt(2.0)) - p
    u = e * math.sqrt(2.0 * math.pi) * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)


def binom_test_half(k: int, n: int) -> float:
    """Two-sided p-value of k successes in n trials against p = 1/2 (as scipy's binomtest)."""
    if n == 0:
        return 1.0
    k = max(k, n - k)
    if 2 * k == n:
        return 1.0
    return min(1.0, 2.0 * betainc(float(k), float(n - k + 1), 0.5))  # 2 P(X >= k)


def clopper_pearson_lower(k: int, n: int, alpha: float) -> float:
    """One-sided (1 - alpha) Clopper-Pearson lower bound on a binomial proportion:
    the alpha-quantile of Beta(k, n - k + 1), 0 when k = 0 (Cohen et al. 2019's
    proportion_confint(k, n, alpha=2*alpha, method="beta")[0])."""
    if k <= 0:
        return 0.0
    return beta_ppf(alpha, float(k), float(n - k + 1))
