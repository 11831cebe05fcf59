/* dX of strided (or over-padded) convolutions on the implicit path, as stride-1 products over
 * phases: the "dxs" functions (per dtype, included by conv_impl.h).
 *
 * dx[c, r, s] sums w[o, c, p, q] * dy[o, i, j] over r + pad_t = i*sh + p*dh and
 * s + pad_l = j*sw + q*dw. Split dx into phases (a, b) = ((r + pad_t) % sh, (s + pad_l) % sw):
 * phase (a, b) gets exactly the taps with p*dh % sh == a and q*dw % sw == b, and for them
 * i = u - m_p, j = v - n_q (u = (r + pad_t) / sh, m_p = p*dh / sh, ...): a stride-1
 * correlation of dY with the phase's sub-kernel. Every phase is one implicit product over
 * the same zero-bordered dY planes (rows of Wq), its output rows u' = u - u0_a, and each dx
 * pixel belongs to one phase: the same FLOPs as the forward, and no col2im.
 *
 * Why: at stride 2 the transposed convolution puts the taps on every other row and column,
 * so no single correlation of dY computes dX (and at stride 1, padding beyond the kernel's
 * reach leaves the flipped convolution a negative padding); the im2col path would need its
 * col2im scatter. implicit_bwd uses these when dX goes through the implicit path
 * (implicit_takes_dx) but is not one flipped convolution (dx_is_flipped_conv). */

/* The phase split of one call, made once (dxs_make) and read by every image (dxs_image). Sizes
 * are in elements unless said otherwise; phase ph = a*sw + b is the dx pixels (r, s) with
 * (r + pad_t) % sh == a, (s + pad_l) % sw == b. */
typedef struct {
    ptrdiff_t nph;   /* phases: sh * sw */
    ptrdiff_t Hq;    /* rows of each zero-bordered dY plane: every tap's read stays inside */
    ptrdiff_t Wq;    /* columns of each dY plane (the implicit products' wide row length) */
    ptrdiff_t Mt;    /* zero rows above dY in its planes: the farthest any tap reaches above */
    ptrdiff_t Nl;    /* zero columns left of dY in its planes: likewise, to the left */
    ptrdiff_t Mq;    /* rows of each phase's product: C_in_g rounded up to the tile rows */
    ptrdiff_t Tpmax; /* the widest phase product: its U*Wq wide pixels rounded up to a tile's
                        width; each phase's product gets Mq x Tpmax of the scratch */
    ptrdiff_t Kq;    /* taps over all phases: C_out_g * kh * kw (the length of off) */
    ptrdiff_t *K;    /* per phase: its taps */
    ptrdiff_t *u0;   /* per phase: its first output row u, dx row u*sh + a - pad_t */
    ptrdiff_t *U;    /* per phase: its output rows (0: the phase has no dx rows) */
    ptrdiff_t *v0;   /* per phase: its first output column v, dx column v*sw + b - pad_l */
    ptrdiff_t *V;    /* per phase: its output columns */
    ptrdiff_t *kofs; /* per phase: the index of its first tap in off and in the panels */
    ptrdiff_t *off;  /* Kq tap offsets into the dY planes, phase by phase */
    DT *wp;          /* weights, per group Mq x Kq: phase ph's Mq x K[ph] micro-panels (tile
                        rows, k-major) from column kofs[ph] */
} FN(dxs_plan);

static void FN(dxs_free)(FN(dxs_plan) *pl)
{
    free(pl->K);
    free(pl->off);
    free(pl->wp);
}

/* One axis (n input pixels, padding pad, stride st, kernel k, dilation d) of the phase split:
 * phase a's first output u0[a] and count U[a]; returns the dY padding every phase's taps
 * need, max (tap*d / st - u0[a]) over taps in the phase. */
static ptrdiff_t FN(dxs_axis)(ptrdiff_t n, ptrdiff_t pad, ptrdiff_t st, ptrdiff_t k, ptrdiff_t d,
                              ptrdiff_t *u0, ptrdiff_t *U)
{
    ptrdiff_t need = 0;
    for (ptrdiff_t a = 0; a < st; a++) {
        const ptrdiff_t lo = pad - a > 0 ? (pad - a + st - 1) / st : 0, top = n - 1 + pad - a;
        u0[a] = lo;
        U[a] = top >= 0 && top / st >= lo ? top / st - lo + 1 : 0;
        for (ptrdiff_t p = 0; p < k && U[a]; p++)
            if (p * d % st == a && p * d / st - lo > need)
                need = p * d / st - lo;
    }
    return need;
}

static int FN(dxs_make)(const mn_conv2d_geom *g, const FN(ik_t) *ik, const DT *w, FN(dxs_plan) *pl)
{
    const ptrdiff_t sh = g->sh, sw = g->sw, kh = g->kh, kw = g->kw, G = g->groups;
    const ptrdiff_t cin_g = g->c_in / G, cout_g = g->c_out / G, nph = sh * sw;
    memset(pl, 0, sizeof(*pl));
    pl->nph = nph;
    pl->Kq = cout_g * kh * kw;
    pl->Mq = FN(round_up)(cin_g, ik->mr);
    pl->K = (ptrdiff_t *)malloc((size_t)(6 * nph + 1) * sizeof(ptrdiff_t));
    pl->off = (ptrdiff_t *)malloc((size_t)(pl->Kq + 1) * sizeof(ptrdiff_t));
    pl->wp = (DT *)malloc((size_t)(G * pl->Mq * pl->Kq + 1) * sizeof(DT));
    if (!pl->K || !pl->off || !pl->wp) {
        FN(dxs_free)(pl);
        return -1;
    }
    pl->u0 = pl->K + nph;
    pl->U = pl->u0 + nph;
    pl->v0 = pl->U + nph;
    pl->V = pl->v0 + nph;
    pl->kofs = pl->V + nph;
    /* rows: phase a's outputs u in [u0_a, u0_a + U_a); taps p with p*dh % sh == a */
    ptrdiff_t ru0[64], rU[64], cu0[64], cV[64];
    const ptrdiff_t Mt = FN(dxs_axis)(g->h, g->pad_t, sh, kh, g->dh, ru0, rU);
    const ptrdiff_t Nl = FN(dxs_axis)(g->w, g->pad_l, sw, kw, g->dw, cu0, cV);
    /* plane: every read row u' + u0_a - m_p + Mt < Hq, column likewise */
    ptrdiff_t Hq = 1, Wq = 1;
    for (ptrdiff_t a = 0; a < sh; a++)
        for (ptrdiff_t p = 0; p < kh; p++)
            if (p * g->dh % sh == a && rU[a] + ru0[a] - p * g->dh / sh + Mt > Hq)
                Hq = rU[a] + ru0[a] - p * g->dh / sh + Mt;
    for (ptrdiff_t b = 0; b < sw; b++)
        for (ptrdiff_t q = 0; q < kw; q++)
            if (q * g->dw % sw == b && cV[b] + cu0[b] - q * g->dw / sw + Nl > Wq)
                Wq = cV[b] + cu0[b] - q * g->dw / sw + Nl;
    pl->Hq = Hq;
    pl->Wq = Wq;
    pl->Mt = Mt;
    pl->Nl = Nl;
    ptrdiff_t k = 0;
    for (ptrdiff_t a = 0; a < sh; a++)
        for (ptrdiff_t b = 0; b < sw; b++) {
            const ptrdiff_t ph = a * sw + b, k0 = k;
            pl->u0[ph] = ru0[a];
            pl->U[ph] = rU[a];
            pl->v0[ph] = cu0[b];
            pl->V[ph] = cV[b];
            pl->kofs[ph] = k0;
            for (ptrdiff_t o = 0; o < cout_g; o++)
                for (ptrdiff_t p = 0; p < kh; p++)
                    for (ptrdiff_t q = 0; q < kw; q++)
                        if (p * g->dh % sh == a && q * g->dw % sw == b)
                            pl->off[k++] = o * Hq * Wq + (ru0[a] - p * g->dh / sh + Mt) * Wq +
                                           cu0[b] - q * g->dw / sw + Nl;
            pl->K[ph] = k - k0;
            const ptrdiff_t Tp = FN(round_up)(rU[a] * Wq, 2 * ik->lanes);
            if (Tp > pl->Tpmax)
                pl->Tpmax = Tp;
            /* the phase's panels: rows c, taps in the order above, w[o, c, p, q] */
            for (ptrdiff_t gi = 0; gi < G; gi++) {
                DT *wpp = pl->wp + gi * pl->Mq * pl->Kq + pl->Mq * k0;
                for (ptrdiff_t ob = 0; ob < pl->Mq; ob += ik->mr) {
                    ptrdiff_t kk = 0;
                    for (ptrdiff_t o = 0; o < cout_g; o++)
                        for (ptrdiff_t p = 0; p < kh; p++)
                            for (ptrdiff_t q = 0; q < kw; q++) {
                                if (p * g->dh % sh != a || q * g->dw % sw != b)
                                    continue;
                                for (ptrdiff_t r = 0; r < ik->mr; r++) {
                                    const ptrdiff_t c = ob + r;
                                    wpp[ob * pl->K[ph] + kk * ik->mr + r] =
                                        c < cin_g
                                            ? w[(((gi * cout_g + o) * cin_g + c) * kh + p) * kw +
                                                q]
                                            : (DT)0;
                                }
                                kk++;
                            }
                }
            }
        }
    return 0;
}

/* Elements of a thread's scratch: dY's planes (+ slack) and every phase's product. */
static size_t FN(dxs_scratch)(const FN(dxs_plan) *pl, ptrdiff_t cout_g)
{
    return (size_t)(cout_g * pl->Hq * pl->Wq + pl->Tpmax + pl->Wq + 16 +
                    pl->nph * pl->Mq * pl->Tpmax);
}

/* dx of one image and group (cin_g planes at dxg) from its dY planes dyg: every phase's
 * product into yw (phase ph at ph*Mq*Tpmax; a phase without taps is zeros), then the rows of
 * dx assembled from them (stride 2 across: the two column phases interleaved in one loop). */
static void FN(dxs_image)(const FN(dxs_plan) *pl, const FN(ik_t) *ik, const DT *dyg,
                          const mn_conv2d_geom *g, ptrdiff_t gi, DT *dxg, DT *dyp, DT *yw)
{
    const ptrdiff_t cin_g = g->c_in / g->groups, cout_g = g->c_out / g->groups;
    const ptrdiff_t sh = g->sh, sw = g->sw, H = g->h, W = g->w, Wq = pl->Wq, nr = 2 * ik->lanes;
    const ptrdiff_t Mq = pl->Mq, step = Mq * pl->Tpmax;
    mn_conv2d_geom gt = *g;
    gt.h = g->oh;
    gt.w = g->ow;
    gt.pad_t = pl->Mt;
    gt.pad_l = pl->Nl;
    FN(ik_pad)(ik, dyg, cout_g, &gt, pl->Hq, Wq, dyp);
    for (ptrdiff_t ph = 0; ph < pl->nph; ph++) {
        const ptrdiff_t U = pl->U[ph], K = pl->K[ph], Tp = FN(round_up)(U * Wq, nr);
        DT *out = yw + ph * step;
        if (!U || !pl->V[ph])
            continue;
        if (!K) { /* no tap lands on this phase */
            memset(out, 0, (size_t)(cin_g * Tp) * sizeof(DT));
            continue;
        }
        const DT *wp = pl->wp + gi * pl->Mq * pl->Kq + pl->Mq * pl->kofs[ph];
        for (ptrdiff_t t0 = 0; t0 < Tp; t0 += nr)
            for (ptrdiff_t ob = 0; ob < Mq; ob += ik->mr)
                ik->fwd(K, wp + ob * K, dyp + t0, pl->off + pl->kofs[ph], 0, out + ob * Tp + t0,
                        Tp);
    }
    for (ptrdiff_t a = 0; a < sh; a++) {
        const ptrdiff_t U = pl->U[a * sw], Tpa = FN(round_up)(U * Wq, nr);
        if (!U)
            continue;
        const ptrdiff_t r0 = pl->u0[a * sw] * sh + a - g->pad_t;
        /* stride 2 across: phase e starts at column 0, phase o at column 1 */
        const ptrdiff_t e = (g->pad_l - pl->v0[0] * 2) == 0 ? 0 : 1, o = 1 - e;
        const int two = sw == 2 && pl->V[a * 2 + e] == (W + 1) / 2 && pl->V[a * 2 + o] == W / 2;
        for (ptrdiff_t c = 0; c < cin_g; c++)
            for (ptrdiff_t u = 0; u < U; u++) {
                DT *dst = dxg + (c * H + r0 + u * sh) * W;
                const ptrdiff_t at = c * Tpa + u * Wq;
                if (two) {
                    const DT *pe = yw + (a * 2 + e) * step + at,
                             *po = yw + (a * 2 + o) * step + at;
                    const ptrdiff_t n2 = W / 2;
                    for (ptrdiff_t v = 0; v < n2; v++) {
                        dst[2 * v] = pe[v];
                        dst[2 * v + 1] = po[v];
                    }
                    if (W & 1)
                        dst[W - 1] = pe[n2];
                    continue;
                }
                for (ptrdiff_t bb = 0; bb < sw; bb++) {
                    const ptrdiff_t ph = a * sw + bb, V = pl->V[ph];
                    const ptrdiff_t s0 = pl->v0[ph] * sw + bb - g->pad_l;
                    const DT *src = yw + ph * step + at;
                    for (ptrdiff_t v = 0; v < V; v++)
                        dst[s0 + v * sw] = src[v];
                }
            }
    }
}
