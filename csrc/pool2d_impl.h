/* Instantiated by pool2d.c once per dtype: DT is the element type, SFX the name suffix. */
#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SFX)

/* grain: about 4k elements of input per thread before a second thread is worth it */
#define POOL_THREADS(g, nt) \
    mn_par_threads((g)->planes, 1 + 4096 / ((g)->h * (g)->w + 1), (nt))

void FN(mn_maxpool2d_fwd)(const DT *x, DT *y, int64_t *idx, const mn_pool2d_geom *g,
                          int n_threads)
{
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
    const int nt = POOL_THREADS(g, n_threads);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (ptrdiff_t pl = 0; pl < g->planes; pl++) {
        const DT *xp = x + pl * H * W;
        DT *yp = y + pl * OH * OW;
        int64_t *ip = idx + pl * OH * OW;
        if (g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->ph == 0 &&
            g->pw == 0 && g->dh == 1 && g->dw == 1 && 2 * OH <= H && 2 * OW <= W) {
            /* the common 2x2/2 case: no bounds to check */
            for (ptrdiff_t i = 0; i < OH; i++) {
                const DT *r0 = xp + 2 * i * W, *r1 = r0 + W;
                for (ptrdiff_t j = 0; j < OW; j++) {
                    const ptrdiff_t s = 2 * j;
                    DT m = r0[s];
                    ptrdiff_t a = 2 * i * W + s;
                    if (r0[s + 1] > m || (r0[s + 1] != r0[s + 1] && m == m)) {
                        m = r0[s + 1];
                        a = 2 * i * W + s + 1;
                    }
                    if (r1[s] > m || (r1[s] != r1[s] && m == m)) {
                        m = r1[s];
                        a = (2 * i + 1) * W + s;
                    }
                    if (r1[s + 1] > m || (r1[s + 1] != r1[s + 1] && m == m)) {
                        m = r1[s + 1];
                        a = (2 * i + 1) * W + s + 1;
                    }
                    yp[i * OW + j] = m;
                    ip[i * OW + j] = a;
                }
            }
            continue;
        }
        for (ptrdiff_t i = 0; i < OH; i++) {
            const ptrdiff_t r0 = i * g->sh - g->ph;
            for (ptrdiff_t j = 0; j < OW; j++) {
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

void FN(mn_maxpool2d_bwd)(const DT *dy, const int64_t *idx, DT *dx, const mn_pool2d_geom *g,
                          int n_threads)
{
    const ptrdiff_t H = g->h, W = g->w, OHW = g->oh * g->ow;
    const int nt = POOL_THREADS(g, n_threads);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (ptrdiff_t pl = 0; pl < g->planes; pl++) {
        DT *dxp = dx + pl * H * W;
        const DT *dyp = dy + pl * OHW;
        const int64_t *ip = idx + pl * OHW;
        memset(dxp, 0, (size_t)(H * W) * sizeof(DT));
        for (ptrdiff_t k = 0; k < OHW; k++)
            if (ip[k] >= 0)
                dxp[ip[k]] += dyp[k];
    }
}

/* Window (i, j) of average pooling clipped to the plane, and its divisor, as PyTorch's
 * avg_pool2d: the window is first clipped to the padded plane (that size is the divisor with
 * count_include_pad), then to the plane. */
static inline DT FN(avg_window)(const mn_pool2d_geom *g, ptrdiff_t i, ptrdiff_t j,
                                int include_pad, int div_override, ptrdiff_t *r0,
                                ptrdiff_t *r1, ptrdiff_t *c0, ptrdiff_t *c1)
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

void FN(mn_avgpool2d_fwd)(const DT *x, DT *y, const mn_pool2d_geom *g, int include_pad,
                          int div_override, int n_threads)
{
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
    const int nt = POOL_THREADS(g, n_threads);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (ptrdiff_t pl = 0; pl < g->planes; pl++) {
        const DT *xp = x + pl * H * W;
        DT *yp = y + pl * OH * OW;
        for (ptrdiff_t i = 0; i < OH; i++) {
            for (ptrdiff_t j = 0; j < OW; j++) {
                ptrdiff_t r0, r1, c0, c1;
                const DT d = FN(avg_window)(g, i, j, include_pad, div_override, &r0, &r1, &c0,
                                            &c1);
                DT s = 0;
                for (ptrdiff_t r = r0; r < r1; r++)
                    for (ptrdiff_t c = c0; c < c1; c++)
                        s += xp[r * W + c];
                yp[i * OW + j] = (r1 > r0 && c1 > c0) ? s / d : (DT)0;
            }
        }
    }
}

void FN(mn_avgpool2d_bwd)(const DT *dy, DT *dx, const mn_pool2d_geom *g, int include_pad,
                          int div_override, int n_threads)
{
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
    const int nt = POOL_THREADS(g, n_threads);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (ptrdiff_t pl = 0; pl < g->planes; pl++) {
        DT *dxp = dx + pl * H * W;
        const DT *dyp = dy + pl * OH * OW;
        memset(dxp, 0, (size_t)(H * W) * sizeof(DT));
        for (ptrdiff_t i = 0; i < OH; i++) {
            for (ptrdiff_t j = 0; j < OW; j++) {
                ptrdiff_t r0, r1, c0, c1;
                const DT d = FN(avg_window)(g, i, j, include_pad, div_override, &r0, &r1, &c0,
                                            &c1);
                if (r1 <= r0 || c1 <= c0)
                    continue;
                const DT v = dyp[i * OW + j] / d;
                for (ptrdiff_t r = r0; r < r1; r++)
                    for (ptrdiff_t c = c0; c < c1; c++)
                        dxp[r * W + c] += v;
            }
        }
    }
}

void FN(mn_adaptive_avgpool2d_fwd)(const DT *x, DT *y, const mn_pool2d_geom *g, int n_threads)
{
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
    const int nt = POOL_THREADS(g, n_threads);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (ptrdiff_t pl = 0; pl < g->planes; pl++) {
        const DT *xp = x + pl * H * W;
        DT *yp = y + pl * OH * OW;
        for (ptrdiff_t i = 0; i < OH; i++) {
            const ptrdiff_t r0 = i * H / OH, r1 = ((i + 1) * H + OH - 1) / OH;
            for (ptrdiff_t j = 0; j < OW; j++) {
                const ptrdiff_t c0 = j * W / OW, c1 = ((j + 1) * W + OW - 1) / OW;
                DT s = 0;
                for (ptrdiff_t r = r0; r < r1; r++)
                    for (ptrdiff_t c = c0; c < c1; c++)
                        s += xp[r * W + c];
                yp[i * OW + j] = s / (DT)((r1 - r0) * (c1 - c0));
            }
        }
    }
}

void FN(mn_adaptive_avgpool2d_bwd)(const DT *dy, DT *dx, const mn_pool2d_geom *g,
                                   int n_threads)
{
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
    const int nt = POOL_THREADS(g, n_threads);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (ptrdiff_t pl = 0; pl < g->planes; pl++) {
        DT *dxp = dx + pl * H * W;
        const DT *dyp = dy + pl * OH * OW;
        memset(dxp, 0, (size_t)(H * W) * sizeof(DT));
        for (ptrdiff_t i = 0; i < OH; i++) {
            const ptrdiff_t r0 = i * H / OH, r1 = ((i + 1) * H + OH - 1) / OH;
            for (ptrdiff_t j = 0; j < OW; j++) {
                const ptrdiff_t c0 = j * W / OW, c1 = ((j + 1) * W + OW - 1) / OW;
                const DT v = dyp[i * OW + j] / (DT)((r1 - r0) * (c1 - c0));
                for (ptrdiff_t r = r0; r < r1; r++)
                    for (ptrdiff_t c = c0; c < c1; c++)
                        dxp[r * W + c] += v;
            }
        }
    }
}

#undef POOL_THREADS
#undef FN
#undef CAT
#undef CAT_
