/* Per-channel loops of norm.c, instantiated per dtype and ISA: DT, BFN(name), BATTR;
 * BFN(stats) is bn_stats_{f32,f64}_{generic,avx2,avx512}, picked per call by norm.c's PICK.
 * Row sums in DT with omp simd (vectorised under the ISA's target attribute), rows added in
 * double. */

BATTR static void BFN(stats)(const DT *x, ptrdiff_t n, ptrdiff_t c, ptrdiff_t s, ptrdiff_t j,
                             double *mean, double *var)
{
    double sum = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        const DT *r = x + (i * c + j) * s;
        DT t = 0;
#pragma omp simd reduction(+ : t)
        for (ptrdiff_t k = 0; k < s; k++)
            t += r[k];
        sum += t;
    }
    const double mu = sum / (double)(n * s);
    const DT muv = (DT)mu;
    double sq = 0, corr = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        const DT *r = x + (i * c + j) * s;
        DT t = 0, u = 0;
#pragma omp simd reduction(+ : t, u)
        for (ptrdiff_t k = 0; k < s; k++) {
            const DT d = r[k] - muv;
            t += d * d;
            u += d;
        }
        sq += t;
        corr += u;
    }
    /* the rounding of mu to DT: sum (x - muv)^2 = sum (x - mu)^2 + m (mu - muv)^2 */
    const double m = (double)(n * s);
    *mean = mu;
    *var = sq / m - (corr / m) * (corr / m);
    if (*var < 0)
        *var = 0;
}

/* y = (x - mu) * a + d over channel j (x - mu first: a large mean does not cancel) */
BATTR static void BFN(apply)(const DT *x, DT mu, DT a, DT d, DT *y, ptrdiff_t n, ptrdiff_t c,
                             ptrdiff_t s, ptrdiff_t j)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        const DT *r = x + (i * c + j) * s;
        DT *o = y + (i * c + j) * s;
#pragma omp simd
        for (ptrdiff_t k = 0; k < s; k++)
            o[k] = (r[k] - mu) * a + d;
    }
}

/* sums of dy and dy * (x - mu) over channel j */
BATTR static void BFN(bsums)(const DT *dy, const DT *x, DT mu, ptrdiff_t n, ptrdiff_t c,
                             ptrdiff_t s, ptrdiff_t j, double *sdy, double *sdyx)
{
    double a = 0, b = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        const DT *g = dy + (i * c + j) * s, *r = x + (i * c + j) * s;
        DT t = 0, u = 0;
#pragma omp simd reduction(+ : t, u)
        for (ptrdiff_t k = 0; k < s; k++) {
            t += g[k];
            u += g[k] * (r[k] - mu);
        }
        a += t;
        b += u;
    }
    *sdy = a;
    *sdyx = b;
}

/* dx = p * dy + q * (x - mu) + r over channel j */
BATTR static void BFN(bdx)(const DT *dy, const DT *x, DT mu, DT p, DT q, DT r, DT *dx, ptrdiff_t n,
                           ptrdiff_t c, ptrdiff_t s, ptrdiff_t j)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        const DT *g = dy + (i * c + j) * s, *xr = x + (i * c + j) * s;
        DT *o = dx + (i * c + j) * s;
        if (q == 0 && r == 0) { /* eval mode: dx does not depend on x (0 * a NaN x is NaN) */
#pragma omp simd
            for (ptrdiff_t k = 0; k < s; k++)
                o[k] = p * g[k];
            continue;
        }
#pragma omp simd
        for (ptrdiff_t k = 0; k < s; k++)
            o[k] = p * g[k] + q * (xr[k] - mu) + r;
    }
}
