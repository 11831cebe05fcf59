/* The blocked GEMM driver for one dtype, instantiated by gemm.c (parameters DT, SFX, KC_MAX,
 * MC_MAX, NC_MAX, SCALAR_ACT; all undefined again at the end of this file). Loop order, after
 * Goto and BLIS:
 *   jc (NC columns of C) > pc (KC of k: pack B panel, shared by all threads)
 *     > ic (MC rows: pack A block, shared) > micro-tiles (jp, ip), chunks of the pool over
 *     the flattened tile range, B-panel major so each thread keeps its own B micro-panels.
 * With one row block (m <= MC) and two or more B micro-panels per thread, each (jc, pc) panel
 * is one job instead (panel_chunk_: a chunk packs its B panels and its own copy of A).
 * Partial sums over k live in C itself: the first k block applies beta, the last one the
 * bias and the activation. */

#include "names.h"

/* FN(name) -> name + SFX: FN(gemm_body_) is gemm_body_{f32,f64}, FN(mn_gemm_) mn_gemm_{f32,f64} */
#define FN(name) MN_CAT(name, SFX)

typedef void (*FN(ukernel_fn_))(ptrdiff_t, const DT *restrict, const DT *restrict, DT *restrict);
typedef void (*FN(ukdirect_fn_))(ptrdiff_t, const DT *restrict, const DT *restrict, DT *restrict,
                                 ptrdiff_t, DT, DT, const DT *restrict, int);
typedef void (*FN(narrow_fn_))(ptrdiff_t, const DT *restrict, ptrdiff_t, ptrdiff_t,
                               const DT *restrict, DT *restrict);
typedef void (*FN(epilogue_fn_))(const DT *restrict, ptrdiff_t, DT *restrict, ptrdiff_t, ptrdiff_t,
                                 int, int, DT, DT, const DT *restrict, ptrdiff_t, ptrdiff_t, int);

/* dst[p*ld + i] = src[i*rs + p] for i < 8, p < kc: eight rows transposed into k-major order. */
typedef void (*FN(tpack8_fn_))(const DT *restrict, ptrdiff_t, ptrdiff_t, DT *restrict, ptrdiff_t);

typedef struct {
    int mr, nr;
    FN(ukernel_fn_) uk;
    FN(ukdirect_fn_) ukd; /* full tiles of a row-major C, identity or relu epilogue */
    FN(epilogue_fn_) ep;
    FN(tpack8_fn_) tpack8; /* NULL: scalar packing */
    FN(narrow_fn_) narrow; /* 8 x NRN micro-kernel on unpacked A; NULL: none */
    int nrn;
    DT (*dot)(const DT *restrict, const DT *restrict, ptrdiff_t);
    void (*axpy)(ptrdiff_t, DT, const DT *restrict, DT *restrict);
} FN(kdesc_);

static const FN(kdesc_) *FN(pick_kernel_)(int isa);

/* Pack rows [0, mr_eff) x k [0, kc) of A (element (i, p) at a[i*rsa + p*csa]) into one
 * k-major micro-panel of MR rows, zero-padded: ap[p*MR + i]. */
static void FN(pack_a_)(const FN(kdesc_) *kd, const DT *restrict a, ptrdiff_t rsa, ptrdiff_t csa,
                        ptrdiff_t kc, int mr_eff, int MR, DT *restrict ap)
{
    if (csa == 1 && MR == 8 && mr_eff == 8 && kd->tpack8) {
        /* row-major A: a vector 8 x 8 transpose instead of MR-strided scalar stores */
        kd->tpack8(a, rsa, kc, ap, MR);
        return;
    }
    if (rsa == 1 && mr_eff == 8 && MR == 8) {
        /* A transposed (dW = X^T dY): each k step is 8 contiguous values, a fixed-size copy */
        for (ptrdiff_t p = 0; p < kc; p++)
            memcpy(ap + p * 8, a + p * csa, 8 * sizeof(DT));
        return;
    }
    if (rsa == 1) {
        for (ptrdiff_t p = 0; p < kc; p++) {
            const DT *col = a + p * csa;
            DT *dst = ap + p * MR;
            int i = 0;
            for (; i < mr_eff; i++)
                dst[i] = col[i];
            for (; i < MR; i++)
                dst[i] = 0;
        }
    } else {
        /* rows are contiguous along k: read each row once, scatter with stride MR */
        for (int i = 0; i < mr_eff; i++) {
            const DT *row = a + i * rsa;
            for (ptrdiff_t p = 0; p < kc; p++)
                ap[p * MR + i] = row[p * csa];
        }
        for (int i = mr_eff; i < MR; i++)
            for (ptrdiff_t p = 0; p < kc; p++)
                ap[p * MR + i] = 0;
    }
}

/* Pack k [0, kc) x columns [0, nr_eff) of B (element (p, j) at b[p*rsb + j*csb]) into one
 * k-major micro-panel of NR columns, zero-padded: bp[p*NR + j]. */
static void FN(pack_b_)(const FN(kdesc_) *kd, const DT *restrict b, ptrdiff_t rsb, ptrdiff_t csb,
                        ptrdiff_t kc, int nr_eff, int NR, DT *restrict bp)
{
    if (rsb == 1 && csb != 1 && kd->tpack8 && NR % 8 == 0) {
        /* transposed B (a weight stored (out, in)): 8 x 8 vector transposes, 8 columns a time */
        int j = 0;
        for (; j + 8 <= nr_eff; j += 8)
            kd->tpack8(b + j * csb, csb, kc, bp + j, NR);
        for (; j < NR; j++)
            for (ptrdiff_t p = 0; p < kc; p++)
                bp[p * NR + j] = j < nr_eff ? b[j * csb + p] : (DT)0;
        return;
    }
    if (csb == 1) {
        for (ptrdiff_t p = 0; p < kc; p++) {
            const DT *row = b + p * rsb;
            DT *dst = bp + p * NR;
            int j = 0;
            for (; j < nr_eff; j++)
                dst[j] = row[j];
            for (; j < NR; j++)
                dst[j] = 0;
        }
    } else {
        for (int j = 0; j < nr_eff; j++) {
            const DT *col = b + j * csb;
            for (ptrdiff_t p = 0; p < kc; p++)
                bp[p * NR + j] = col[p * rsb];
        }
        for (int j = nr_eff; j < NR; j++)
            for (ptrdiff_t p = 0; p < kc; p++)
                bp[p * NR + j] = 0;
    }
}

static inline ptrdiff_t FN(min_)(ptrdiff_t x, ptrdiff_t y) { return x < y ? x : y; }

/* KC: larger k blocks mean fewer passes over C in the epilogue (each k block reads and writes
 * C once), smaller ones keep the B micro-panel nearer L1; 512 f32 balances the two. */

/* One GEMM's arguments and blocking, shared by the chunks of its jobs. */
typedef struct {
    const FN(kdesc_) *kd;
    ptrdiff_t m, n, k;
    DT alpha;
    const DT *a;
    ptrdiff_t rsa, csa;
    const DT *b;
    ptrdiff_t rsb, csb;
    DT beta;
    DT *c;
    ptrdiff_t rsc, csc;
    const DT *bias;
    ptrdiff_t brs, bcs;
    int act;
    DT *bp, *apk;
    /* the current block */
    ptrdiff_t jc, nc, pc, kc, ic, mc, npn, npm;
} FN(gemm_job_);

/* [lo, hi) of [0, n) for chunk `ch` of `nch`. */
static inline void FN(split_)(ptrdiff_t n, int ch, int nch, ptrdiff_t *lo, ptrdiff_t *hi)
{
    *lo = n * ch / nch;
    *hi = n * (ch + 1) / nch;
}

static void FN(pack_b_chunk_)(void *ctx, int ch, int nch)
{
    const FN(gemm_job_) *g = ctx;
    const int NR = g->kd->nr;
    ptrdiff_t lo, hi;
    FN(split_)(g->npn, ch, nch, &lo, &hi);
    for (ptrdiff_t jp = lo; jp < hi; jp++)
        FN(pack_b_)(g->kd, g->b + g->pc * g->rsb + (g->jc + jp * NR) * g->csb, g->rsb, g->csb,
                    g->kc, (int)FN(min_)(NR, g->nc - jp * NR), NR, g->bp + jp * NR * g->kc);
}

static void FN(pack_a_chunk_)(void *ctx, int ch, int nch)
{
    const FN(gemm_job_) *g = ctx;
    const int MR = g->kd->mr;
    ptrdiff_t lo, hi;
    FN(split_)(g->npm, ch, nch, &lo, &hi);
    for (ptrdiff_t ip = lo; ip < hi; ip++)
        FN(pack_a_)(g->kd, g->a + (g->ic + ip * MR) * g->rsa + g->pc * g->csa, g->rsa, g->csa,
                    g->kc, (int)FN(min_)(MR, g->mc - ip * MR), MR, g->apk + ip * MR * g->kc);
}

/* Tile (jp, ip) of the current block, from the packed panels bq (B, NR x kc) and ap (A). */
static inline void FN(tile_)(const FN(gemm_job_) *g, ptrdiff_t jp, ptrdiff_t ip, const DT *ap,
                             const DT *bq)
{
    const FN(kdesc_) *kd = g->kd;
    const int MR = kd->mr, NR = kd->nr;
    const ptrdiff_t m = g->m, n = g->n, kc = g->kc, rsc = g->rsc, csc = g->csc;
    const int last = g->pc + kc >= g->k;
    const DT beta_eff = g->pc == 0 ? g->beta : (DT)1;
    const int act_now = last ? g->act : MN_ACT_IDENTITY;
    DT ct[MN_MAX_TILE] __attribute__((aligned(64)));
    const ptrdiff_t i0 = g->ic + ip * MR, j0 = g->jc + jp * NR;
    DT *const cij = g->c + i0 * rsc + j0 * csc;
    if (csc == 1) {
        /* start fetching the C tile now, so the write-back after the k loop does not
         * stall on its misses */
        const int mr_eff = (int)FN(min_)(MR, m - i0);
        for (int i = 0; i < mr_eff; i++)
            for (int j = 0; j < NR; j += 64 / (int)sizeof(DT))
                __builtin_prefetch(cij + i * rsc + j, 1, 3);
    }
    if (csc == 1 && g->bcs == 1 && i0 + MR <= m && j0 + NR <= n &&
        (act_now == MN_ACT_IDENTITY || act_now == MN_ACT_RELU)) {
        kd->ukd(kc, ap, bq, cij, rsc, g->alpha, beta_eff, (last && g->bias) ? g->bias + j0 : NULL,
                act_now == MN_ACT_RELU);
        return;
    }
    kd->uk(kc, ap, bq, ct);
    kd->ep(ct, NR, cij, rsc, csc, (int)FN(min_)(MR, m - i0), (int)FN(min_)(NR, n - j0), g->alpha,
           beta_eff, (last && g->bias) ? g->bias + i0 * g->brs + j0 * g->bcs : NULL, g->brs,
           g->bcs, act_now);
}

static void FN(tiles_chunk_)(void *ctx, int ch, int nch)
{
    const FN(gemm_job_) *g = ctx;
    const ptrdiff_t npm = g->npm, kc = g->kc;
    ptrdiff_t lo, hi;
    FN(split_)(g->npn * npm, ch, nch, &lo, &hi);
    for (ptrdiff_t t = lo; t < hi; t++) {
        const ptrdiff_t jp = t / npm, ip = t % npm;
        FN(tile_)(g, jp, ip, g->apk + ip * g->kd->mr * kc, g->bp + jp * g->kd->nr * kc);
    }
}

/* A whole (jc, pc) panel as one job, for products of one row block (m <= MC): chunk ch packs
 * its own share of B's micro-panels and all of A into its own buffer (apk + ch * npm*MR*kc),
 * then computes its panels' tiles. Packing A once per chunk repeats m*kc copies, where the
 * three-job nest pays two more job hand-offs and moves half the packed A between cores: at
 * 128 x 128 x 128 on two threads those cost more than the products' share of a core. */
static void FN(panel_chunk_)(void *ctx, int ch, int nch)
{
    const FN(gemm_job_) *g = ctx;
    const int MR = g->kd->mr, NR = g->kd->nr;
    const ptrdiff_t kc = g->kc, npm = g->npm;
    ptrdiff_t lo, hi;
    FN(split_)(g->npn, ch, nch, &lo, &hi);
    if (lo >= hi)
        return;
    for (ptrdiff_t jp = lo; jp < hi; jp++)
        FN(pack_b_)(g->kd, g->b + g->pc * g->rsb + (g->jc + jp * NR) * g->csb, g->rsb, g->csb, kc,
                    (int)FN(min_)(NR, g->nc - jp * NR), NR, g->bp + jp * NR * kc);
    DT *const apk = g->apk + (ptrdiff_t)ch * npm * MR * kc;
    for (ptrdiff_t ip = 0; ip < npm; ip++)
        FN(pack_a_)(g->kd, g->a + (g->ic + ip * MR) * g->rsa + g->pc * g->csa, g->rsa, g->csa, kc,
                    (int)FN(min_)(MR, g->mc - ip * MR), MR, apk + ip * MR * kc);
    for (ptrdiff_t jp = lo; jp < hi; jp++)
        for (ptrdiff_t ip = 0; ip < npm; ip++)
            FN(tile_)(g, jp, ip, apk + ip * MR * kc, g->bp + jp * NR * kc);
}

/* Whether gemm_body_ runs panel_chunk_ (one job per (jc, pc)) for this product on nt threads:
 * one row block, and at least two of B's micro-panels per thread. */
static inline int FN(panel_mode_)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t mc_max, ptrdiff_t nc_max,
                                  int NR, int nt)
{
    const ptrdiff_t npn = (FN(min_)(n, nc_max) + NR - 1) / NR;
    return mn_gemm_panel && nt > 1 && m <= mc_max && npn >= 2 * (ptrdiff_t)nt;
}

/* The loop nest: per block, pack B's panels, pack A's panels, then the tiles, each a job of
 * the pool (a job ends when its chunks are done, so the packs are complete before the tiles
 * read them). A tile's result does not depend on which chunk it falls in. */
static void FN(gemm_body_)(FN(gemm_job_) *g, ptrdiff_t kc_blk, ptrdiff_t mc_max, ptrdiff_t nc_max,
                           int nt)
{
    const int MR = g->kd->mr, NR = g->kd->nr;
    const int panel = FN(panel_mode_)(g->m, g->n, mc_max, nc_max, NR, nt);
    for (g->jc = 0; g->jc < g->n; g->jc += nc_max) {
        g->nc = FN(min_)(nc_max, g->n - g->jc);
        g->npn = (g->nc + NR - 1) / NR;
        for (g->pc = 0; g->pc < g->k; g->pc += kc_blk) {
            g->kc = FN(min_)(kc_blk, g->k - g->pc);
            if (panel && g->npn >= 2 * (ptrdiff_t)nt) {
                g->ic = 0;
                g->mc = g->m;
                g->npm = (g->mc + MR - 1) / MR;
                mn_parallel(nt, nt, FN(panel_chunk_), g);
                continue;
            }
            mn_parallel(nt, (int)FN(min_)(nt, g->npn), FN(pack_b_chunk_), g);
            for (g->ic = 0; g->ic < g->m; g->ic += mc_max) {
                g->mc = FN(min_)(mc_max, g->m - g->ic);
                g->npm = (g->mc + MR - 1) / MR;
                mn_parallel(nt, (int)FN(min_)(nt, g->npm), FN(pack_a_chunk_), g);
                /* a few chunks per thread, so a thread that starts late costs little */
                mn_parallel(nt, (int)FN(min_)(3 * nt, g->npn * g->npm), FN(tiles_chunk_), g);
            }
        }
    }
}

/* C := act(beta * C + bias) for k == 0, where op(A) @ op(B) is all zeros. */
static void FN(gemm_scale_only_)(ptrdiff_t m, ptrdiff_t n, DT beta, DT *c, ptrdiff_t rsc,
                                 ptrdiff_t csc, const DT *bias, ptrdiff_t brs, ptrdiff_t bcs,
                                 int act)
{
    for (ptrdiff_t i = 0; i < m; i++)
        for (ptrdiff_t j = 0; j < n; j++) {
            DT v = beta == 0 ? (DT)0 : beta * c[i * rsc + j * csc];
            if (bias)
                v += bias[i * brs + j * bcs];
            c[i * rsc + j * csc] = SCALAR_ACT(v, act);
        }
}

static int FN(gemm_strided_)(const FN(kdesc_) *kd, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, DT alpha,
                             const DT *a, ptrdiff_t rsa, ptrdiff_t csa, const DT *b, ptrdiff_t rsb,
                             ptrdiff_t csb, DT beta, DT *c, ptrdiff_t rsc, ptrdiff_t csc,
                             const DT *bias, ptrdiff_t brs, ptrdiff_t bcs, int act, int n_threads)
{
    if (m <= 0 || n <= 0)
        return 0;
    if (k <= 0) {
        FN(gemm_scale_only_)(m, n, beta, c, rsc, csc, bias, brs, bcs, act);
        return 0;
    }
    const int MR = kd->mr, NR = kd->nr;
    const ptrdiff_t nk = (k + KC_MAX - 1) / KC_MAX;
    const ptrdiff_t kc_blk = (k + nk - 1) / nk;
    const ptrdiff_t mc_max = (MC_MAX / MR) * MR;
    const ptrdiff_t nc_max = (NC_MAX / NR) * NR;
    const ptrdiff_t mc0 = (FN(min_)(m, mc_max) + MR - 1) / MR * MR;
    const ptrdiff_t nc0 = (FN(min_)(n, nc_max) + NR - 1) / NR * NR;
    /* Waking the pool outweighs a small product: one thread below 0.5 MFLOP. */
    const double flops = 2.0 * (double)m * (double)n * (double)k;
    const int nt = (n_threads > 1 && flops >= 5e5) ? n_threads : 1;
    /* panel mode packs A once per chunk, each into its own buffer */
    const ptrdiff_t n_apk = FN(panel_mode_)(m, n, mc_max, nc_max, NR, nt) ? nt : 1;
    DT *bp = mn_workspace(0, (size_t)(kc_blk * nc0) * sizeof(DT));
    DT *apk = mn_workspace(1, (size_t)(kc_blk * mc0 * n_apk) * sizeof(DT));
    if (!bp || !apk)
        return -1;
    FN(gemm_job_) g = {kd,   m, n,   k,   alpha, a,   rsa, csa, b,  rsb, csb,
                       beta, c, rsc, csc, bias,  brs, bcs, act, bp, apk};
    FN(gemm_body_)(&g, kc_blk, mc_max, nc_max, nt);
    return 0;
}

static inline void FN(narrow_block_)(const FN(kdesc_) *kd, ptrdiff_t ib, ptrdiff_t m, ptrdiff_t n,
                                     ptrdiff_t k, DT alpha, const DT *a, ptrdiff_t rsa,
                                     ptrdiff_t csa, const DT *bp, DT *apk, DT beta, DT *c,
                                     ptrdiff_t rsc, ptrdiff_t csc, const DT *bias, ptrdiff_t brs,
                                     ptrdiff_t bcs, int act)
{
    DT ct[MN_MAX_TILE] __attribute__((aligned(64)));
    const ptrdiff_t i0 = ib * 8;
    const int mr = (int)FN(min_)(8, m - i0);
    if (mr == 8) {
        kd->narrow(k, a + i0 * rsa, rsa, csa, bp, ct);
    } else {
        /* the last, partial block: pad its rows into a packed panel (only one thread) */
        FN(pack_a_)(kd, a + i0 * rsa, rsa, csa, k, mr, 8, apk);
        kd->narrow(k, apk, 1, 8, bp, ct);
    }
    kd->ep(ct, kd->nrn, c + i0 * rsc, rsc, csc, mr, (int)n, alpha, beta,
           bias ? bias + i0 * brs : NULL, brs, bcs, act);
}

static void FN(narrow_chunk_)(void *ctx, int ch, int nch)
{
    const FN(gemm_job_) *g = ctx;
    ptrdiff_t lo, hi;
    FN(split_)((g->m + 7) / 8, ch, nch, &lo, &hi);
    for (ptrdiff_t ib = lo; ib < hi; ib++)
        FN(narrow_block_)(g->kd, ib, g->m, g->n, g->k, g->alpha, g->a, g->rsa, g->csa, g->bp,
                          g->apk, g->beta, g->c, g->rsc, g->csc, g->bias, g->brs, g->bcs, g->act);
}

/* C with at most kd->nrn columns: pack all of B once (k x NRN, zero-padded), then each thread
 * takes blocks of 8 rows of A straight from memory. No k blocking: B's panel is small. */
static int FN(gemm_narrow_)(const FN(kdesc_) *kd, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, DT alpha,
                            const DT *a, ptrdiff_t rsa, ptrdiff_t csa, const DT *b, ptrdiff_t rsb,
                            ptrdiff_t csb, DT beta, DT *c, ptrdiff_t rsc, ptrdiff_t csc,
                            const DT *bias, ptrdiff_t brs, ptrdiff_t bcs, int act, int n_threads)
{
    const int NRN = kd->nrn;
    DT *bp = mn_workspace(0, (size_t)(k * NRN) * sizeof(DT));
    DT *apk = mn_workspace(1, (size_t)(k * 8) * sizeof(DT));
    if (!bp || !apk)
        return -1;
    FN(pack_b_)(kd, b, rsb, csb, k, (int)n, NRN, bp);
    const ptrdiff_t nb = (m + 7) / 8;
    const double flops = 2.0 * (double)m * (double)n * (double)k;
    const int nt = (n_threads > 1 && flops >= 2e5) ? (int)FN(min_)(n_threads, nb) : 1;
    FN(gemm_job_) g = {kd,   m, n,   k,   alpha, a,   rsa, csa, b,  rsb, csb,
                       beta, c, rsc, csc, bias,  brs, bcs, act, bp, apk};
    mn_parallel(nt, nt, FN(narrow_chunk_), &g);
    return 0;
}

/* One row of C := act(alpha * op(A)[i, :] @ op(B) + beta * C[i, :] + bias), via row (the
 * caller's buffer of n): axpys over B's rows, or dot products with B's columns, whichever is
 * contiguous. Columns [j0, j1) only, so threads can split a wide row. */
static void FN(small_row_)(const FN(kdesc_) *kd, ptrdiff_t i, ptrdiff_t j0, ptrdiff_t j1,
                           ptrdiff_t k, DT alpha, const DT *a, ptrdiff_t rsa, ptrdiff_t csa,
                           const DT *b, ptrdiff_t rsb, ptrdiff_t csb, DT beta, DT *c,
                           ptrdiff_t ldc, const DT *bias, int act, DT *row)
{
    const DT *ai = a + i * rsa;
    if (csb == 1) {
        for (ptrdiff_t j = j0; j < j1; j++)
            row[j] = 0;
        for (ptrdiff_t p = 0; p < k; p++)
            kd->axpy(j1 - j0, ai[p * csa], b + p * rsb + j0, row + j0);
    } else if (csa == 1 && rsb == 1) {
        for (ptrdiff_t j = j0; j < j1; j++)
            row[j] = kd->dot(ai, b + j * csb, k);
    } else {
        for (ptrdiff_t j = j0; j < j1; j++) {
            DT t = 0;
            for (ptrdiff_t p = 0; p < k; p++)
                t += ai[p * csa] * b[p * rsb + j * csb];
            row[j] = t;
        }
    }
    kd->ep(row + j0, 0, c + i * ldc + j0, ldc, 1, 1, (int)(j1 - j0), alpha, beta,
           bias ? bias + j0 : NULL, 0, 1, act);
}

static void FN(small_chunk_)(void *ctx, int ch, int nch)
{
    const FN(gemm_job_) *g = ctx;
    ptrdiff_t j0, j1;
    FN(split_)(g->n, ch, nch, &j0, &j1);
    if (j0 < j1)
        FN(small_row_)(g->kd, g->ic, j0, j1, g->k, g->alpha, g->a, g->rsa, g->csa, g->b, g->rsb,
                       g->csb, g->beta, g->c, g->rsc, g->bias, g->act, g->bp);
}

/* Tiny or vector-shaped products (a batch-1 layer, its outer-product weight gradient): packing
 * and tiling cost more than the arithmetic, and an 8 x 16 tile would be mostly padding. Rows of
 * C one at a time; a long row is split between threads. */
static int FN(gemm_small_)(const FN(kdesc_) *kd, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, DT alpha,
                           const DT *a, ptrdiff_t rsa, ptrdiff_t csa, const DT *b, ptrdiff_t rsb,
                           ptrdiff_t csb, DT beta, DT *c, ptrdiff_t ldc, const DT *bias, int act,
                           int n_threads)
{
    DT *row = mn_workspace(2, (size_t)n * sizeof(DT));
    if (!row)
        return -1;
    /* a row is a memory-bound stream: a second thread pays off only past what one L2 holds */
    const int nt = (n_threads > 1 && (double)n * (double)k >= 1048576.0) ? n_threads : 1;
    FN(gemm_job_) g = {kd,   m, n,   k, alpha, a, rsa, csa, b,   rsb, csb,
                       beta, c, ldc, 1, bias,  0, 1,   act, row, NULL};
    for (g.ic = 0; g.ic < m; g.ic++)
        mn_parallel(nt, nt, FN(small_chunk_), &g);
    return 0;
}

/* Padded area of a tiling: the work the micro-kernels actually do. */
static inline double FN(padded_)(ptrdiff_t m, ptrdiff_t n, int MR, int NR)
{
    return (double)((m + MR - 1) / MR * MR) * (double)((n + NR - 1) / NR * NR);
}

int FN(mn_gemm_)(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, DT alpha,
                 const DT *a, ptrdiff_t lda, const DT *b, ptrdiff_t ldb, DT beta, DT *c,
                 ptrdiff_t ldc, const DT *bias, int act, int isa, int n_threads)
{
    const FN(kdesc_) *kd = FN(pick_kernel_)(mn_effective_isa(isa));
    /* op(A)(i, p) = a[i*rsa + p*csa]; op(B)(p, j) = b[p*rsb + j*csb] */
    ptrdiff_t rsa = trans_a ? 1 : lda, csa = trans_a ? lda : 1;
    ptrdiff_t rsb = trans_b ? 1 : ldb, csb = trans_b ? ldb : 1;
    if (n_threads < 1)
        n_threads = 1;
    if (k > 0 && n <= INT32_MAX &&
        ((double)m * (double)n * (double)k <= 16384.0 || m <= 2 || n <= 2))
        return FN(gemm_small_)(kd, m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, ldc, bias,
                               act, n_threads);
    if (kd->narrow && k > 0) {
        if (n <= kd->nrn)
            return FN(gemm_narrow_)(kd, m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, ldc, 1,
                                    bias, 0, 1, act, n_threads);
        if (m <= kd->nrn)
            return FN(gemm_narrow_)(kd, n, m, k, alpha, b, csb, rsb, a, csa, rsa, beta, c, 1, ldc,
                                    bias, 1, 0, act, n_threads);
    }
    /* Narrowish N (17 to ~2 vectors): an NR-wide panel would mostly multiply padding. Compute
     * C^T = op(B)^T op(A)^T instead when that tiling wastes clearly less (a quarter): its
     * write-back is strided and scalar (the bias runs along rows), which a small saving in
     * padding does not pay for. */
    if (FN(padded_)(n, m, kd->mr, kd->nr) < 0.75 * FN(padded_)(m, n, kd->mr, kd->nr))
        return FN(gemm_strided_)(kd, n, m, k, alpha, b, csb, rsb, a, csa, rsa, beta, c, 1, ldc,
                                 bias, 1, 0, act, n_threads);
    return FN(gemm_strided_)(kd, m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, ldc, 1, bias,
                             0, 1, act, n_threads);
}

typedef struct {
    const DT *a;
    ptrdiff_t m, n, lda;
    DT *out;
    int accumulate;
} FN(colsum_job_);

static void FN(colsum_chunk_)(void *ctx, int ch, int nch)
{
    const FN(colsum_job_) *g = ctx;
    ptrdiff_t b0, b1;
    FN(split_)((g->n + 255) / 256, ch, nch, &b0, &b1);
    for (ptrdiff_t blk = b0; blk < b1; blk++) {
        const ptrdiff_t j0 = blk * 256, j1 = FN(min_)(g->n, j0 + 256);
        DT acc[256];
        for (ptrdiff_t j = j0; j < j1; j++)
            acc[j - j0] = g->accumulate ? g->out[j] : (DT)0;
        for (ptrdiff_t i = 0; i < g->m; i++) {
            const DT *row = g->a + i * g->lda;
            for (ptrdiff_t j = j0; j < j1; j++)
                acc[j - j0] += row[j];
        }
        for (ptrdiff_t j = j0; j < j1; j++)
            g->out[j] = acc[j - j0];
    }
}

void FN(mn_colsum_)(const DT *a, ptrdiff_t m, ptrdiff_t n, ptrdiff_t lda, DT *out, int accumulate,
                    int n_threads)
{
    /* Column blocks of 256 are independent: threads split them; each block sums row by row
     * so the inner loop is contiguous and vectorises. */
    const ptrdiff_t nb = (n + 255) / 256;
    int nt = (n_threads > 1 && (double)m * (double)n >= 65536.0 && nb > 1) ? n_threads : 1;
    if (nt > nb)
        nt = (int)nb;
    FN(colsum_job_) job = {a, m, n, lda, out, accumulate};
    mn_parallel(nt, nt, FN(colsum_chunk_), &job);
}

#undef FN
#undef DT
#undef SFX
#undef KC_MAX
#undef MC_MAX
#undef NC_MAX
#undef SCALAR_ACT
