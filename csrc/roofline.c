/* Machine roofline probes: see roofline.h. The FMA loop keeps 12 independent accumulator
 * chains (more than latency x throughput needs: 4 cycles x 2 pipes) so that the figure is
 * the FMA units' throughput, not one chain's latency; the compiler cannot fold the chains
 * because their inputs come through volatile loads and their results are stored.
 *
 * Both probes run on threads of their own (pthread_create / join), not on minnet's pool: a
 * per-thread peak or a bandwidth is only measured with n_threads threads running at the same
 * time, one range each, and mn_parallel does not promise that (which thread runs a chunk is not
 * fixed; the caller alone may run them all). */
#include "roofline.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime.h"

#if MN_X86
#include <immintrin.h>
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

/* Run body(arg_i) for i < n on n threads at once: the caller is thread 0, the others are
 * started here and joined. Returns the number that ran (fewer if a thread could not start). */
static int run_threads(int n, void *(*body)(void *), void *args, size_t arg_size)
{
    pthread_t *tid = n > 1 ? malloc((size_t)(n - 1) * sizeof *tid) : NULL;
    int started = 0;
    if (tid)
        for (; started < n - 1; started++)
            if (pthread_create(&tid[started], NULL, body, (char *)args + (started + 1) * arg_size))
                break;
    body(args);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    free(tid);
    return started + 1;
}

typedef struct {
    peak_fn fn;
    double seconds, rate;
} peak_arg;

static void *peak_body(void *p)
{
    peak_arg *a = p;
    double el = 0;
    const double f = a->fn(a->seconds, &el);
    a->rate = el > 0 ? f / el : 0;
    return NULL;
}

double mn_peak_flops(int isa, int dtype_bytes, int n_threads, double seconds)
{
    if ((dtype_bytes != 4 && dtype_bytes != 8) || n_threads < 1 || !(seconds > 0))
        return -1;
    const peak_fn fn = pick_peak(isa, dtype_bytes);
    peak_arg *args = malloc((size_t)n_threads * sizeof *args);
    if (!args)
        return -1;
    double best = 0;
    for (int trial = 0; trial < 3; trial++) {
        for (int i = 0; i < n_threads; i++)
            args[i] = (peak_arg){fn, seconds, 0};
        const int ran = run_threads(n_threads, peak_body, args, sizeof *args);
        double rate = 0;
        for (int i = 0; i < ran; i++)
            rate += args[i].rate;
        if (rate > best)
            best = rate;
    }
    free(args);
    return best;
}

/* A spinning barrier for the triad's threads (a pass takes milliseconds, so a sleeping one
 * would add its wake-up to the time); it yields the core after a while, for more threads than
 * cores. */
typedef struct {
    int count, gen, n;
} triad_barrier;

static void triad_barrier_wait(triad_barrier *b)
{
    const int gen = __atomic_load_n(&b->gen, __ATOMIC_ACQUIRE);
    if (__atomic_add_fetch(&b->count, 1, __ATOMIC_ACQ_REL) ==
        __atomic_load_n(&b->n, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&b->count, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&b->gen, gen + 1, __ATOMIC_RELEASE);
        return;
    }
    unsigned spins = 0;
    while (__atomic_load_n(&b->gen, __ATOMIC_ACQUIRE) == gen)
        if (++spins > 1000)
            sched_yield();
}

typedef struct {
    double *a, *b, *c, *best;
    ptrdiff_t lo, hi, n;
    int reps, first;
    triad_barrier *bar;
} triad_arg;

/* One thread's range of every pass; thread `first` (the caller) times the passes. */
static void *triad_body(void *p)
{
    const triad_arg *t = p;
    double *a = t->a, *b = t->b, *c = t->c;
    const double s = 3.0;
    /* first touch in the split the passes use (each thread's pages stay its own) */
    for (ptrdiff_t i = t->lo; i < t->hi; i++) {
        a[i] = 0.0;
        b[i] = 1.0;
        c[i] = 2.0;
    }
    for (int rep = -1; rep < t->reps; rep++) { /* rep -1: a warm-up pass, not counted */
        triad_barrier_wait(t->bar);
        const double t0 = now_s();
        for (ptrdiff_t i = t->lo; i < t->hi; i++)
            a[i] = b[i] + s * c[i];
        triad_barrier_wait(t->bar);
        const double el = now_s() - t0;
        if (t->first && rep >= 0 && el > 0) {
            const double bw = 3.0 * sizeof(double) * (double)t->n / el;
            if (bw > *t->best)
                *t->best = bw;
        }
    }
    return NULL;
}

double mn_triad_bandwidth(ptrdiff_t n, int n_threads, int reps)
{
    if (n < 1 || n_threads < 1 || reps < 1)
        return -1;
    double *a = malloc((size_t)n * sizeof(double));
    double *b = malloc((size_t)n * sizeof(double));
    double *c = malloc((size_t)n * sizeof(double));
    triad_arg *args = malloc((size_t)n_threads * sizeof *args);
    if (!a || !b || !c || !args) {
        free(a);
        free(b);
        free(c);
        free(args);
        return -1;
    }
    /* range r of the passes is [n r / T, n (r + 1) / T); thread r < T - 1 is started here,
     * the caller runs the last one, and the ranges of any thread that could not start */
    double best = 0;
    triad_barrier bar = {0, 0, n_threads};
    for (int r = 0; r < n_threads; r++)
        args[r] = (triad_arg){.a = a,
                              .b = b,
                              .c = c,
                              .best = &best,
                              .lo = n * r / n_threads,
                              .hi = n * (r + 1) / n_threads,
                              .n = n,
                              .reps = reps,
                              .first = r == n_threads - 1,
                              .bar = &bar};
    pthread_t *tid = n_threads > 1 ? malloc((size_t)(n_threads - 1) * sizeof *tid) : NULL;
    int started = 0;
    if (tid)
        for (; started < n_threads - 1; started++)
            if (pthread_create(&tid[started], NULL, triad_body, &args[started]))
                break;
    triad_arg *mine = &args[n_threads - 1];
    if (started < n_threads - 1) {
        /* before the caller reaches the barrier, so no wait can complete with the old count */
        __atomic_store_n(&bar.n, started + 1, __ATOMIC_RELEASE);
        mine->lo = args[started].lo;
    }
    triad_body(mine);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    free(tid);
    vsink_d = a[n / 2];
    free(a);
    free(b);
    free(c);
    free(args);
    return best;
}
