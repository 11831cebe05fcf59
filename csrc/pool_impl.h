/* The per-dtype pooling loops and their dispatch, instantiated by pool.c once per dtype (DT the
 * element type, SFX the name suffix: f32, f64): max and average pooling forward and backward,
 * adaptive average pooling, and the relu + 2x2 max pooling that conv2d fuses. Each public
 * kernel picks a fast path (2x2 stride-2 windows; the inner columns of other windows; the
 * AVX-512 float kernels of pool.c) where it gives the general loop's results bit for bit, and
 * falls back to that loop; the chunks of a pool job (one per thread) take contiguous blocks
 * of planes. */
#include "names.h"

/* FN(name) -> name_SFX: FN(maxpool2x2_nan_row) is maxpool2x2_nan_row_{f32,f64} */
#define FN(name) MN_JOIN(name, SFX)

/* grain: about 4k elements of input per thread before a second thread is worth it */
#define POOL_THREADS(g, nt) mn_par_threads((g)->planes, 1 + 4096 / ((g)->h * (g)->w + 1), (nt))

/* The windows of 2x2 stride-2 output row (top input row r0, in-plane offset base) that hold
 * a NaN take their first NaN and its index (the scalar rule); called only for rows where a
 * NaN was seen. */
static void FN(maxpool2x2_nan_row)(const DT *r0, ptrdiff_t w, ptrdiff_t ow, int64_t base, DT *y,
                                   int64_t *idx)
{
    const DT *r1 = r0 + w;
    for (ptrdiff_t j = 0; j < ow; j++) {
        const DT v[4] = {r0[2 * j], r0[2 * j + 1], r1[2 * j], r1[2 * j + 1]};
        const int64_t at[4] = {base + 2 * j, base + 2 * j + 1, base + w + 2 * j,
                               base + w + 2 * j + 1};
        for (int k = 0; k < 4; k++)
            if (v[k] != v[k]) {
                y[j] = v[k];
                idx[j] = at[k];
                break;
            }
    }
}

/* The max of a 2x2 window's taps (top-left, top-right, bottom-left, bottom-right) and *o, the
 * first of them holding it in that order: selects, not branches (on real data each comparison
 * is a coin flip), so the callers' loops vectorise. */
static inline DT FN(max4)(DT v0, DT v1, DT v2, DT v3, int32_t *o)
{
    const int32_t c1 = v1 > v0;
    DT m = c1 ? v1 : v0;
    int32_t k = c1;
    const int32_t c2 = v2 > m;
    m = c2 ? v2 : m;
    k = c2 ? 2 : k;
    const int32_t c3 = v3 > m;
    m = c3 ? v3 : m;
    *o = c3 ? 3 : k;
    return m;
}

/* 2x2 stride-2 windows of `planes` whole planes: branch-free selects in the tie order of the
 * general loop (first maximum in row-major order; a NaN wins unless one is held), compiled
 * per ISA (target_clones) so the stride-2 loads vectorise; one call for all planes, as a call
 * per row of 14 windows cost more than the row. */
__attribute__((target_clones("avx512f", "avx2", "default"))) void FN(maxpool2x2_planes)(
    const DT *restrict x, ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w, ptrdiff_t oh, ptrdiff_t ow,
    DT *restrict yp, int64_t *restrict ip)
{
    for (ptrdiff_t t = 0; t < planes * oh; t++) {
        const ptrdiff_t pl = t / oh, i = t % oh;
        const int64_t base = 2 * i * w;
        const DT *restrict r0 = x + pl * h * w + base, *restrict r1 = r0 + w;
        DT *restrict y = yp + t * ow;
        int64_t *restrict idx = ip + t * ow;
        int32_t off[256]; /* argmax offsets in int32: mixing int64 into the float loop kept
                           * GCC from vectorising it; widened in a second loop */
        for (ptrdiff_t j0 = 0; j0 < ow; j0 += 256) {
            const ptrdiff_t jn = ow - j0 < 256 ? ow - j0 : 256;
            const DT *restrict a0 = r0 + 2 * j0, *restrict a1 = r1 + 2 * j0;
            DT *restrict yy = y + j0;
#pragma omp simd simdlen(8)
            for (ptrdiff_t j = 0; j < jn; j++) {
                int32_t o;
                const DT m = FN(max4)(a0[2 * j], a0[2 * j + 1], a1[2 * j], a1[2 * j + 1], &o);
                yy[j] = m;
                off[j] = o < 2 ? o : (int32_t)w + o - 2;
            }
            for (ptrdiff_t j = 0; j < jn; j++)
                idx[j0 + j] = base + 2 * (j0 + j) + off[j];
        }
        /* NaN is rare: look for one in the row pair afterwards (a vectorised OR), and only then
         * redo the row with the rule that a NaN wins, the first one */
        int nan = 0;
        for (ptrdiff_t k = 0; k < 2 * ow; k++)
            nan |= (r0[k] != r0[k]) | (r1[k] != r1[k]);
        if (nan)
            FN(maxpool2x2_nan_row)(r0, w, ow, base, y, idx);
    }
}

/* The 2x2 stride-2 windows without padding fit the plane (ceil_mode may add a last window
 * that does not: then the general loop), and in-plane indices fit the int32 lanes. */
static inline int FN(is_2x2)(const mn_pool2d_geom *g)
{
    return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->ph == 0 && g->pw == 0 &&
           g->dh == 1 && g->dw == 1 && g->oh >= 1 && g->ow >= 1 && 2 * g->oh <= g->h &&
           2 * g->ow <= g->w && g->h * g->w < INT32_MAX - 1;
}

/* AVX-512 for float when the caller's ISA level allows it (minnet.set_isa, clamped to the CPU) */
static inline int FN(use_avx512)(int isa)
{
#if MN_X86
    return sizeof(DT) == 4 && isa >= MN_ISA_AVX512;
#else
    return 0;
#endif
}

/* One call's arguments, shared by the chunks of its job (runtime.h: mn_parallel). A job of nt
 * threads has nt chunks, each a contiguous block of planes (or of flat output rows), as a static
 * schedule splits them; a plane's result does not depend on the chunk it falls in. */
typedef struct {
    const mn_pool2d_geom *g;
    const DT *x, *dy;
    DT *y, *dx;
    int64_t *idx;
    const int64_t *idx_in;
    ptrdiff_t jlo, jhi; /* the vectorised inner columns */
    DT d;
    int include_pad, div_override, avx512, fit;
    int bad; /* maxpool backward: an index out of range (OR of the chunks', atomically) */
} FN(pool_job);

/* planes [*p0, *p1) of chunk ch of nch */
static inline void FN(plane_split)(ptrdiff_t planes, int ch, int nch, ptrdiff_t *p0, ptrdiff_t *p1)
{
    *p0 = planes * ch / nch;
    *p1 = planes * (ch + 1) / nch;
}

/* The 2x2 stride-2 forward, chunk ch of nch: AVX-512 splits the flat (plane, output row)
 * sequence, the other loops whole planes. */
static void FN(maxpool2x2_fwd_chunk)(void *ctx, int ch, int nch)
{
    const FN(pool_job) *job = ctx;
    const mn_pool2d_geom *g = job->g;
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
    ptrdiff_t lo, hi;
    if (job->avx512) {
#if MN_X86
        mn_chunk_range(g->planes * OH, 2, ch, nch, &lo, &hi);
        if (hi > lo)
            maxpool2x2_fwd_f32_avx512((const float *)job->x, lo, hi, H, W, OH, OW, (float *)job->y,
                                      job->idx);
#endif
    } else {
        mn_chunk_range(g->planes, 1, ch, nch, &lo, &hi);
        if (hi > lo)
            FN(maxpool2x2_planes)(job->x + lo * H * W, hi - lo, H, W, OH, OW,
                                  job->y + lo * OH * OW, job->idx + lo * OH * OW);
    }
}

static void FN(maxpool_fwd_chunk)(void *ctx, int ch, int nch)
{
    const FN(pool_job) *job = ctx;
    const mn_pool2d_geom *g = job->g;
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow, jlo = job->jlo, jhi = job->jhi;
    const DT *x = job->x;
    DT *y = job->y;
    int64_t *idx = job->idx;
    ptrdiff_t p0, p1;
    FN(plane_split)(g->planes, ch, nch, &p0, &p1);
    for (ptrdiff_t pl = p0; pl < p1; pl++) {
        const DT *xp = x + pl * H * W;
        DT *yp = y + pl * OH * OW;
        int64_t *ip = idx + pl * OH * OW;
        for (ptrdiff_t i = 0; i < OH; i++) {
            const ptrdiff_t r0 = i * g->sh - g->ph;
            for (ptrdiff_t j = 0; j < OW; j++) {
#if MN_X86
                if (j == jlo && jhi > jlo) {
                    ptrdiff_t rows[64], nr = 0;
                    for (ptrdiff_t p = 0; p < g->kh; p++)
                        if (r0 + p * g->dh >= 0 && r0 + p * g->dh < H)
                            rows[nr++] = r0 + p * g->dh;
                    if (nr > 0) {
                        maxpool_row_fwd_f32_avx512((const float *)xp, W, rows, nr, g->kw, g->sw,
                                                   g->dw, jlo * g->sw - g->pw, jhi - jlo,
                                                   (float *)yp + i * OW + jlo, ip + i * OW + jlo);
                        j = jhi - 1;
                        continue;
                    }
                }
#endif
                const ptrdiff_t c0 = j * g->sw - g->pw;
                DT m = 0;
                ptrdiff_t a = -1;
                for (ptrdiff_t p = 0; p < g->kh; p++) {
                    const ptrdiff_t r = r0 + p * g->dh;
                    if (r < 0 || r >= H)
                        continue;
                    for (ptrdiff_t q = 0; q < g->kw; q++) {
                        const ptrdiff_t c = c0 + q * g->dw;
                        if (c < 0 || c >= W)
                            continue;
                        const DT v = xp[r * W + c];
                        /* first tap; a larger value; a NaN unless a NaN is already held */
                        if (a < 0 || v > m || (v != v && m == m)) {
                            m = v;
                            a = r * W + c;
                        }
                    }
                }
                /* a window wholly in the padding (possible with dilation): PyTorch's -inf,
                 * and index -1, which the backward skips */
                yp[i * OW + j] = a < 0 ? -(DT)INFINITY : m;
                ip[i * OW + j] = a;
            }
        }
    }
}

void FN(mn_maxpool2d_fwd)(const DT *x, DT *y, int64_t *idx, const mn_pool2d_geom *g, int n_threads)
{
    const ptrdiff_t H = g->h, W = g->w, OW = g->ow;
    const int nt = POOL_THREADS(g, n_threads);
    if (FN(is_2x2)(g)) {
        /* chunks split the flat (plane, output row) sequence: one contiguous block each */
        const int avx512 = FN(use_avx512)(g->isa);
        FN(pool_job) job = {.g = g, .x = x, .y = y, .idx = idx, .avx512 = avx512};
        mn_parallel(nt, nt, FN(maxpool2x2_fwd_chunk), &job);
        return;
    }
    /* AVX-512 floats: the inner columns (windows wholly inside the plane's columns) of each
     * row at once; the edges and other dtypes/ISAs take the per-window loop */
    ptrdiff_t jlo = 0, jhi = 0;
    const ptrdiff_t span = (g->kw - 1) * g->dw;
    if (FN(use_avx512)(g->isa) && g->kh <= 64 && H * W < INT32_MAX - 1) {
        jlo = (g->pw + g->sw - 1) / g->sw;
        jhi = W - 1 + g->pw - span >= 0 ? (W - 1 + g->pw - span) / g->sw + 1 : 0;
        if (jhi > OW)
            jhi = OW;
        if (jlo > jhi)
            jlo = jhi;
    }
    FN(pool_job) job = {.g = g, .x = x, .y = y, .idx = idx, .jlo = jlo, .jhi = jhi};
    mn_parallel(nt, nt, FN(maxpool_fwd_chunk), &job);
}

/* One plane of the backward by the contract: dx := 0, dx[idx] += dy; 1 if an index is
 * neither in [0, hw) nor -1 (none is skipped silently). */
static int FN(maxpool_scatter_plane)(const DT *dy, const int64_t *idx, DT *dx, ptrdiff_t hw,
                                     ptrdiff_t ohw)
{
    int bad = 0;
    memset(dx, 0, (size_t)hw * sizeof(DT));
    for (ptrdiff_t k = 0; k < ohw; k++) {
        if (idx[k] >= 0 && idx[k] < hw)
            dx[idx[k]] += dy[k];
        else
            bad |= idx[k] != -1;
    }
    return bad;
}

/* One plane when the dims are those of 2x2 stride-2 pooling, AVX-512 floats: if every index
 * lies in its own window (always, for indices from the forward) each window's four dx are
 * written directly, one pass over dx and no memset; 1 (the caller scatters) at the first index
 * that does not, or without AVX-512: there a scalar direct write with its checks costs more
 * than memset + scatter. */
static int FN(maxpool2x2_bwd_plane)(const DT *dy, const int64_t *idx, DT *dx, ptrdiff_t h,
                                    ptrdiff_t w, ptrdiff_t oh, ptrdiff_t ow, int isa)
{
#if MN_X86
    if (FN(use_avx512)(isa))
        return maxpool2x2_bwd_plane_f32_avx512((const float *)dy, idx, (float *)dx, h, w, oh, ow);
#endif
    (void)dy, (void)idx, (void)dx, (void)h, (void)w, (void)oh, (void)ow;
    return 1;
}

static void FN(maxpool_bwd_chunk)(void *ctx, int ch, int nch)
{
    FN(pool_job) *job = ctx;
    const mn_pool2d_geom *g = job->g;
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow, OHW = OH * OW;
    const DT *dy = job->dy;
    DT *dx = job->dx;
    const int64_t *idx = job->idx_in;
    const int fit = job->fit;
    int bad = 0;
    ptrdiff_t p0, p1;
    FN(plane_split)(g->planes, ch, nch, &p0, &p1);
    for (ptrdiff_t pl = p0; pl < p1; pl++) {
        DT *dxp = dx + pl * H * W;
        const DT *dyp = dy + pl * OHW;
        const int64_t *ip = idx + pl * OHW;
        if (!fit || FN(maxpool2x2_bwd_plane)(dyp, ip, dxp, H, W, OH, OW, g->isa))
            bad |= FN(maxpool_scatter_plane)(dyp, ip, dxp, H * W, OHW);
    }
    if (bad) /* an OR: the same whichever chunk finds it first */
        __atomic_fetch_or(&job->bad, bad, __ATOMIC_RELAXED);
}

int FN(mn_maxpool2d_bwd)(const DT *dy, const int64_t *idx, DT *dx, const mn_pool2d_geom *g,
                         int n_threads)
{
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
    const int nt = POOL_THREADS(g, n_threads);
    const int fit = FN(use_avx512)(g->isa) && OH >= 1 && OW >= 1 && 2 * OH <= H && 2 * OW <= W &&
                    H * W < INT32_MAX - 1;
    FN(pool_job) job = {.g = g, .dy = dy, .dx = dx, .idx_in = idx, .fit = fit};
    mn_parallel(nt, nt, FN(maxpool_bwd_chunk), &job);
    return job.bad ? -1 : 0;
}

/* Window (i, j) of average pooling clipped to the plane, and its divisor, as PyTorch's
 * avg_pool2d: the window is first clipped to the padded plane (that size is the divisor with
 * count_include_pad), then to the plane. */
static inline DT FN(avg_window)(const mn_pool2d_geom *g, ptrdiff_t i, ptrdiff_t j, int include_pad,
                                int div_override, ptrdiff_t *r0, ptrdiff_t *r1, ptrdiff_t *c0,
                                ptrdiff_t *c1)
{
    ptrdiff_t hs = i * g->sh - g->ph, ws = j * g->sw - g->pw;
    ptrdiff_t he = hs + g->kh, we = ws + g->kw;
    if (he > g->h + g->ph)
        he = g->h + g->ph;
    if (we > g->w + g->pw)
        we = g->w + g->pw;
    const ptrdiff_t pool = (he - hs) * (we - ws);
    if (hs < 0)
        hs = 0;
    if (ws < 0)
        ws = 0;
    if (he > g->h)
        he = g->h;
    if (we > g->w)
        we = g->w;
    *r0 = hs;
    *r1 = he;
    *c0 = ws;
    *c1 = we;
    if (div_override > 0)
        return (DT)div_override;
    return (DT)(include_pad ? pool : (he - hs) * (we - ws));
}

/* Output columns [*jlo, *jhi) whose windows lie wholly inside the plane's columns: all of kw
 * columns, so within one output row they share a divisor and vectorise; the rest (at most a
 * few at each end, in the padding) take the per-window loop. */
static inline void FN(avg_inner_cols)(const mn_pool2d_geom *g, ptrdiff_t *jlo, ptrdiff_t *jhi)
{
    ptrdiff_t lo = (g->pw + g->sw - 1) / g->sw, hi = 0;
    if (g->w + g->pw - g->kw >= 0)
        hi = (g->w + g->pw - g->kw) / g->sw + 1;
    if (hi > g->ow)
        hi = g->ow;
    if (lo > hi)
        lo = hi;
    *jlo = lo;
    *jhi = hi;
}

/* y[j] := (sum of rows r0..r1-1, columns c + j*sw .. + kw-1 of x) / d for j < n, the taps
 * added row by row from 0 as the per-window loop adds them (so the same result bit for bit),
 * into 256 running sums at a time: the loop over j is innermost and vectorises (contiguous
 * loads for stride 1, even/odd shuffles for 2, gathers otherwise; GCC will not vectorise an
 * outer j loop around the two tap loops). */
__attribute__((target_clones("avx512f", "avx2", "default"))) void FN(avgpool_row_fwd)(
    const DT *restrict x, ptrdiff_t W, ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t kw, ptrdiff_t sw,
    ptrdiff_t c, ptrdiff_t n, DT d, DT *restrict y, int isa)
{
#if MN_X86
    if (FN(use_avx512)(isa)) {
        avgpool_row_fwd_f32_avx512((const float *)x, W, r0, r1, kw, sw, c, n, (float)d,
                                   (float *)y);
        return;
    }
#endif
    DT s[256];
    for (ptrdiff_t j0 = 0; j0 < n; j0 += 256) {
        const ptrdiff_t m = n - j0 < 256 ? n - j0 : 256;
        for (ptrdiff_t j = 0; j < m; j++)
            s[j] = 0;
        for (ptrdiff_t r = r0; r < r1; r++)
            for (ptrdiff_t q = 0; q < kw; q++) {
                const DT *restrict row = x + r * W + c + j0 * sw + q;
                if (sw == 1)
                    for (ptrdiff_t j = 0; j < m; j++)
                        s[j] += row[j];
                else if (sw == 2)
                    for (ptrdiff_t j = 0; j < m; j++)
                        s[j] += row[2 * j];
                else
                    for (ptrdiff_t j = 0; j < m; j++)
                        s[j] += row[j * sw];
            }
        for (ptrdiff_t j = 0; j < m; j++)
            y[j0 + j] = s[j] / d;
    }
}

/* dx[r, c + j*sw + q] += v[j] for rows r0..r1-1, j < n, q < kw (dx a plane of lim elements).
 * Each dx element must receive its windows' shares in window order (ascending j), as the
 * per-window loop adds them: the windows j and j' > j that share an element reach it at
 * q > q', so q runs downwards outside the vector loop over j (lanes: distinct elements). */
__attribute__((target_clones("avx512f", "avx2", "default"))) void FN(avgpool_row_bwd)(
    const DT *restrict v, ptrdiff_t W, ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t kw, ptrdiff_t sw,
    ptrdiff_t c, ptrdiff_t n, DT *restrict dx, ptrdiff_t lim, int isa)
{
#if MN_X86
    if (FN(use_avx512)(isa) && sw <= 2 && 15 * sw + kw <= 64) {
        avgpool_row_bwd_f32_avx512((const float *)v, W, r0, r1, kw, sw, c, n, (float *)dx, lim);
        return;
    }
#endif
    for (ptrdiff_t r = r0; r < r1; r++) {
        DT *restrict row = dx + r * W + c;
        for (ptrdiff_t q = kw - 1; q >= 0; q--) {
            if (sw == 1) {
#pragma omp simd
                for (ptrdiff_t j = 0; j < n; j++)
                    row[j + q] += v[j];
            } else if (sw == 2) {
#pragma omp simd
                for (ptrdiff_t j = 0; j < n; j++)
                    row[2 * j + q] += v[j];
            } else {
#pragma omp simd
                for (ptrdiff_t j = 0; j < n; j++)
                    row[j * sw + q] += v[j];
            }
        }
    }
}

/* 2x2 stride-2 average pooling without padding of flat output rows t0..t1-1 (every window
 * whole, so the divisor is d for both count_include_pad), summed and divided in the order of
 * the general loop below: the same result bit for bit. */
static void FN(avgpool2x2_fwd_rows)(const DT *x, ptrdiff_t t0, ptrdiff_t t1, ptrdiff_t h,
                                    ptrdiff_t w, ptrdiff_t oh, ptrdiff_t ow, DT d, DT *y, int isa)
{
#if MN_X86
    if (FN(use_avx512)(isa)) {
        avgpool2x2_fwd_f32_avx512((const float *)x, t0, t1, h, w, oh, ow, (float)d, (float *)y);
        return;
    }
#endif
    for (ptrdiff_t t = t0; t < t1; t++) {
        const DT *r0 = x + (t / oh) * h * w + 2 * (t % oh) * w, *r1 = r0 + w;
        for (ptrdiff_t j = 0; j < ow; j++) {
            DT s = 0;
            s += r0[2 * j];
            s += r0[2 * j + 1];
            s += r1[2 * j];
            s += r1[2 * j + 1];
            y[t * ow + j] = s / d;
        }
    }
}

/* The 2x2 stride-2 forward, chunk ch of nch: a block of the flat (plane, output row) sequence */
static void FN(avgpool2x2_fwd_chunk)(void *ctx, int ch, int nch)
{
    const FN(pool_job) *job = ctx;
    const mn_pool2d_geom *g = job->g;
    ptrdiff_t lo, hi;
    mn_chunk_range(g->planes * g->oh, 2, ch, nch, &lo, &hi);
    if (hi > lo)
        FN(avgpool2x2_fwd_rows)(job->x, lo, hi, g->h, g->w, g->oh, g->ow, job->d, job->y, g->isa);
}

static void FN(avgpool_fwd_chunk)(void *ctx, int ch, int nch)
{
    const FN(pool_job) *job = ctx;
    const mn_pool2d_geom *g = job->g;
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow, jlo = job->jlo, jhi = job->jhi;
    const int include_pad = job->include_pad, div_override = job->div_override;
    const DT *x = job->x;
    DT *y = job->y;
    ptrdiff_t p0, p1;
    FN(plane_split)(g->planes, ch, nch, &p0, &p1);
    for (ptrdiff_t pl = p0; pl < p1; pl++) {
        const DT *xp = x + pl * H * W;
        DT *yp = y + pl * OH * OW;
        for (ptrdiff_t i = 0; i < OH; i++) {
            for (ptrdiff_t j = 0; j < OW; j++) {
                if (j == jlo && jhi > jlo) {
                    /* the inner columns: one divisor, one vector loop */
                    ptrdiff_t r0, r1, c0, c1;
                    const DT d =
                        FN(avg_window)(g, i, j, include_pad, div_override, &r0, &r1, &c0, &c1);
                    if (r1 > r0)
                        FN(avgpool_row_fwd)(xp, W, r0, r1, g->kw, g->sw, c0, jhi - jlo, d,
                                            yp + i * OW + jlo, g->isa);
                    else
                        for (ptrdiff_t k = jlo; k < jhi; k++)
                            yp[i * OW + k] = 0;
                    j = jhi - 1;
                    continue;
                }
                ptrdiff_t r0, r1, c0, c1;
                const DT d =
                    FN(avg_window)(g, i, j, include_pad, div_override, &r0, &r1, &c0, &c1);
                DT s = 0;
                for (ptrdiff_t r = r0; r < r1; r++)
                    for (ptrdiff_t c = c0; c < c1; c++)
                        s += xp[r * W + c];
                yp[i * OW + j] = (r1 > r0 && c1 > c0) ? s / d : (DT)0;
            }
        }
    }
}

void FN(mn_avgpool2d_fwd)(const DT *x, DT *y, const mn_pool2d_geom *g, int include_pad,
                          int div_override, int n_threads)
{
    const int nt = POOL_THREADS(g, n_threads);
    if (FN(is_2x2)(g)) {
        const DT d = div_override > 0 ? (DT)div_override : (DT)4;
        FN(pool_job) job = {.g = g, .x = x, .y = y, .d = d};
        mn_parallel(nt, nt, FN(avgpool2x2_fwd_chunk), &job);
        return;
    }
    ptrdiff_t jlo, jhi;
    FN(avg_inner_cols)(g, &jlo, &jhi);
    FN(pool_job) job = {.g = g,
                        .x = x,
                        .y = y,
                        .jlo = jlo,
                        .jhi = jhi,
                        .include_pad = include_pad,
                        .div_override = div_override};
    mn_parallel(nt, nt, FN(avgpool_fwd_chunk), &job);
}

/* Its backward for planes p0..p1-1: each dx of window (i, j) is dy[i, j] / d + 0 (the
 * general loop's 0 + v), written once; the uncovered last odd row and column are zeroed. */
static void FN(avgpool2x2_bwd_planes)(const DT *dy, DT *dx, ptrdiff_t p0, ptrdiff_t p1,
                                      ptrdiff_t h, ptrdiff_t w, ptrdiff_t oh, ptrdiff_t ow, DT d,
                                      int isa)
{
#if MN_X86
    if (FN(use_avx512)(isa)) {
        avgpool2x2_bwd_f32_avx512((const float *)dy, (float *)dx, p0, p1, h, w, oh, ow, (float)d);
        return;
    }
#endif
    for (ptrdiff_t p = p0; p < p1; p++) {
        const DT *g = dy + p * oh * ow;
        DT *o = dx + p * h * w;
        for (ptrdiff_t i = 0; i < oh; i++) {
            DT *r0 = o + 2 * i * w, *r1 = r0 + w;
            for (ptrdiff_t j = 0; j < ow; j++) {
                const DT v = g[i * ow + j] / d + (DT)0;
                r0[2 * j] = r0[2 * j + 1] = r1[2 * j] = r1[2 * j + 1] = v;
            }
            for (ptrdiff_t c = 2 * ow; c < w; c++)
                r0[c] = r1[c] = 0;
        }
        if (h > 2 * oh)
            memset(o + 2 * oh * w, 0, (size_t)((h - 2 * oh) * w) * sizeof(DT));
    }
}

/* The 2x2 stride-2 backward, chunk ch of nch: a block of planes */
static void FN(avgpool2x2_bwd_chunk)(void *ctx, int ch, int nch)
{
    const FN(pool_job) *job = ctx;
    const mn_pool2d_geom *g = job->g;
    ptrdiff_t lo, hi;
    mn_chunk_range(g->planes, 1, ch, nch, &lo, &hi);
    if (hi > lo)
        FN(avgpool2x2_bwd_planes)(job->dy, job->dx, lo, hi, g->h, g->w, g->oh, g->ow, job->d,
                                  g->isa);
}

static void FN(avgpool_bwd_chunk)(void *ctx, int ch, int nch)
{
    const FN(pool_job) *job = ctx;
    const mn_pool2d_geom *g = job->g;
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow, jlo = job->jlo, jhi = job->jhi;
    const int include_pad = job->include_pad, div_override = job->div_override;
    const DT *dy = job->dy;
    DT *dx = job->dx;
    ptrdiff_t p0, p1;
    FN(plane_split)(g->planes, ch, nch, &p0, &p1);
    for (ptrdiff_t pl = p0; pl < p1; pl++) {
        DT *dxp = dx + pl * H * W;
        const DT *dyp = dy + pl * OH * OW;
        DT v[256]; /* the inner columns' shares dy / d, 256 windows at a time */
        memset(dxp, 0, (size_t)(H * W) * sizeof(DT));
        for (ptrdiff_t i = 0; i < OH; i++) {
            /* windows in order (a dx element takes its shares in the per-window loop's
             * order): the left edge, the inner columns, the right edge */
            for (ptrdiff_t j = 0; j < OW; j++) {
                ptrdiff_t r0, r1, c0, c1;
                const DT d =
                    FN(avg_window)(g, i, j, include_pad, div_override, &r0, &r1, &c0, &c1);
                if (j == jlo && jhi > jlo) {
                    for (ptrdiff_t j0 = jlo; j0 < jhi && r1 > r0; j0 += 256) {
                        const ptrdiff_t n = jhi - j0 < 256 ? jhi - j0 : 256;
                        for (ptrdiff_t k = 0; k < n; k++)
                            v[k] = dyp[i * OW + j0 + k] / d;
                        FN(avgpool_row_bwd)(v, W, r0, r1, g->kw, g->sw, j0 * g->sw - g->pw, n, dxp,
                                            H * W, g->isa);
                    }
                    j = jhi - 1;
                    continue;
                }
                if (r1 <= r0 || c1 <= c0)
                    continue;
                const DT vv = dyp[i * OW + j] / d;
                for (ptrdiff_t r = r0; r < r1; r++)
                    for (ptrdiff_t c = c0; c < c1; c++)
                        dxp[r * W + c] += vv;
            }
        }
    }
}

void FN(mn_avgpool2d_bwd)(const DT *dy, DT *dx, const mn_pool2d_geom *g, int include_pad,
                          int div_override, int n_threads)
{
    const int nt = POOL_THREADS(g, n_threads);
    if (FN(is_2x2)(g)) {
        const DT d = div_override > 0 ? (DT)div_override : (DT)4;
        FN(pool_job) job = {.g = g, .dy = dy, .dx = dx, .d = d};
        mn_parallel(nt, nt, FN(avgpool2x2_bwd_chunk), &job);
        return;
    }
    ptrdiff_t jlo, jhi;
    FN(avg_inner_cols)(g, &jlo, &jhi);
    if (g->sw > 2) /* strided adds are a scatter: the per-window loop costs less */
        jlo = jhi = 0;
    FN(pool_job) job = {.g = g,
                        .dy = dy,
                        .dx = dx,
                        .jlo = jlo,
                        .jhi = jhi,
                        .include_pad = include_pad,
                        .div_override = div_override};
    mn_parallel(nt, nt, FN(avgpool_bwd_chunk), &job);
}

/* Adaptive pooling's window along one axis: output i of `on` covers inputs [start, end) of `n`,
 * floor(i n / on) to ceil((i + 1) n / on) (as PyTorch). */
static inline ptrdiff_t FN(ad_start)(ptrdiff_t i, ptrdiff_t n, ptrdiff_t on) { return i * n / on; }
static inline ptrdiff_t FN(ad_end)(ptrdiff_t i, ptrdiff_t n, ptrdiff_t on)
{
    return ((i + 1) * n + on - 1) / on;
}

/* Adaptive pooling to a size that divides the input is average pooling with kernel = stride =
 * the quotient and no padding: the same windows, divisors and sum order, so the same results
 * from the vectorised paths above (28x28 -> 14x14 is the 2x2 kernel). */
static int FN(adaptive_as_avg)(const mn_pool2d_geom *g, mn_pool2d_geom *a)
{
    if (g->h % g->oh || g->w % g->ow)
        return 0;
    *a = *g;
    a->kh = a->sh = g->h / g->oh;
    a->kw = a->sw = g->w / g->ow;
    a->ph = a->pw = 0;
    a->dh = a->dw = 1;
    return 1;
}

static void FN(adaptive_fwd_chunk)(void *ctx, int ch, int nch)
{
    const FN(pool_job) *job = ctx;
    const mn_pool2d_geom *g = job->g;
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
    const DT *x = job->x;
    DT *y = job->y;
    ptrdiff_t p0, p1;
    FN(plane_split)(g->planes, ch, nch, &p0, &p1);
    for (ptrdiff_t pl = p0; pl < p1; pl++) {
        const DT *xp = x + pl * H * W;
        DT *yp = y + pl * OH * OW;
        for (ptrdiff_t i = 0; i < OH; i++) {
            const ptrdiff_t r0 = FN(ad_start)(i, H, OH), r1 = FN(ad_end)(i, H, OH);
            for (ptrdiff_t j = 0; j < OW; j++) {
                const ptrdiff_t c0 = FN(ad_start)(j, W, OW), c1 = FN(ad_end)(j, W, OW);
                DT s = 0;
                for (ptrdiff_t r = r0; r < r1; r++)
                    for (ptrdiff_t c = c0; c < c1; c++)
                        s += xp[r * W + c];
                yp[i * OW + j] = s / (DT)((r1 - r0) * (c1 - c0));
            }
        }
    }
}

void FN(mn_adaptive_avgpool2d_fwd)(const DT *x, DT *y, const mn_pool2d_geom *g, int n_threads)
{
    const int nt = POOL_THREADS(g, n_threads);
    mn_pool2d_geom a;
    if (FN(adaptive_as_avg)(g, &a)) {
        FN(mn_avgpool2d_fwd)(x, y, &a, 1, 0, n_threads);
        return;
    }
    FN(pool_job) job = {.g = g, .x = x, .y = y};
    mn_parallel(nt, nt, FN(adaptive_fwd_chunk), &job);
}

static void FN(adaptive_bwd_chunk)(void *ctx, int ch, int nch)
{
    const FN(pool_job) *job = ctx;
    const mn_pool2d_geom *g = job->g;
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
    const DT *dy = job->dy;
    DT *dx = job->dx;
    ptrdiff_t p0, p1;
    FN(plane_split)(g->planes, ch, nch, &p0, &p1);
    for (ptrdiff_t pl = p0; pl < p1; pl++) {
        DT *dxp = dx + pl * H * W;
        const DT *dyp = dy + pl * OH * OW;
        memset(dxp, 0, (size_t)(H * W) * sizeof(DT));
        for (ptrdiff_t i = 0; i < OH; i++) {
            const ptrdiff_t r0 = FN(ad_start)(i, H, OH), r1 = FN(ad_end)(i, H, OH);
            for (ptrdiff_t j = 0; j < OW; j++) {
                const ptrdiff_t c0 = FN(ad_start)(j, W, OW), c1 = FN(ad_end)(j, W, OW);
                const DT v = dyp[i * OW + j] / (DT)((r1 - r0) * (c1 - c0));
                for (ptrdiff_t r = r0; r < r1; r++)
                    for (ptrdiff_t c = c0; c < c1; c++)
                        dxp[r * W + c] += v;
            }
        }
    }
}

void FN(mn_adaptive_avgpool2d_bwd)(const DT *dy, DT *dx, const mn_pool2d_geom *g, int n_threads)
{
    const int nt = POOL_THREADS(g, n_threads);
    mn_pool2d_geom a;
    if (FN(adaptive_as_avg)(g, &a)) {
        FN(mn_avgpool2d_bwd)(dy, dx, &a, 1, 0, n_threads);
        return;
    }
    FN(pool_job) job = {.g = g, .dy = dy, .dx = dx};
    mn_parallel(nt, nt, FN(adaptive_bwd_chunk), &job);
}

/* ---- conv2d's fused relu + 2x2 max pooling (contracts in pool.h) ----------------------
 * AVX-512 floats in pool.c; these loops (the same tie rule: first maximum in row-major
 * order) for double and other CPUs. GCC leaves them scalar, hence the AVX-512 kernel. */
static void FN(relu_maxpool2x2_fwd_loop)(const DT *restrict x, ptrdiff_t planes, ptrdiff_t h,
                                         ptrdiff_t w, DT *restrict yp, uint8_t *restrict cp)
{
    const ptrdiff_t oh = h / 2, ow = w / 2;
    int32_t code[256];
    for (ptrdiff_t t = 0; t < planes * oh; t++) {
        const DT *restrict r0 = x + (t / oh) * h * w + 2 * (t % oh) * w, *restrict r1 = r0 + w;
        for (ptrdiff_t j0 = 0; j0 < ow; j0 += 256) {
            const ptrdiff_t jn = ow - j0 < 256 ? ow - j0 : 256;
            const DT *restrict a0 = r0 + 2 * j0, *restrict a1 = r1 + 2 * j0;
            DT *restrict y = yp + t * ow + j0;
#pragma omp simd simdlen(8)
            for (ptrdiff_t j = 0; j < jn; j++) {
                int32_t o;
                const DT m = FN(max4)(a0[2 * j], a0[2 * j + 1], a1[2 * j], a1[2 * j + 1], &o);
                const int32_t pos = m > 0;
                y[j] = m;
                code[j] = 4 + pos * (o - 4); /* pos ? o : 4, without a branch GCC keeps */
            }
            uint8_t *restrict c = cp + t * ow + j0;
            for (ptrdiff_t j = 0; j < jn; j++)
                c[j] = (uint8_t)code[j];
        }
    }
}

static void FN(relu_maxpool2x2_bwd_loop)(const DT *restrict dy, const uint8_t *restrict cp,
                                         ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w,
                                         DT *restrict dx, double *restrict sums)
{
    const ptrdiff_t oh = h / 2, ow = w / 2;
    int32_t code[256];
    for (ptrdiff_t pl = 0; pl < planes; pl++) {
        DT *restrict xp = dx + pl * h * w;
        DT s = 0;
        for (ptrdiff_t i = 0; i < oh; i++) {
            DT *restrict r0 = xp + 2 * i * w, *restrict r1 = r0 + w;
            for (ptrdiff_t j0 = 0; j0 < ow; j0 += 256) {
                const ptrdiff_t jn = ow - j0 < 256 ? ow - j0 : 256;
                const uint8_t *restrict c = cp + (pl * oh + i) * ow + j0;
                const DT *restrict d = dy + (pl * oh + i) * ow + j0;
                DT *restrict a0 = r0 + 2 * j0, *restrict a1 = r1 + 2 * j0;
                for (ptrdiff_t j = 0; j < jn; j++)
                    code[j] = c[j];
#pragma omp simd simdlen(8) reduction(+ : s)
                for (ptrdiff_t j = 0; j < jn; j++) {
                    const DT v = d[j];
                    const int32_t k = code[j];
                    a0[2 * j] = (DT)(k == 0) * v; /* products, not selects: vectorised */
                    a0[2 * j + 1] = (DT)(k == 1) * v;
                    a1[2 * j] = (DT)(k == 2) * v;
                    a1[2 * j + 1] = (DT)(k == 3) * v;
                    s += (DT)(k < 4) * v;
                }
            }
            if (w > 2 * ow)
                r0[w - 1] = r1[w - 1] = 0;
        }
        if (h > 2 * oh)
            memset(xp + 2 * oh * w, 0, (size_t)w * sizeof(DT));
        if (sums)
            sums[pl] = s;
    }
}

void FN(mn_relu_maxpool2x2_fwd)(const DT *x, ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w, DT *y,
                                uint8_t *code, int isa)
{
#if MN_X86
    if (FN(use_avx512)(isa)) {
        relu_maxpool2x2_fwd_f32_avx512((const float *)x, planes, h, w, (float *)y, code);
        return;
    }
#endif
    FN(relu_maxpool2x2_fwd_loop)(x, planes, h, w, y, code);
}

void FN(mn_relu_maxpool2x2_bwd)(const DT *dy, const uint8_t *code, ptrdiff_t planes, ptrdiff_t h,
                                ptrdiff_t w, DT *dx, double *sums, int isa)
{
#if MN_X86
    if (FN(use_avx512)(isa)) {
        relu_maxpool2x2_bwd_f32_avx512((const float *)dy, code, planes, h, w, (float *)dx, sums);
        return;
    }
#endif
    FN(relu_maxpool2x2_bwd_loop)(dy, code, planes, h, w, dx, sums);
}

#undef POOL_THREADS
#undef FN
