/* Machine roofline probes: see roofline.h. The FMA loop keeps 12 independent accumulator
 * chains (more than latency x throughput needs: 4 cycles x 2 pipes) so that the figure is
 * the FMA units' throughput, not one chain's latency; the compiler cannot fold the chains
 * because their inputs come through volatile loads and their results are stored. */
#include "roofline.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime.h"

#if MN_X86
#include <immintrin.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define CHAINS 12
#define INNER 256 /* iterations between clock reads */

static volatile float vsink_f;
static volatile double vsink_d;
static volatile float vone_f = 1.0f, veps_f = 1e-7f;
static volatile double vone_d = 1.0, veps_d = 1e-15;

/* Each loop returns the FLOPs it did in about `seconds`, with the time in *elapsed. */
#if MN_X86
#define FMA_LOOP(NAME, ATTR, VEC, SET1, FMA, ADD, STORE_T, LANES, SCALAR, ONE, EPS, SINK) \
    ATTR static double NAME(double seconds, double *elapsed)                              \
    {                                                                                     \
        VEC acc[CHAINS];                                                                  \
        const VEC a = SET1((SCALAR)ONE), b = SET1((SCALAR)EPS);                           \
        for (int c = 0; c < CHAINS; c++)                                                  \
            acc[c] = SET1((SCALAR)c);                                                     \
        double flops = 0, t0 = now_s(), t = t0;                                           \
        while (t - t0 < seconds) {                                                        \
            for (int it = 0; it < INNER; it++) {                                          \
                for (int c = 0; c < CHAINS; c++)                                          \
                    acc[c] = FMA(acc[c], a, b);                                           \
            }                                                                             \
            flops += 2.0 * LANES * CHAINS * INNER;                                        \
            t = now_s();                                                                  \
        }                                                                                 \
        VEC s = acc[0];                                                                   \
        for (int c = 1; c < CHAINS; c++)                                                  \
            s = ADD(s, acc[c]);                                                           \
        STORE_T out[LANES];                                                               \
        memcpy(out, &s, sizeof out);                                                      \
        SINK = out[0];                                                                    \
        *elapsed = t - t0;                                                                \
        return flops;                                                                     \
    }

/* SSE2 has no FMA: a multiply and an add per step, both counted, as a baseline build gets */
static inline __m128 sse_fma_ps(__m128 x, __m128 a, __m128 b)
{
    return _mm_add_ps(_mm_mul_ps(x, a), b);
}
static inline __m128d sse_fma_pd(__m128d x, __m128d a, __m128d b)
{
    return _mm_add_pd(_mm_mul_pd(x, a), b);
}
FMA_LOOP(peak_f32_avx512, ATTR_AVX512, __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps,
         float, 16, float, vone_f, veps_f, vsink_f)
FMA_LOOP(peak_f64_avx512, ATTR_AVX512, __m512d, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_add_pd,
         double, 8, double, vone_d, veps_d, vsink_d)
FMA_LOOP(peak_f32_avx2, ATTR_AVX2, __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, float,
         8, float, vone_f, veps_f, vsink_f)
FMA_LOOP(peak_f64_avx2, ATTR_AVX2, __m256d, _mm256_set1_pd, _mm256_fmadd_pd, _mm256_add_pd, double,
         4, double, vone_d, veps_d, vsink_d)
FMA_LOOP(peak_f32_generic, , __m128, _mm_set1_ps, sse_fma_ps, _mm_add_ps, float, 4, float, vone_f,
         veps_f, vsink_f)
FMA_LOOP(peak_f64_generic, , __m128d, _mm_set1_pd, sse_fma_pd, _mm_add_pd, double, 2, double,
         vone_d, veps_d, vsink_d)
#else
/* Not x86: scalar multiply-adds in 12 chains (what the compiler makes of them) */
#define FMA_LOOP_SCALAR(NAME, DT, ONE, EPS, SINK)       \
    static double NAME(double seconds, double *elapsed) \
    {                                                   \
        DT acc[CHAINS];                                 \
        const DT a = ONE, b = EPS;                      \
        for (int c = 0; c < CHAINS; c++)                \
            acc[c] = (DT)c;                             \
        double flops = 0, t0 = now_s(), t = t0;         \
        while (t - t0 < seconds) {                      \
            for (int it = 0; it < INNER; it++)          \
                for (int c = 0; c < CHAINS; c++)        \
                    acc[c] = acc[c] * a + b;            \
            flops += 2.0 * CHAINS * INNER;              \
            t = now_s();                                \
        }                                               \
        DT s = 0;                                       \
        for (int c = 0; c < CHAINS; c++)                \
            s += acc[c];                                \
        SINK = s;                                       \
        *elapsed = t - t0;                              \
        return flops;                                   \
    }
FMA_LOOP_SCALAR(peak_f32_generic, float, vone_f, veps_f, vsink_f)
FMA_LOOP_SCALAR(peak_f64_generic, double, vone_d, veps_d, vsink_d)
#endif

typedef double (*peak_fn)(double, double *);

static peak_fn pick_peak(int isa, int dtype_bytes)
{
    isa = mn_effective_isa(isa);
    return dtype_bytes == 4 ? MN_ISA_PICK(isa, peak_f32) : MN_ISA_PICK(isa, peak_f64);
}

double mn_peak_flops(int isa, int dtype_bytes, int n_threads, double seconds)
{
    if ((dtype_bytes != 4 && dtype_bytes != 8) || n_threads < 1 || !(seconds > 0))
        return -1;
    const peak_fn fn = pick_peak(isa, dtype_bytes);
    double best = 0;
    for (int trial = 0; trial < 3; trial++) {
        double rate = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(n_threads) reduction(+ : rate)
#endif
        {
            double el = 0;
            const double f = fn(seconds, &el);
            rate += el > 0 ? f / el : 0;
        }
        if (rate > best)
            best = rate;
    }
    return best;
}

double mn_triad_bandwidth(ptrdiff_t n, int n_threads, int reps)
{
    if (n < 1 || n_threads < 1 || reps < 1)
        return -1;
    double *a = malloc((size_t)n * sizeof(double));
    double *b = malloc((size_t)n * sizeof(double));
    double *c = malloc((size_t)n * sizeof(double));
    if (!a || !b || !c) {
        free(a);
        free(b);
        free(c);
        return -1;
    }
    const double s = 3.0;
    double best = 0;
    /* first touch in the split the passes use (each thread's pages stay its own) */
#ifdef _OPENMP
#pragma omp parallel for num_threads(n_threads) schedule(static)
#endif
    for (ptrdiff_t i = 0; i < n; i++) {
        a[i] = 0.0;
        b[i] = 1.0;
        c[i] = 2.0;
    }
    for (int rep = -1; rep < reps; rep++) { /* rep -1: a warm-up pass, not counted */
        const double t0 = now_s();
#ifdef _OPENMP
#pragma omp parallel for num_threads(n_threads) schedule(static)
#endif
        for (ptrdiff_t i = 0; i < n; i++)
            a[i] = b[i] + s * c[i];
        const double t = now_s() - t0;
        if (rep >= 0 && t > 0) {
            const double bw = 3.0 * sizeof(double) * (double)n / t;
            if (bw > best)
                best = bw;
        }
    }
    vsink_d = a[n / 2];
    free(a);
    free(b);
    free(c);
    return best;
}
