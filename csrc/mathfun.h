/* Branch-free, vectorisable math for kernels' inner loops. GCC will not vectorise calls to
 * libm's expf without -ffast-math, so float exp is written out (Cephes' polynomial, ~1 ulp on
 * the reduced range) and inlined into loops compiled for AVX-512 / AVX2 / baseline.
 * Double precision uses libm: its kernels are for checking, not for speed. */
#ifndef MN_MATHFUN_H
#define MN_MATHFUN_H

#include <math.h>
#include <stdint.h>

#include "runtime.h"

static inline float mn_expf(float x)
{
    /* exp(x) = 2^n * exp(r), n = round(x / ln 2), |r| <= ln(2) / 2. Clamping keeps 2^n a
     * normal float; exp(-87) ~ 1.6e-38 and exp(88) ~ 1.6e38 bound the result. NaN stays NaN
     * because both comparisons are false for it. */
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    union {
        float f;
        int32_t i;
    } t, s;
    t.f = x * 1.44269504088896341f + magic;
    const float n = t.f - magic;
    const int32_t ni = t.i - 0x4B400000;
    const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float y = p * r * r + r + 1.0f;
    s.i = (ni + 127) << 23;
    return y * s.f;
}

static inline float mn_sigmoidf(float x) { return 1.0f / (1.0f + mn_expf(-x)); }

static inline float mn_tanhf(float x)
{
    /* Small |x|: Cephes' odd polynomial (no cancellation). Otherwise (1 - e) / (1 + e) with
     * e = exp(-2|x|) <= 0.29, which is well conditioned. Both are computed and one selected,
     * so the loop stays branch-free. */
    const float ax = x < 0.0f ? -x : x;
    const float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    const float small = x + x * z * p;
    const float e = mn_expf(-2.0f * ax);
    float big = (1.0f - e) / (1.0f + e);
    big = x < 0.0f ? -big : big;
    return ax < 0.625f ? small : big;
}

static inline float mn_actf(float v, int act)
{
    switch (act) {
    case MN_ACT_RELU: return v < 0.0f ? 0.0f : v; /* NaN < 0 is false: NaN propagates */
    case MN_ACT_SIGMOID: return mn_sigmoidf(v);
    case MN_ACT_TANH: return mn_tanhf(v);
    default: return v;
    }
}

static inline double mn_sigmoid(double x)
{
    /* the two-sided form never overflows exp */
    if (x >= 0.0)
        return 1.0 / (1.0 + exp(-x));
    const double e = exp(x);
    return e / (1.0 + e);
}

static inline double mn_act(double v, int act)
{
    switch (act) {
    case MN_ACT_RELU: return v < 0.0 ? 0.0 : v;
    case MN_ACT_SIGMOID: return mn_sigmoid(v);
    case MN_ACT_TANH: return tanh(v);
    default: return v;
    }
}

#endif
