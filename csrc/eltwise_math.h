/* More branch-free float math for the elementwise kernels, in the style of mathfun.h (which
 * has exp, sigmoid, tanh): log, log1p, expm1 and erfc, written so GCC vectorises loops that call
 * them. Double precision uses libm. Accuracy was checked against libm's double versions:
 * mn_logf ~1 ulp, mn_erfcf < 1.1e-7 relative everywhere.
 *
 * Under GCC's default -ftrapping-math a select between two *computed* values (c ? a - b : a)
 * is kept as control flow, because the arithmetic might trap, and the loop stays scalar. So
 * selects here choose operands and the arithmetic runs unconditionally: c ? m + m - 1 : m - 1
 * is written (m + (c ? m : 0)) - 1. */
#ifndef MN_ELTWISE_MATH_H
#define MN_ELTWISE_MATH_H

#include <math.h>
#include <stdint.h>

#include "mathfun.h"

/* log(x) for positive normal x: Cephes' logf (also in Pommier's sse_mathfun.h). x = m * 2^e
 * with m in [sqrt(1/2), sqrt(2)); log(m) from a degree-9 polynomial in m - 1. */
static inline float mn_logf(float x)
{
    union {
        float f;
        int32_t i;
    } u = {x};
    int32_t e = ((u.i >> 23) & 0xff) - 126;
    u.i = (u.i & (int32_t)0x807fffff) | 0x3f000000; /* mantissa in [0.5, 1) */
    float m = u.f;
    const int small = m < 0.707106781186547524f;
    e = small ? e - 1 : e;
    m = (m + (small ? m : 0.0f)) - 1.0f;
    const float z = m * m;
    float y = 7.0376836292e-2f;
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    const float fe = (float)e;
    y += -2.12194440e-4f * fe;
    y += -0.5f * z;
    return (m + y) + 0.693359375f * fe;
}

/* log(1 + x) for x >= 0 (finite): Goldberg's trick, u = 1 + x rounded, then
 * log(u) * x / (u - 1) cancels the rounding of u; exact x when u == 1. */
static inline float mn_log1pf(float x)
{
    const float u = 1.0f + x;
    const float d = u - 1.0f;
    /* d + (d == 0), not (d == 0 ? 1 : d): GCC would fold the latter into a conditional
     * division (see the note at the top) */
    const float r = mn_logf(u) * (x / (d + (float)(d == 0.0f)));
    return d == 0.0f ? x : r;
}

/* exp(x) - 1 for x <= 0 (the ELU branch): exp(x) - 1 where that cannot cancel much
 * (x < -ln(2)/2, so |result| > 0.29 and the subtraction costs at most ~2 ulp), else the Taylor
 * series to x^7 (truncation < 2e-8 relative on [-0.347, 0]). No log or division, unlike Kahan's
 * (u - 1) x / log(u), which pays for both. */
static inline float mn_expm1f_neg(float x)
{
    const float e = mn_expf(x) - 1.0f;
    float p = 1.0f / 5040.0f;
    p = p * x + 1.0f / 720.0f;
    p = p * x + 1.0f / 120.0f;
    p = p * x + 1.0f / 24.0f;
    p = p * x + 1.0f / 6.0f;
    p = p * x + 0.5f;
    const float t = x + x * x * p;
    return x < -0.34657359f ? e : t;
}

/* erfc(x): the Chebyshev fit of Numerical Recipes (erfcc), relative error < 1.2e-7 for
 * x >= 0, and 2 - erfc(-x) below. Relative accuracy in the tail is what GELU needs: for
 * x << 0, x * Phi(x) = 0.5 x erfc(-x / sqrt 2) would lose everything as 1 + erf(x). */
static inline float mn_erfcf(float x)
{
    const float z = x < 0.0f ? -x : x;
    const float t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    const float r = t * mn_expf(p - z * z);
    const int neg = x < 0.0f;
    return (neg ? 2.0f : 0.0f) + (neg ? -r : r); /* 2 - r below 0 */
}

/* exp(x) that underflows to 0 below -87 (mn_expf clamps there to keep 2^n normal): a
 * softmax of logits 1e4 apart gives exact zeros, as float arithmetic would. */
static inline float mn_expf_flush(float x)
{
    const float e = mn_expf(x);
    return x < -87.0f ? 0.0f : e;
}

/* sigmoid(z) = (z >= 0 ? 1 : e) / (1 + e) with e = exp(-|z|) <= 1. Unlike mathfun.h's
 * 1 / (1 + exp(-z)) its clamped branch is e = exp(-87), a normal float: GCC folds that branch
 * to a constant and evaluates it in every lane, and mathfun's constant 1 / (1 + exp(88)) is
 * subnormal; multiplying by it (x * sigmoid(...) in GELU-tanh) took a microcode assist per
 * vector. */
static inline float mn_sigmoidf2(float z)
{
    const float az = z < 0.0f ? -z : z;
    const float e = mn_expf(-az);
    return (z >= 0.0f ? 1.0f : e) / (1.0f + e);
}

static inline float mn_maxf(float a, float b) { return a > b ? a : b; }
static inline double mn_maxd(double a, double b) { return a > b ? a : b; }

#endif
