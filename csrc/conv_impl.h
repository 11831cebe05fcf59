/* Instantiated by conv.c once per dtype: DT is the element type, SFX the name suffix. */
#include "names.h"

/* FN(name) -> name_SFX: FN(implicit_fwd) is implicit_fwd_{f32,f64} */
#define FN(name) MN_JOIN(name, SFX)
/* FN_ISA(name, isa) -> name_isa_SFX, the per-ISA copies: FN_ISA(ik_fwd, avx512) is
 * ik_fwd_avx512_f32 */
#define FN_ISA(name, isa) MN_JOIN(MN_JOIN(name, isa), SFX)
#define GEMM FN(gemm_in_team)

/* mn_gemm's single-threaded path still runs its loop nest's orphaned `omp for` loops, which
 * bind to the innermost enclosing parallel region: called as is from one of our batch threads,
 * it would split its work with the other threads' unrelated GEMMs. A team of one (cheap: an
 * inactive nested region) gives those loops a region of their own. */
static int FN(gemm_in_team)(int ta, int tb, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, DT alpha,
                            const DT *a, ptrdiff_t lda, const DT *b, ptrdiff_t ldb, DT beta, DT *c,
                            ptrdiff_t ldc, const DT *bias, int act, int isa, int n_threads)
{
    int rc = 0;
#ifdef _OPENMP
    if (omp_in_parallel()) {
#pragma omp parallel num_threads(1)
        rc = FN(mn_gemm)(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, act, isa, 1);
        return rc;
    }
#endif
    rc = FN(mn_gemm)(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, act, isa,
                     n_threads);
    return rc;
}

/* dst[j] := src[j] + bo, through a relu (v > 0 ? v : 0: NaN -> 0) when asked; dst may be src. */
static inline void FN(bias_act_row)(const DT *src, DT *dst, ptrdiff_t n, DT bo, int relu)
{
    if (relu) {
        for (ptrdiff_t j = 0; j < n; j++) {
            const DT v = src[j] + bo;
            dst[j] = v > 0 ? v : 0;
        }
    } else {
        for (ptrdiff_t j = 0; j < n; j++)
            dst[j] = src[j] + bo;
    }
}

/* [*j0, *j1): the output columns j < OW whose input column col0 + j*sw lies inside [0, W)
 * (empty, j0 == j1, when every tap of the column falls in the padding). */
static inline void FN(col_range)(ptrdiff_t col0, ptrdiff_t sw, ptrdiff_t W, ptrdiff_t OW,
                                 ptrdiff_t *j0, ptrdiff_t *j1)
{
    ptrdiff_t a = 0, b = OW;
    if (col0 < 0)
        a = (-col0 + sw - 1) / sw;
    if (col0 + (OW - 1) * sw >= W)
        b = (W - 1 - col0) >= 0 ? (W - 1 - col0) / sw + 1 : 0;
    if (a > OW)
        a = OW;
    if (b < a)
        b = a;
    *j0 = a;
    *j1 = b;
}

/* col_kp[(c*kh + p)*kw + q][i*ow + j] (rows ldc apart) := x_chw[c, i*sh - pad_t + p*dh, j*sw - pad_l + q*dw]
 * for the c_n channels starting at x_chw (zero outside the image). Chainer's im2col_cpu as a
 * loop: rows are unit-stride in j when sw == 1, so the inner copy is a memcpy-like run. */
static void FN(im2col)(const DT *x_chw, ptrdiff_t c_n, const mn_conv2d_geom *g, DT *col_kp,
                       ptrdiff_t ldc)
{
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
    DT *out = col_kp;
    for (ptrdiff_t c = 0; c < c_n; c++) {
        const DT *xc = x_chw + c * H * W;
        for (ptrdiff_t p = 0; p < g->kh; p++) {
            for (ptrdiff_t q = 0; q < g->kw; q++) {
                const ptrdiff_t col0 = q * g->dw - g->pad_l;
                ptrdiff_t j0, j1;
                FN(col_range)(col0, g->sw, W, OW, &j0, &j1);
                for (ptrdiff_t i = 0; i < OH; i++) {
                    const ptrdiff_t r = i * g->sh - g->pad_t + p * g->dh;
                    DT *o = out + i * OW;
                    if (r < 0 || r >= H) {
                        for (ptrdiff_t j = 0; j < OW; j++)
                            o[j] = 0;
                        continue;
                    }
                    const DT *xr = xc + r * W + col0;
                    for (ptrdiff_t j = 0; j < j0; j++)
                        o[j] = 0;
                    if (g->sw == 1) {
                        for (ptrdiff_t j = j0; j < j1; j++)
                            o[j] = xr[j];
                    } else {
                        for (ptrdiff_t j = j0; j < j1; j++)
                            o[j] = xr[j * g->sw];
                    }
                    for (ptrdiff_t j = j1; j < OW; j++)
                        o[j] = 0;
                }
                out += ldc;
            }
        }
    }
}

/* dx_chw[c, r, s] += sum of the col_kp entries that im2col copied from (c, r, s). */
static void FN(col2im)(const DT *col_kp, ptrdiff_t c_n, const mn_conv2d_geom *g, DT *dx_chw,
                       ptrdiff_t ldc)
{
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
    const DT *in = col_kp;
    for (ptrdiff_t c = 0; c < c_n; c++) {
        DT *xc = dx_chw + c * H * W;
        for (ptrdiff_t p = 0; p < g->kh; p++) {
            for (ptrdiff_t q = 0; q < g->kw; q++) {
                const ptrdiff_t col0 = q * g->dw - g->pad_l;
                ptrdiff_t j0, j1;
                FN(col_range)(col0, g->sw, W, OW, &j0, &j1);
                for (ptrdiff_t i = 0; i < OH; i++) {
                    const ptrdiff_t r = i * g->sh - g->pad_t + p * g->dh;
                    if (r < 0 || r >= H)
                        continue;
                    DT *xr = xc + r * W + col0;
                    const DT *o = in + i * OW;
                    if (g->sw == 1) {
                        for (ptrdiff_t j = j0; j < j1; j++)
                            xr[j] += o[j];
                    } else {
                        for (ptrdiff_t j = j0; j < j1; j++)
                            xr[j * g->sw] += o[j];
                    }
                }
                in += ldc;
            }
        }
    }
}

/* ---- direct convolution, one copy per ISA ----------------------------------------------- */
#if MN_X86
#define DFN(name) FN_ISA(name, avx512)
#define DATTR ATTR_AVX512
#include "conv_direct.h"
#undef DFN
#undef DATTR
#define DFN(name) FN_ISA(name, avx2)
#define DATTR ATTR_AVX2
#include "conv_direct.h"
#undef DFN
#undef DATTR
#endif
#define DFN(name) FN_ISA(name, generic)
#define DATTR
#include "conv_direct.h"
#undef DFN
#undef DATTR

/* Direct convolution when each output sums few taps: the GEMM's k would be tiny (k = 9 for
 * the 1-channel first layer and for depthwise 3x3), where packing and call overheads dominate
 * it. A forced algorithm (mn_conv2d_set_algorithm) overrides the choice, for the tests. */
static int FN(use_direct)(const mn_conv2d_geom *g)
{
    if (mn_conv2d_algorithm == MN_CONV_IM2COL || mn_conv2d_algorithm == MN_CONV_IMPLICIT)
        return 0;
    if (mn_conv2d_algorithm == MN_CONV_DIRECT)
        return 1;
    return (g->c_in / g->groups) * g->kh * g->kw <= 27;
}

/* Scratch (elements) of the stride-1 wide path: see conv_direct.h. */
static size_t FN(wide_scratch)(const mn_conv2d_geom *g, int bwd)
{
    const ptrdiff_t Hp = g->oh + (g->kh - 1) * g->dh, Wp = g->ow + (g->kw - 1) * g->dw;
    const ptrdiff_t img = g->c_in * Hp * Wp + g->kw * g->dw, L = g->oh * Wp;
    if (!bwd)
        return (size_t)(img + L);
    return (size_t)(g->c_out * L + g->kw * g->dw + 2 * img);
}

#if MN_X86
#define ISA_CALL(isa, name, ...)                                                           \
    do {                                                                                   \
        if ((isa) >= MN_ISA_AVX512)                                                        \
            FN_ISA(name, avx512)(__VA_ARGS__);                                             \
        else if ((isa) >= MN_ISA_AVX2)                                                     \
            FN_ISA(name, avx2)(__VA_ARGS__);                                               \
        else                                                                               \
            FN_ISA(name, generic)(__VA_ARGS__);                                            \
    } while (0)
#else
#define ISA_CALL(isa, name, ...) FN_ISA(name, generic)(__VA_ARGS__)
#endif

static int FN(direct_fwd_isa)(const DT *x, const DT *w, const DT *b, DT *y,
                              const mn_conv2d_geom *g, int act, int isa)
{
    if (g->sh == 1 && g->sw == 1) {
        DT *scratch = (DT *)mn_workspace(WS_CONV, FN(wide_scratch)(g, 0) * sizeof(DT));
        if (!scratch)
            return -1;
        ISA_CALL(isa, wide_fwd, x, w, b, y, g, act, scratch);
        return 0;
    }
    ISA_CALL(isa, direct_fwd, x, w, b, y, g, act);
    return 0;
}

static int FN(direct_bwd_isa)(const DT *dy, const DT *x, const DT *w, DT *dx, DT *dw_acc,
                              int first, const mn_conv2d_geom *g, int isa, DT *scratch)
{
    if (g->sh == 1 && g->sw == 1) {
        ISA_CALL(isa, wide_bwd, dy, x, w, dx, dw_acc, first, g, scratch);
        return 0;
    }
    ISA_CALL(isa, direct_bwd, dy, x, w, dx, dw_acc, first, g);
    return 0;
}
#undef ISA_CALL

static int FN(is_pointwise)(const mn_conv2d_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pad_t == 0 &&
           g->pad_l == 0 && g->oh == g->h && g->ow == g->w;
}

/* Images per GEMM: a 14x14 or 7x7 image gives the GEMM only 196 or 49 columns, too few to
 * amortise packing W and the call; lowering several images side by side into one column
 * matrix (K x nb*P, kept under ~1 MiB of L2) makes one wider GEMM. Blocks are fixed by the
 * shape, not by the thread count, so results do not depend on it. */
static ptrdiff_t FN(block_images)(const mn_conv2d_geom *g)
{
    const ptrdiff_t K = (g->c_in / g->groups) * g->kh * g->kw, P = g->oh * g->ow;
    ptrdiff_t nb = (mn_conv2d_block_cols + P - 1) / P;
    while (nb > 1 && (size_t)(K * nb * P) * sizeof(DT) > ((size_t)1 << 20))
        nb--;
    return nb < 1 ? 1 : nb;
}

/* Images n0 .. n0+nb-1 of the forward: per group, y_g (C_out_g x nb*P) =
 * W_g (C_out_g x K) @ col_g (K x nb*P), then bias and activation while copying each image's
 * rows out (nb == 1: the GEMM writes y in place). */
/* Stride 1, "wide" columns: each image is zero-padded once into rows of Wp = OW + (kW-1)*dW,
 * and the GEMM computes OH x Wp outputs per image, Wp - OW of each row garbage (dropped on the
 * way out). A column row (c, p, q) is then ONE contiguous copy of OH*Wp elements from the
 * padded plane at offset p*dH*Wp + q*dW, instead of OH bounds-checked copies of OW elements:
 * on 7x7 and 14x14 images im2col/col2im were a third of the time; the extra GEMM columns
 * (9/7, 16/14) cost less. */
static inline int FN(use_wide)(const mn_conv2d_geom *g)
{
    /* rows of 24+ outputs copy efficiently as they are (measured: 32x32 was 7% slower wide) */
    return mn_conv2d_wide && g->sh == 1 && g->sw == 1 && g->ow < 24 && !FN(is_pointwise)(g);
}

/* Pad channels [c0, c0 + c_n) of one image into xp (c_n planes of Hp x Wp). */
static void FN(pad_planes)(const DT *x_chw, ptrdiff_t c_n, const mn_conv2d_geom *g,
                           ptrdiff_t Hp, ptrdiff_t Wp, DT *xp)
{
    for (ptrdiff_t c = 0; c < c_n; c++) {
        const DT *xc = x_chw + c * g->h * g->w;
        DT *pc = xp + c * Hp * Wp;
        memset(pc, 0, (size_t)(Hp * Wp) * sizeof(DT));
        for (ptrdiff_t r = 0; r < g->h && r + g->pad_t < Hp; r++) {
            const ptrdiff_t n = g->w + g->pad_l <= Wp ? g->w : Wp - g->pad_l;
            if (n > 0)
                memcpy(pc + (r + g->pad_t) * Wp + g->pad_l, xc + r * g->w,
                       (size_t)n * sizeof(DT));
        }
    }
}

/* col_wide rows (c, p, q), each Lw = OH*Wp long at col + i*Lw with row stride ld. */
static void FN(im2col_wide)(const DT *xp, ptrdiff_t c_n, const mn_conv2d_geom *g, ptrdiff_t Hp,
                            ptrdiff_t Wp, DT *col, ptrdiff_t ld)
{
    const ptrdiff_t Lw = g->oh * Wp;
    for (ptrdiff_t c = 0; c < c_n; c++)
        for (ptrdiff_t p = 0; p < g->kh; p++)
            for (ptrdiff_t q = 0; q < g->kw; q++) {
                memcpy(col, xp + c * Hp * Wp + p * g->dh * Wp + q * g->dw,
                       (size_t)Lw * sizeof(DT));
                col += ld;
            }
}

/* Elements of the wide forward's per-thread scratch for blocks of nb images. */
static size_t FN(wide_fwd_scratch)(const mn_conv2d_geom *g, ptrdiff_t nb)
{
    const ptrdiff_t Hp = g->oh + (g->kh - 1) * g->dh, Wp = g->ow + (g->kw - 1) * g->dw;
    const ptrdiff_t cin_g = g->c_in / g->groups, cout_g = g->c_out / g->groups;
    const ptrdiff_t K = cin_g * g->kh * g->kw, ld = nb * g->oh * Wp;
    return (size_t)(cin_g * Hp * Wp + g->kw * g->dw + K * ld + cout_g * ld);
}

/* ---- implicit GEMM (stride 1), one copy of the micro-kernels per ISA --------------------
 * Tiles: AVX-512 8 rows x 2 zmm (16 accumulators, as the GEMM's), weight gradient 8 columns
 * x 2 zmm; AVX2 and SSE2 4 x 2 (16 and 8 vector registers to hold them). The header undefines
 * its parameters. */
#if MN_X86
#define IFN(name) FN_ISA(name, avx512)
#define IATTR ATTR_AVX512
#define IVB 64
#define IMR 8
#define INV 2
#define IKB 8
#include "conv_implicit.h"
#define IFN(name) FN_ISA(name, avx2)
#define IATTR ATTR_AVX2
#define IVB 32
#define IMR 4
#define INV 2
#define IKB 4
#include "conv_implicit.h"
#endif
#define IFN(name) FN_ISA(name, generic)
#define IATTR
#define IVB 16
#define IMR 4
#define INV 2
#define IKB 4
#include "conv_implicit.h"

typedef void (*FN(ik_fwd_fn))(ptrdiff_t, const DT *, const DT *, const ptrdiff_t *, ptrdiff_t,
                              DT *, ptrdiff_t);
typedef void (*FN(ik_st_fn))(ptrdiff_t, const DT *, const DT *, const ptrdiff_t *, ptrdiff_t,
                             DT *, ptrdiff_t, int, const ptrdiff_t *, const unsigned *,
                             const DT *, int);
typedef void (*FN(ik_dw_fn))(ptrdiff_t, ptrdiff_t, ptrdiff_t, const DT *const *, const DT *,
                             ptrdiff_t, DT *, ptrdiff_t);
typedef void (*FN(ik_dyt_fn))(const DT *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, DT *,
                              ptrdiff_t);
typedef void (*FN(ik_relu_fn))(const DT *, const DT *, ptrdiff_t, ptrdiff_t, DT *, double *);
typedef void (*FN(ik_ph_fn))(const DT *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                             ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, DT *);
typedef void (*FN(dwise_fn))(const DT *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                             const DT *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, DT, int,
                             DT *);
typedef void (*FN(dwise_dw_fn))(const DT *, const DT *, ptrdiff_t, const ptrdiff_t *,
                                ptrdiff_t, DT *);
typedef void (*FN(ik_int_fn))(const DT *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                              DT *, ptrdiff_t, ptrdiff_t);
typedef struct {
    ptrdiff_t mr, lanes, kb; /* tile rows, vector lanes (a tile is 2 vectors wide), dW cols */
    FN(ik_fwd_fn) fwd;       /* tile into a buffer */
    FN(ik_dw_fn) dw2, dw1;   /* weight-gradient tiles 2 and 1 vectors of channels wide */
    FN(ik_dyt_fn) dyt;       /* dY to pixel-major */
    FN(ik_int_fn) interior;  /* an image into the interior of its padded planes */
    FN(ik_relu_fn) relu;     /* dY masked by the forward's relu output, row sums */
    FN(ik_ph_fn) phases;     /* an image into its phase planes (strides) */
    FN(dwise_fn) dwise;      /* depthwise: one plane's output */
    FN(dwise_dw_fn) dwise_dw; /* depthwise: one plane's weight gradient */
    FN(ik_st_fn) st;         /* tile into the output (AVX-512), or NULL */
    int isa;                 /* the level these were chosen for (the fused pooling's too) */
} FN(ik_t);

#define IK_FNS(isa)                                                                        \
    FN_ISA(ik_fwd, isa), FN_ISA(ik_dw2, isa), FN_ISA(ik_dw1, isa), FN_ISA(ik_dyt, isa),    \
        FN_ISA(ik_interior, isa), FN_ISA(ik_relu_mask, isa), FN_ISA(ik_phases, isa),       \
        FN_ISA(dwise_plane, isa), FN_ISA(dwise_dw, isa)
static FN(ik_t) FN(ik_for)(int isa)
{
    FN(ik_t) ik;
#if MN_X86
    if (isa >= MN_ISA_AVX512) {
        ik = (FN(ik_t)){8, 64 / sizeof(DT), 8, IK_FNS(avx512)};
        ik.st = FN_ISA(ik_fwd_st, avx512);
        ik.isa = MN_ISA_AVX512;
        return ik;
    }
    if (isa >= MN_ISA_AVX2) {
        ik = (FN(ik_t)){4, 32 / sizeof(DT), 4, IK_FNS(avx2)};
        ik.isa = MN_ISA_AVX2;
        return ik;
    }
#endif
    ik = (FN(ik_t)){4, 16 / sizeof(DT), 4, IK_FNS(generic)};
    ik.isa = MN_ISA_GENERIC;
    return ik;
}
#undef IK_FNS

static inline ptrdiff_t FN(round_up)(ptrdiff_t a, ptrdiff_t m) { return (a + m - 1) / m * m; }

#if MN_X86 && DT_F32
#include "conv_rowtile.h"
#endif

/* Row tiles (conv_rowtile.h) for a product with `rows` output rows (C_out_g forward,
 * C_in_g for dX) over `chans` input planes: float32 on AVX-512, stride 1 (or 2 both ways
 * with s2: the forward and dW), dilation 1, 3 taps wide, 16+ rows (a block is 16 or 32 channels), 4+ planes (on the 1-channel first layer the
 * tile's epilogue outweighs its 27 FMAs a pixel: 0.24 -> 0.29 ms). Returns the channel vectors
 * per tile (1 or 2), or 0: the wide tiles. */
static int FN(rowtile_nv)(const mn_conv2d_geom *g, ptrdiff_t rows, ptrdiff_t chans, int isa,
                          int s2)
{
#if MN_X86 && DT_F32
    const int st = g->sh == g->sw && (g->sh == 1 || (s2 && g->sh == 2));
    if (mn_conv2d_rowtile && mn_effective_isa(isa) >= MN_ISA_AVX512 && st && g->dh == 1 &&
        g->dw == 1 && g->kw == 3 && rows >= 16 && chans >= 4)
        return rows > 16 ? 2 : 1;
#endif
    (void)g, (void)rows, (void)chans, (void)isa, (void)s2;
    return 0;
}

/* The implicit path takes stride-1 convolutions whose groups have 8+ output channels (a
 * tile has 8 rows: fewer, as in depthwise layers, leave the direct loops faster), when the
 * batch gives every thread an image (threads split the batch; a single image goes through
 * the im2col path, whose GEMM splits its columns between the threads). Measured on the
 * 1-channel first layer, forward: 2.7x faster than the direct loops, dW 1.5x; its dX (one
 * row of 8 used) stays direct: see implicit_takes_dx. */
static int FN(use_implicit)(const mn_conv2d_geom *g, int n_threads)
{
    if (mn_conv2d_algorithm == MN_CONV_IMPLICIT)
        return 1;
    return mn_conv2d_algorithm == MN_CONV_AUTO && g->n >= n_threads &&
           g->c_out / g->groups >= 8;
}

/* Pack the weight rows (c_out_g of them per group, each of K taps) into IMR-row micro-panels,
 * k-major, zero rows past the last: wp[(gi*Mp + ob)*K + k*mr + r] = w(gi, ob + r, k), where
 * w(gi, o, k) = src[(gi*rows + o)*K + k] (the forward), or, for the input gradient (flip),
 * the flipped transposed weight: row c, tap k = (o, p, q) -> w[gi*cout_g + o, c, kh-1-p,
 * kw-1-q]. */
static void FN(ik_pack)(const DT *w, const mn_conv2d_geom *g, int flip, ptrdiff_t mr, DT *wp)
{
    const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t kh = g->kh, kw = g->kw, khw = kh * kw;
    const ptrdiff_t rows = flip ? cin_g : cout_g, K = (flip ? cout_g : cin_g) * khw;
    const ptrdiff_t Mp = FN(round_up)(rows, mr);
    for (ptrdiff_t gi = 0; gi < G; gi++)
        for (ptrdiff_t ob = 0; ob < Mp; ob += mr)
            for (ptrdiff_t k = 0; k < K; k++)
                for (ptrdiff_t r = 0; r < mr; r++) {
                    const ptrdiff_t row = ob + r;
                    DT v = 0;
                    if (row < rows && !flip)
                        v = w[(gi * cout_g + row) * K + k];
                    else if (row < rows) {
                        const ptrdiff_t o = k / khw, pq = khw - 1 - k % khw;
                        v = w[((gi * cout_g + o) * cin_g + row) * khw + pq];
                    }
                    wp[(gi * Mp + ob) * K + k * mr + r] = v;
                }
}

/* Strides: the padded input split into sh x sw phase planes, plane (a, b) holding the
 * padded pixels (i*sh + a, j*sw + b). Tap (p, q) of output (i, j) reads padded pixel
 * (i*sh + p*dh, j*sw + q*dw), which is pixel (i + p*dh / sh, j + q*dw / sw) of phase
 * (p*dh % sh, q*dw % sw): contiguous in j again, so the stride-1 kernels apply unchanged over
 * planes of Hp x Wp = (OH + (kh-1)*dh / sh) x (OW + (kw-1)*dw / sw), laid out [a][b][c].
 * With stride 1 this is the one zero-bordered plane per channel. */
static void FN(ik_planes)(const mn_conv2d_geom *g, ptrdiff_t *Hp, ptrdiff_t *Wp)
{
    *Hp = g->oh + (g->kh - 1) * g->dh / g->sh;
    *Wp = g->ow + (g->kw - 1) * g->dw / g->sw;
}

/* off[(c*kh + p)*kw + q]: where row k of the implicit im2col matrix starts in the c_n
 * channels' planes (c*Hp*Wp + p*dh*Wp + q*dw at stride 1). */
static void FN(ik_offsets)(ptrdiff_t c_n, const mn_conv2d_geom *g, ptrdiff_t Hp, ptrdiff_t Wp,
                           ptrdiff_t *off)
{
    for (ptrdiff_t c = 0; c < c_n; c++)
        for (ptrdiff_t p = 0; p < g->kh; p++)
            for (ptrdiff_t q = 0; q < g->kw; q++) {
                const ptrdiff_t rr = p * g->dh, cc = q * g->dw;
                const ptrdiff_t phase = (rr % g->sh) * g->sw + cc % g->sw;
                *off++ = (phase * c_n + c) * Hp * Wp + rr / g->sh * Wp + cc / g->sw;
            }
}

/* Image x_chw (c_n planes of g->h x g->w) into the interior of zero-bordered padded planes
 * (Hp x Wp, the top-left pad from g): only the copy, the border is already zero. Rows and
 * columns past the planes feed no output and are skipped, as in pad_planes. */
static void FN(ik_pad)(const FN(ik_t) * ik, const DT *x_chw, ptrdiff_t c_n,
                       const mn_conv2d_geom *g, ptrdiff_t Hp, ptrdiff_t Wp, DT *xp)
{
    const ptrdiff_t rows = g->h < Hp - g->pad_t ? g->h : Hp - g->pad_t;
    const ptrdiff_t cols = g->w < Wp - g->pad_l ? g->w : Wp - g->pad_l;
    if (rows > 0 && cols > 0)
        ik->interior(x_chw, c_n, g->h, g->w, rows, cols, xp + g->pad_t * Wp + g->pad_l, Hp,
                     Wp);
}

/* The planes of one image: stride 1 copies the interior (border zeroed once per call),
 * strides rewrite the phase planes. */
static void FN(ik_fill)(const FN(ik_t) * ik, const DT *x_chw, ptrdiff_t c_n,
                        const mn_conv2d_geom *g, ptrdiff_t Hp, ptrdiff_t Wp, DT *xp)
{
    if (g->sh == 1 && g->sw == 1)
        FN(ik_pad)(ik, x_chw, c_n, g, Hp, Wp, xp);
    else
        ik->phases(x_chw, c_n, g->h, g->w, g->sh, g->sw, g->pad_t, g->pad_l, Hp, Wp, xp);
}

/* Where each vector of wide pixels goes in the output (AVX-512 tile store): ybase[u] = the
 * output index of the first valid pixel at or after t = u*lanes (pixels before it: full
 * rows times OW, plus the valid columns of its row), msk[u] = which lanes are valid
 * (t < T, column t % Wp < OW). */
static void FN(ik_masks)(ptrdiff_t T, ptrdiff_t Tp, ptrdiff_t Wp, ptrdiff_t OW,
                         ptrdiff_t lanes, ptrdiff_t *ybase, unsigned *msk)
{
    for (ptrdiff_t u = 0; u < Tp / lanes; u++) {
        const ptrdiff_t tv = u * lanes;
        ybase[u] = tv / Wp * OW + (tv % Wp < OW ? tv % Wp : OW);
        unsigned m = 0;
        for (ptrdiff_t l = 0; l < lanes; l++)
            if (tv + l < T && (tv + l) % Wp < OW)
                m |= 1u << l;
        msk[u] = m;
    }
}

/* One image's product: out rows 0..rows-1 (row stride ldy, OH x OW pixels each) :=
 * act(bias + wp-panels @ implicit im2col of the padded planes xp), T = OH*Wp wide pixels
 * padded to Tp. With the AVX-512 store the tiles go straight to out; otherwise through yw
 * (Mp x Tp) and a crop. */
static void FN(ik_image)(const FN(ik_t) * ik, ptrdiff_t K, ptrdiff_t rows, ptrdiff_t Tp,
                         ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t Wp, const DT *wp, const DT *xp,
                         const ptrdiff_t *off, ptrdiff_t kw, ptrdiff_t dwid, DT *out,
                         ptrdiff_t ldy, const DT *bias,
                         int relu, const ptrdiff_t *ybase, const unsigned *msk, DT *yw)
{
    const ptrdiff_t nr = 2 * ik->lanes, mr = ik->mr, Mp = FN(round_up)(rows, mr);
    const ptrdiff_t dw3 = kw == 3 ? dwid : 0;
    /* a column tile's k x nr block of the planes stays in L1 across the row blocks */
    if (ik->st) {
        /* (measured: grouping column tiles, or row blocks outermost, changes nothing; nor
         * does prefetching the next tile's planes) */
        for (ptrdiff_t t0 = 0; t0 < Tp; t0 += nr)
            for (ptrdiff_t ob = 0; ob < Mp; ob += mr)
                ik->st(K, wp + ob * K, xp + t0, off, dw3, out + ob * ldy, ldy,
                       (int)(rows - ob < mr ? rows - ob : mr), ybase + t0 / ik->lanes,
                       msk + t0 / ik->lanes, bias ? bias + ob : NULL, relu);
        return;
    }
    for (ptrdiff_t t0 = 0; t0 < Tp; t0 += nr)
        for (ptrdiff_t ob = 0; ob < Mp; ob += mr)
            ik->fwd(K, wp + ob * K, xp + t0, off, dw3, yw + ob * Tp + t0, Tp);
    for (ptrdiff_t o = 0; o < rows; o++) {
        const DT bo = bias ? bias[o] : 0;
        for (ptrdiff_t i = 0; i < OH; i++)
            FN(bias_act_row)(yw + o * Tp + i * Wp, out + o * ldy + i * OW, OW, bo, relu);
    }
}

/* Depthwise path (conv_implicit.h): stride 1, one input channel per group, groups of
 * fewer than 8 outputs (8+ go through the implicit tiles). */
static int FN(use_dwise)(const mn_conv2d_geom *g)
{
    return mn_conv2d_algorithm == MN_CONV_AUTO && g->sh == 1 && g->sw == 1 &&
           g->c_in == g->groups && g->c_out / g->groups < 8;
}

/* The backward takes it for any number of outputs per group: with one input channel, the
 * implicit dW^T tiles are mostly padding (8 taps, 9 used) and its dX tiles 1 row of 8; here
 * dX sums all the group's dY planes in registers. Measured on the 1-channel first layer:
 * dW 0.86 -> 0.71 ms, dX 1.7 -> 1.3 ms (1 thread). */
static int FN(use_dwise_bwd)(const mn_conv2d_geom *g)
{
    return mn_conv2d_algorithm == MN_CONV_AUTO && g->sh == 1 && g->sw == 1 &&
           g->c_in == g->groups && g->kh * g->kw <= 64;
}

/* Inside a team: this thread's scratch of n elements (mn_workspace slot WS_CONV), or NULL
 * with *fail set for the whole team when it is already set or the allocation fails (the
 * caller's barrier then lets every thread see it). */
static DT *FN(team_scratch)(size_t n, int *fail)
{
    int failed;
#pragma omp atomic read
    failed = *fail;
    DT *buf = failed ? NULL : (DT *)mn_workspace(WS_CONV, n * sizeof(DT));
    if (!buf) {
#pragma omp atomic write
        *fail = 1;
    }
    return buf;
}

/* dY of image n, group gi, for the per-image backward paths: dy itself; masked by the
 * forward's relu output (relu_y); or, with pool_code, spread from the pooled gradient dy
 * (N, C_out, OH/2, OW/2) onto the taps the fused forward's codes name. The last two write into
 * dym (C_out_g x P) and, when dbn is given, the planes' sums into dbn. */
static const DT *FN(dy_image)(const FN(ik_t) * ik, const DT *dy, const DT *relu_y,
                              const uint8_t *pool_code, const mn_conv2d_geom *g, ptrdiff_t n,
                              ptrdiff_t gi, DT *dym, double *dbn)
{
    const ptrdiff_t CO = g->c_out, cout_g = CO / g->groups, P = g->oh * g->ow;
    const ptrdiff_t c0 = n * CO + gi * cout_g;
    if (pool_code) {
        const ptrdiff_t pq = (g->oh / 2) * (g->ow / 2);
        FN(mn_relu_maxpool2x2_bwd)(dy + c0 * pq, pool_code + c0 * pq, cout_g, g->oh, g->ow, dym,
                                   dbn ? dbn + c0 : NULL, ik->isa);
        return dym;
    }
    if (relu_y) {
        ik->relu(dy + c0 * P, relu_y + c0 * P, cout_g, P, dym, dbn ? dbn + c0 : NULL);
        return dym;
    }
    return dy + c0 * P;
}

/* Forward: (image, group) planes split between the threads; each padded once into the
 * thread's zero-bordered plane, then every output channel of the group from it. */
static int FN(dwise_fwd)(const DT *x, const DT *w, const DT *b, DT *y, const mn_conv2d_geom *g,
                         int act, int isa, int n_threads)
{
    const FN(ik_t) ik = FN(ik_for)(mn_effective_isa(isa));
    const ptrdiff_t N = g->n, G = g->groups, cout_g = g->c_out / G, kh = g->kh, kw = g->kw;
    const ptrdiff_t OH = g->oh, OW = g->ow, P = OH * OW, HW = g->h * g->w;
    const ptrdiff_t Hp = OH + (kh - 1) * g->dh, Wp = OW + (kw - 1) * g->dw;
    const ptrdiff_t pn = Hp * Wp + 2 * ik.lanes, items = N * G;
    const int nt = (int)(items < n_threads ? (items > 0 ? items : 1) : n_threads);
    int err = 0;
#pragma omp parallel num_threads(nt) if (nt > 1) reduction(| : err)
    {
        const int t = omp_get_thread_num(), nth = omp_get_num_threads();
        const ptrdiff_t lo = items * t / nth, hi = items * (t + 1) / nth;
        DT *xp = hi > lo ? (DT *)mn_workspace(WS_CONV, (size_t)pn * sizeof(DT)) : NULL;
        if (hi > lo && !xp)
            err = 1;
        if (xp) {
            memset(xp, 0, (size_t)pn * sizeof(DT));
            for (ptrdiff_t it = lo; it < hi; it++) {
                const ptrdiff_t n = it / G, gi = it % G;
                FN(ik_pad)(&ik, x + (n * G + gi) * HW, 1, g, Hp, Wp, xp);
                for (ptrdiff_t o = 0; o < cout_g; o++) {
                    const ptrdiff_t oc = gi * cout_g + o;
                    ik.dwise(xp, 1, 0, Wp, OH, OW, w + oc * kh * kw, kh, kw, g->dh, g->dw,
                             b ? b[oc] : (DT)0, act == MN_ACT_RELU, y + (n * g->c_out + oc) * P);
                }
            }
        }
    }
    return err ? -1 : 0;
}

/* Backward (dY unmasked), planes split between the threads: dX of a plane is the depthwise
 * forward of its group's dY planes, padded by (kh-1)*dh - pad_t, with the flipped taps
 * (needs that padding >= 0: dx_ok); dW per thread, added in thread order; db from
 * per-plane sums (in double) added in image order, while the plane is in cache; relu_y:
 * each (image, group)'s dY planes masked into the thread's scratch first. */
static int FN(dwise_dx_ok)(const mn_conv2d_geom *g)
{
    return g->pad_t <= (g->kh - 1) * g->dh && g->pad_l <= (g->kw - 1) * g->dw;
}

static int FN(dwise_bwd)(const DT *dy, const DT *x, const DT *w, DT *dx, DT *dw, DT *db,
                         const DT *relu_y, const uint8_t *pool_code, const mn_conv2d_geom *g,
                         int isa, int n_threads)
{
    const FN(ik_t) ik = FN(ik_for)(mn_effective_isa(isa));
    const ptrdiff_t N = g->n, G = g->groups, CO = g->c_out, cout_g = CO / G;
    const ptrdiff_t kh = g->kh, kw = g->kw, khw = kh * kw, H = g->h, W = g->w, HW = H * W;
    const ptrdiff_t OH = g->oh, OW = g->ow, P = OH * OW, items = N * G;
    const ptrdiff_t Hp = OH + (kh - 1) * g->dh, Wp = OW + (kw - 1) * g->dw;
    const ptrdiff_t Hq = H + (kh - 1) * g->dh, Wq = W + (kw - 1) * g->dw;
    mn_conv2d_geom gt = *g;
    gt.h = OH;
    gt.w = OW;
    gt.pad_t = (kh - 1) * g->dh - g->pad_t;
    gt.pad_l = (kw - 1) * g->dw - g->pad_l;
    const ptrdiff_t dqn = dx ? cout_g * Hq * Wq + 2 * ik.lanes : 0;
    /* dW: x's plane (slack for the last vector's taps), dY's plane over wide rows */
    const ptrdiff_t Tw = FN(round_up)(OH * Wp, ik.lanes);
    const ptrdiff_t xpn = dw ? Hp * Wp + 2 * ik.lanes + (kw - 1) * g->dw : 0;
    const ptrdiff_t accn = dw ? CO * khw : 0, dywn = dw ? Tw : 0;
    const int own_dy = relu_y || pool_code; /* dY made per image, in scratch */
    const ptrdiff_t dymn = own_dy ? cout_g * P : 0;
    ptrdiff_t toff[64];
    if (dw && khw > 64)
        return -2; /* not taken: see use_dwise_bwd */
    for (ptrdiff_t p = 0; p < kh && dw; p++)
        for (ptrdiff_t q = 0; q < kw; q++)
            toff[p * kw + q] = p * g->dh * Wp + q * g->dw;
    DT *wf = dx ? (DT *)malloc((size_t)(CO * khw) * sizeof(DT)) : NULL;
    double *dbn = db ? (double *)malloc((size_t)(N * CO) * sizeof(double) + 1) : NULL;
    if ((dx && !wf) || (db && !dbn)) {
        free(wf);
        free(dbn);
        return -1;
    }
    for (ptrdiff_t oc = 0; dx && oc < CO; oc++)
        for (ptrdiff_t k = 0; k < khw; k++)
            wf[oc * khw + k] = w[oc * khw + khw - 1 - k];
    const int nt = (int)(items < n_threads ? (items > 0 ? items : 1) : (n_threads > 256 ? 256
                                                                                  : n_threads));
    DT *part[256];
    int fail = 0;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int t = omp_get_thread_num(), nth = omp_get_num_threads();
        const ptrdiff_t lo = items * t / nth, hi = items * (t + 1) / nth;
        DT *buf = FN(team_scratch)((size_t)(dqn + xpn + accn + dymn + dywn + 1), &fail);
        part[t] = NULL;
#pragma omp barrier
        if (!fail) {
            DT *dyp = buf, *xp = buf + dqn, *acc = xp + xpn, *dym = acc + accn;
            DT *dyw = dym + dymn;
            memset(buf, 0, (size_t)(dqn + xpn + accn + dymn + dywn) * sizeof(DT));
            part[t] = acc;
            for (ptrdiff_t it = lo; it < hi; it++) {
                const ptrdiff_t n = it / G, gi = it % G;
                const DT *dyg = FN(dy_image)(&ik, dy, relu_y, pool_code, g, n, gi, dym, dbn);
                for (ptrdiff_t o = 0; db && !own_dy && o < cout_g; o++) {
                    const DT *r = dyg + o * P;
                    DT sum = 0;
#pragma omp simd reduction(+ : sum)
                    for (ptrdiff_t q = 0; q < P; q++)
                        sum += r[q];
                    dbn[n * CO + gi * cout_g + o] = sum;
                }
                if (dx) {
                    FN(ik_pad)(&ik, dyg, cout_g, &gt, Hq, Wq, dyp);
                    ik.dwise(dyp, cout_g, Hq * Wq, Wq, H, W, wf + gi * cout_g * khw, kh, kw,
                             g->dh, g->dw, (DT)0, 0, dx + (n * G + gi) * HW);
                }
                if (dw) {
                    FN(ik_pad)(&ik, x + (n * G + gi) * HW, 1, g, Hp, Wp, xp);
                    for (ptrdiff_t o = 0; o < cout_g; o++) {
                        ik.interior(dyg + o * P, 1, OH, OW, OH, OW, dyw, OH, Wp);
                        ik.dwise_dw(dyw, xp, Tw, toff, khw, acc + (gi * cout_g + o) * khw);
                    }
                }
            }
        }
#pragma omp barrier
        if (dw && !fail) {
            const ptrdiff_t a = accn * t / nth, e = accn * (t + 1) / nth;
            for (ptrdiff_t i = a; i < e; i++) {
                DT sum = 0;
                for (int u = 0; u < nth; u++)
                    sum += part[u][i];
                dw[i] = sum;
            }
        }
    }
    for (ptrdiff_t oc = 0; db && !fail && oc < CO; oc++) {
        double sum = 0;
        for (ptrdiff_t n = 0; n < N; n++)
            sum += dbn[n * CO + oc];
        db[oc] = (DT)sum;
    }
    free(wf);
    free(dbn);
    return fail ? -1 : 0;
}

/* Forward, images split between the threads. Per image and group: pad the channels into
 * wide planes, yw = W_g @ im2col (implicit), then crop the valid columns into y, adding
 * the bias and applying the activation on the way. Returns 0, or -1 on OOM. */
static int FN(implicit_fwd)(const DT *x, const DT *w, const DT *b, DT *y, uint8_t *code,
                            const mn_conv2d_geom *g, int act, int isa, int n_threads)
{
    const FN(ik_t) ik = FN(ik_for)(mn_effective_isa(isa));
    const ptrdiff_t N = g->n, G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t K = cin_g * g->kh * g->kw, OH = g->oh, OW = g->ow, P = OH * OW;
    ptrdiff_t Hp, Wp;
    FN(ik_planes)(g, &Hp, &Wp);
    const ptrdiff_t T = OH * Wp, Tp = FN(round_up)(T, 2 * ik.lanes);
    const int rt = FN(rowtile_nv)(g, cout_g, cin_g, isa, 1); /* row tiles, 16*rt channels */
    /* their planes at stride 2: the padded input itself (rows of 2*OW + 1), not phases */
    const ptrdiff_t Hr = g->sh * (OH - 1) + g->kh, Wr = g->sw * (OW - 1) + 3;
    const ptrdiff_t mr = rt ? 16 * rt : ik.mr;
    const ptrdiff_t Mp = FN(round_up)(cout_g, mr), xpn = g->sh * g->sw * cin_g * Hp * Wp;
    /* a tile reads up to Tp - T + (kw-1)*dw/sw elements past the last plane: zeros */
    const ptrdiff_t slack = FN(round_up)(Tp - T + (g->kw - 1) * g->dw / g->sw + 1, 16);
    const ptrdiff_t xs = g->c_in * g->h * g->w, ys = g->c_out * P;
    DT *wp = (DT *)malloc((size_t)(G * Mp * K) * sizeof(DT));
    ptrdiff_t *off = (ptrdiff_t *)malloc((size_t)(K + Tp) * sizeof(ptrdiff_t));
    unsigned *msk = (unsigned *)malloc((size_t)Tp * sizeof(unsigned));
    ptrdiff_t *ybase = off ? off + K : NULL;
    int err = !wp || !off || !msk;
    if (err) { /* (inside the region below, err is each thread's own reduction copy) */
        free(wp);
        free(off);
        free(msk);
        return -1;
    }
    FN(ik_pack)(w, g, 0, mr, wp);
    FN(ik_offsets)(cin_g, g, Hp, Wp, off);
    FN(ik_masks)(T, Tp, Wp, OW, ik.lanes, ybase, msk);
    const int nt = (int)(N < n_threads ? (N > 0 ? N : 1) : n_threads);
#pragma omp parallel num_threads(nt) if (nt > 1) reduction(| : err)
    {
        const int t = omp_get_thread_num(), nth = omp_get_num_threads();
        const ptrdiff_t lo = N * t / nth, hi = N * (t + 1) / nth;
        const size_t need = (size_t)(xpn + slack + (ik.st ? 0 : Mp * Tp) + (code ? ys : 0));
        DT *xp = hi == lo ? NULL : (DT *)mn_workspace(WS_CONV, need * sizeof(DT));
        if (!xp && hi > lo)
            err = 1;
        if (xp) {
            /* pooled: the image's output stays in this scratch, pooled from cache into y */
            DT *yimg = code ? xp + need - ys : NULL;
            memset(xp, 0, (size_t)(xpn + slack) * sizeof(DT)); /* the border, once */
            for (ptrdiff_t n = lo; n < hi; n++) {
                DT *yn = code ? yimg : y + n * ys;
                for (ptrdiff_t gi = 0; gi < G; gi++) {
#if MN_X86 && DT_F32
                    if (rt) {
                        FN(ik_pad)(&ik, x + n * xs + gi * cin_g * g->h * g->w, cin_g, g, Hr, Wr,
                                   xp);
                        rowtile_image(cin_g, g->kh, wp + gi * Mp * K, K, cout_g, rt,
                                      (int)g->sh, xp, Hr, Wr, OH, OW, yn + gi * cout_g * P, P,
                                      b ? b + gi * cout_g : NULL, act == MN_ACT_RELU);
                        continue;
                    }
#endif
                    FN(ik_fill)(&ik, x + n * xs + gi * cin_g * g->h * g->w, cin_g, g, Hp, Wp,
                                xp);
                    FN(ik_image)(&ik, K, cout_g, Tp, OH, OW, Wp, wp + gi * Mp * K, xp, off,
                                 g->kw, g->sw == 1 ? g->dw : 0, yn + gi * cout_g * P, P,
                                 b ? b + gi * cout_g : NULL, act == MN_ACT_RELU, ybase, msk,
                                 xp + xpn + slack);
                }
                if (code) {
                    const ptrdiff_t pq = g->c_out * (OH / 2) * (OW / 2);
                    FN(mn_relu_maxpool2x2_fwd)(yimg, g->c_out, OH, OW, y + n * pq,
                                               code + n * pq, ik.isa);
                }
            }
        }
    }
    free(msk);
    free(wp);
    free(off);
    return err ? -1 : 0;
}

/* ---- dX of strided (or over-padded) convolutions on the implicit path --------------------
 * dx[c, r, s] sums w[o, c, p, q] * dy[o, i, j] over r + pad_t = i*sh + p*dh and
 * s + pad_l = j*sw + q*dw. Split dx into phases (a, b) = ((r + pad_t) % sh, (s + pad_l) % sw):
 * phase (a, b) gets exactly the taps with p*dh % sh == a and q*dw % sw == b, and for them
 * i = u - m_p, j = v - n_q (u = (r + pad_t) / sh, m_p = p*dh / sh, ...): a stride-1
 * correlation of dY with the phase's sub-kernel. Every phase is one implicit product over
 * the same zero-bordered dY planes (rows of Wq), its output rows u' = u - u0_a, and each dx
 * pixel belongs to one phase: the same FLOPs as the forward, and no col2im. */
typedef struct {
    ptrdiff_t nph, Hq, Wq, Mt, Nl, Mq, Tpmax, Kq;
    ptrdiff_t *K, *u0, *U, *v0, *V, *kofs; /* per phase; kofs: first tap of the phase */
    ptrdiff_t *off;                         /* Kq tap offsets, phase by phase */
    DT *wp;                                 /* per group, per phase: Mq x K panels */
} FN(dxs_plan);

static void FN(dxs_free)(FN(dxs_plan) * pl)
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

static int FN(dxs_make)(const mn_conv2d_geom *g, const FN(ik_t) * ik, const DT *w,
                        FN(dxs_plan) * pl)
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
                            pl->off[k++] = o * Hq * Wq +
                                           (ru0[a] - p * g->dh / sh + Mt) * Wq +
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
                                        c < cin_g ? w[(((gi * cout_g + o) * cin_g + c) * kh + p) *
                                                          kw + q]
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
static size_t FN(dxs_scratch)(const FN(dxs_plan) * pl, ptrdiff_t cout_g)
{
    return (size_t)(cout_g * pl->Hq * pl->Wq + pl->Tpmax + pl->Wq + 16 +
                    pl->nph * pl->Mq * pl->Tpmax);
}

/* dx of one image and group (cin_g planes at dxg) from its dY planes dyg: every phase's
 * product into yw (phase ph at ph*Mq*Tpmax; a phase without taps is zeros), then the rows of
 * dx assembled from them (stride 2 across: the two column phases interleaved in one loop). */
static void FN(dxs_image)(const FN(dxs_plan) * pl, const FN(ik_t) * ik, const DT *dyg,
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
                    const DT *pe = yw + (a * 2 + e) * step + at, *po = yw + (a * 2 + o) * step + at;
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

/* dX through the implicit path (auto): groups of 8+ input channels, its tiles' rows. */
static int FN(implicit_takes_dx)(const mn_conv2d_geom *g)
{
    if (g->sh > 64 || g->sw > 64)
        return 0;
    return mn_conv2d_algorithm == MN_CONV_IMPLICIT || g->c_in / g->groups >= 8;
}

/* Stride 1 with padding within the kernel's reach: dX is one flipped convolution (below);
 * otherwise the phases of dxs_image. */
static int FN(dx_is_flipped_conv)(const mn_conv2d_geom *g)
{
    return g->sh == 1 && g->sw == 1 && g->pad_t <= (g->kh - 1) * g->dh &&
           g->pad_l <= (g->kw - 1) * g->dw;
}

/* Backward, images split between the threads, per image and group:
 *  - dX (stride 1) is a forward convolution of dY, padded by (kh-1)*dh - pad_t, with the
 *    flipped, transposed weight: the same implicit product, C_in_g rows, K = C_out_g*kh*kw.
 *  - dW^T (K x C_out_g) += im2col(x) @ dY^T, with dY transposed to pixel-major over the wide
 *    rows (zeros in the garbage columns) and x's wide planes read in place; each thread sums
 *    its images into its own dW^T, and the partial sums are added in thread order.
 *  - relu_y: dY masked per image (into the thread's scratch) before both; db (only then
 *    computed here) from per-image channel sums added in image order, so that it does not
 *    depend on the thread count.
 * Returns 0, or -1 on OOM. */
static int FN(implicit_bwd)(const DT *dy, const DT *x, const DT *w, DT *dx, DT *dw, DT *db,
                            const DT *relu_y, const uint8_t *pool_code,
                            const mn_conv2d_geom *g, int isa, int n_threads)
{
    const FN(ik_t) ik = FN(ik_for)(mn_effective_isa(isa));
    const ptrdiff_t N = g->n, G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t kh = g->kh, kw = g->kw, H = g->h, W = g->w, HW = H * W;
    const ptrdiff_t K = cin_g * kh * kw, OH = g->oh, OW = g->ow, P = OH * OW;
    const ptrdiff_t xs = g->c_in * HW, ys = g->c_out * P, nr = 2 * ik.lanes;
    /* dX: dY padded into Hq x Wq planes, output H x Wq wide, rows cin_g (Mq padded) */
    mn_conv2d_geom gt = *g;
    gt.h = OH;
    gt.w = OW;
    gt.pad_t = (kh - 1) * g->dh - g->pad_t;
    gt.pad_l = (kw - 1) * g->dw - g->pad_l;
    const ptrdiff_t Hq = H + (kh - 1) * g->dh, Wq = W + (kw - 1) * g->dw, Kq = cout_g * kh * kw;
    const int rt = dx && FN(dx_is_flipped_conv)(g) ? FN(rowtile_nv)(g, cin_g, cout_g, isa, 0)
                                                   : 0;
    /* dW by row tiles too (conv_rowtile.h: rowdw_image), same conditions with C_out_g rows */
    const int rtw = dw && g->ow >= 2 && FN(rowtile_nv)(g, cout_g, cin_g, isa, 1) != 0;
    /* their planes: the padded input itself (rows of sw*(OW-1) + 3), not stride phases */
    const ptrdiff_t Hr = g->sh * (OH - 1) + kh, Wr = g->sw * (OW - 1) + 3;
    const ptrdiff_t mrq = rt ? 16 * rt : ik.mr;
    const ptrdiff_t Tq = H * Wq, Tqp = FN(round_up)(Tq, nr), Mq = FN(round_up)(cin_g, mrq);
    const ptrdiff_t dypn = cout_g * Hq * Wq;
    const ptrdiff_t slq = FN(round_up)(Tqp - Tq + (kw - 1) * g->dw + 1, 16);
    /* dW: x padded into Hp x Wp (phase) planes, dY^T over T = OH*Wp wide pixels x Cp channels */
    ptrdiff_t Hp, Wp;
    FN(ik_planes)(g, &Hp, &Wp);
    const ptrdiff_t T = OH * Wp;
    const ptrdiff_t Cp = FN(round_up)(cout_g, ik.lanes), Kp = FN(round_up)(K, ik.kb);
    const ptrdiff_t xpn = g->sh * g->sw * cin_g * Hp * Wp;
    const ptrdiff_t slp = FN(round_up)((kw - 1) * g->dw / g->sw + 1, 16);
    const ptrdiff_t dwtn = G * Kp * Cp;
    const int own_dy = relu_y || pool_code; /* dY made per image, in scratch */
    const ptrdiff_t dymn = own_dy ? cout_g * P : 0;
    const int dxgen = dx && !FN(dx_is_flipped_conv)(g);
    FN(dxs_plan) plan;
    if (dxgen && FN(dxs_make)(g, &ik, w, &plan))
        return -1;
    const ptrdiff_t dxgn = dxgen ? cout_g * plan.Hq * plan.Wq + plan.Tpmax + plan.Wq + 16 : 0;
    const size_t need = (size_t)((dxgen ? (ptrdiff_t)FN(dxs_scratch)(&plan, cout_g)
                                  : dx ? dypn + slq + (ik.st ? 0 : Mq * Tqp) : 0) +
                                 (dw ? xpn + slp + T * Cp + dwtn : 0) + dymn);
    double *dbn = (own_dy && db) ? (double *)malloc((size_t)(N * g->c_out) * sizeof(double))
                                 : NULL;
    DT *wfp = dx && !dxgen ? (DT *)malloc((size_t)(G * Mq * Kq) * sizeof(DT)) : NULL;
    ptrdiff_t *offq = (ptrdiff_t *)malloc((size_t)(Kq + K + Tqp) * sizeof(ptrdiff_t));
    ptrdiff_t *off = offq ? offq + Kq : NULL, *ybase = offq ? offq + Kq + K : NULL;
    unsigned *msk = (unsigned *)malloc((size_t)Tqp * sizeof(unsigned));
    int err = (dx && !dxgen && !wfp) || !offq || !msk || (own_dy && db && !dbn);
    if (!err) {
        if (dx && !dxgen) {
            FN(ik_pack)(w, g, 1, mrq, wfp);
            FN(ik_offsets)(cout_g, g, Hq, Wq, offq);
            FN(ik_masks)(Tq, Tqp, Wq, W, ik.lanes, ybase, msk);
        }
        FN(ik_offsets)(cin_g, g, Hp, Wp, off);
    }
    const int nt = (int)(N < n_threads ? (N > 0 ? N : 1) : (n_threads > 256 ? 256 : n_threads));
    DT *part[256];
    int fail = err;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int t = omp_get_thread_num(), nth = omp_get_num_threads();
        const ptrdiff_t lo = N * t / nth, hi = N * (t + 1) / nth;
        DT *buf = FN(team_scratch)(need, &fail);
        part[t] = NULL;
#pragma omp barrier
        if (!fail) {
            DT *dyp = buf, *dxw = dyp + (dxgen ? dxgn : dx ? dypn + slq : 0);
            DT *xp = dxgen ? buf + FN(dxs_scratch)(&plan, cout_g)
                           : dxw + (dx && !ik.st ? Mq * Tqp : 0);
            DT *dyt = xp + xpn + slp;
            DT *dwt = dyt + T * Cp, *dym = buf + need - dymn;
            if (dx) /* the borders, once */
                memset(dyp, 0, (size_t)(dxgen ? dxgn : dypn + slq) * sizeof(DT));
            if (dw) {
                memset(xp, 0, (size_t)(xpn + slp) * sizeof(DT));
                memset(dyt, 0, (size_t)(T * Cp + dwtn) * sizeof(DT));
                part[t] = dwt;
            }
            for (ptrdiff_t n = lo; n < hi; n++)
                for (ptrdiff_t gi = 0; gi < G; gi++) {
                    const DT *dyg = FN(dy_image)(&ik, dy, relu_y, pool_code, g, n, gi, dym,
                                                 dbn);
                    if (dxgen) {
                        FN(dxs_image)(&plan, &ik, dyg, g, gi, dx + n * xs + gi * cin_g * HW, dyp,
                                      dxw);
                    } else if (dx) {
                        FN(ik_pad)(&ik, dyg, cout_g, &gt, Hq, Wq, dyp);
#if MN_X86 && DT_F32
                        if (rt)
                            rowtile_image(cout_g, kh, wfp + gi * Mq * Kq, Kq, cin_g, rt, 1, dyp,
                                          Hq, Wq, H, W, dx + n * xs + gi * cin_g * HW, HW,
                                          NULL, 0);
                        else
#endif
                        FN(ik_image)(&ik, Kq, cin_g, Tqp, H, W, Wq, wfp + gi * Mq * Kq, dyp,
                                     offq, kw, g->dw, dx + n * xs + gi * cin_g * HW, HW, NULL,
                                     0, ybase,
                                     msk, dxw);
                    }
                    if (dw) {
                        if (rtw)
                            FN(ik_pad)(&ik, x + n * xs + gi * cin_g * HW, cin_g, g, Hr, Wr, xp);
                        else
                            FN(ik_fill)(&ik, x + n * xs + gi * cin_g * HW, cin_g, g, Hp, Wp, xp);
                        /* dY^T: garbage columns and padding channels zero */
                        ik.dyt(dyg, cout_g, OH, OW, Wp, dyt, Cp);
                        DT *dwg = dwt + gi * Kp * Cp;
#if MN_X86 && DT_F32
                        if (rtw)
                            rowdw_image(cin_g, kh, (int)g->sh, OH, OW, xp, Hr, Wr, dyt, Wp, Cp,
                                        dwg);
                        else
#endif
                        for (ptrdiff_t kb = 0; kb < Kp; kb += ik.kb) {
                            const DT *src[16];
                            for (ptrdiff_t kk = 0; kk < ik.kb; kk++)
                                src[kk] = xp + off[kb + kk < K ? kb + kk : K - 1];
                            ptrdiff_t ob = 0;
                            for (; ob + nr <= Cp; ob += nr)
                                ik.dw2(OH, OW, Wp, src, dyt + ob, Cp, dwg + kb * Cp + ob, Cp);
                            if (ob < Cp)
                                ik.dw1(OH, OW, Wp, src, dyt + ob, Cp, dwg + kb * Cp + ob, Cp);
                        }
                    }
                }
        }
#pragma omp barrier
        if (dw && !fail) {
            /* dw[gi, o, k] = sum over threads of dwt[gi, k, o]; each thread a slice of the
             * rows (gi, o). (An index split per element cost three divisions an element:
             * a quarter of dW's time at 7x7.) */
            const ptrdiff_t rows = G * cout_g, a = rows * t / nth, e = rows * (t + 1) / nth;
            for (ptrdiff_t r = a; r < e; r++) {
                const ptrdiff_t gi = r / cout_g, o = r % cout_g;
                for (ptrdiff_t k = 0; k < K; k++) {
                    const ptrdiff_t at = (gi * Kp + k) * Cp + o;
                    DT s = 0;
                    for (int u = 0; u < nth; u++)
                        s += part[u][at];
                    dw[r * K + k] = s;
                }
            }
        }
    }
    if (dbn && !fail)
        for (ptrdiff_t o = 0; o < g->c_out; o++) {
            double sum = 0;
            for (ptrdiff_t n = 0; n < N; n++)
                sum += dbn[n * g->c_out + o];
            db[o] = (DT)sum;
        }
    free(wfp);
    free(offq);
    free(msk);
    free(dbn);
    if (dxgen)
        FN(dxs_free)(&plan);
    return fail ? -1 : 0;
}

static int FN(conv_fwd_block_wide)(const DT *x, const DT *w, const DT *b, DT *y,
                                   const mn_conv2d_geom *g, int act, int isa,
                                   int gemm_threads, ptrdiff_t n0, ptrdiff_t nb)
{
    const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t K = cin_g * g->kh * g->kw, P = g->oh * g->ow, HW = g->h * g->w;
    const ptrdiff_t Hp = g->oh + (g->kh - 1) * g->dh, Wp = g->ow + (g->kw - 1) * g->dw;
    const ptrdiff_t OH = g->oh, OW = g->ow, Lw = OH * Wp, ld = nb * Lw;
    const ptrdiff_t xs = g->c_in * HW, ys = g->c_out * P, xpn = cin_g * Hp * Wp + g->kw * g->dw;
    DT *xp = (DT *)mn_workspace(WS_CONV, FN(wide_fwd_scratch)(g, nb) * sizeof(DT));
    if (!xp)
        return -1;
    DT *col = xp + xpn, *yt = col + K * ld;
    memset(xp + cin_g * Hp * Wp, 0, (size_t)(g->kw * g->dw) * sizeof(DT));
    for (ptrdiff_t gi = 0; gi < G; gi++) {
        for (ptrdiff_t i = 0; i < nb; i++) {
            FN(pad_planes)(x + (n0 + i) * xs + gi * cin_g * HW, cin_g, g, Hp, Wp, xp);
            FN(im2col_wide)(xp, cin_g, g, Hp, Wp, col + i * Lw, ld);
        }
        if (GEMM(0, 0, cout_g, ld, K, 1, w + gi * cout_g * K, K, col, ld, 0, yt, ld, NULL, 0,
                 isa, gemm_threads))
            return -1;
        for (ptrdiff_t i = 0; i < nb; i++)
            for (ptrdiff_t o = 0; o < cout_g; o++) {
                const DT bo = b ? b[gi * cout_g + o] : 0;
                DT *row = y + (n0 + i) * ys + (gi * cout_g + o) * P;
                for (ptrdiff_t r = 0; r < OH; r++)
                    FN(bias_act_row)(yt + o * ld + i * Lw + r * Wp, row + r * OW, OW, bo,
                                     act == MN_ACT_RELU);
            }
    }
    return 0;
}

static int FN(conv_fwd_block)(const DT *x, const DT *w, const DT *b, DT *y,
                              const mn_conv2d_geom *g, int act, int isa, int gemm_threads,
                              ptrdiff_t n0, ptrdiff_t nb)
{
    const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t K = cin_g * g->kh * g->kw, P = g->oh * g->ow, HW = g->h * g->w;
    const ptrdiff_t xs = g->c_in * HW, ys = g->c_out * P, ld = nb * P;
    if (FN(use_direct)(g)) {
        for (ptrdiff_t i = 0; i < nb; i++)
            if (FN(direct_fwd_isa)(x + (n0 + i) * xs, w, b, y + (n0 + i) * ys, g, act,
                                   mn_effective_isa(isa)))
                return -1;
        return 0;
    }
    if (FN(use_wide)(g))
        return FN(conv_fwd_block_wide)(x, w, b, y, g, act, isa, gemm_threads, n0, nb);
    const int pw = nb == 1 && FN(is_pointwise)(g);
    DT *col = NULL, *yt = NULL;
    if (!pw) {
        col = (DT *)mn_workspace(WS_CONV, (size_t)(K * ld + (nb > 1 ? cout_g * ld : 0)) *
                                             sizeof(DT));
        if (!col)
            return -1;
        yt = col + K * ld;
    }
    for (ptrdiff_t gi = 0; gi < G; gi++) {
        const DT *bmat = x + n0 * xs + gi * cin_g * HW;
        if (!pw) {
            for (ptrdiff_t i = 0; i < nb; i++)
                FN(im2col)(x + (n0 + i) * xs + gi * cin_g * HW, cin_g, g, col + i * P, ld);
            bmat = col;
        }
        DT *dst = nb == 1 ? y + n0 * ys + gi * cout_g * P : yt;
        if (GEMM(0, 0, cout_g, ld, K, 1, w + gi * cout_g * K, K, bmat, ld, 0, dst, ld, NULL, 0,
                 isa, gemm_threads))
            return -1;
        if (nb == 1 && !b && !act)
            continue;
        for (ptrdiff_t i = 0; i < nb; i++) {
            for (ptrdiff_t o = 0; o < cout_g; o++) {
                const DT *src = dst + o * ld + (nb == 1 ? 0 : i * P);
                DT *row = y + (n0 + i) * ys + (gi * cout_g + o) * P;
                const DT bo = b ? b[gi * cout_g + o] : 0;
                FN(bias_act_row)(src, row, P, bo, act == MN_ACT_RELU);
            }
        }
    }
    return 0;
}

int FN(mn_conv2d_fwd)(const DT *x, const DT *w, const DT *b, DT *y, const mn_conv2d_geom *g,
                      int act, int isa, int n_threads)
{
    const ptrdiff_t xs = g->c_in * g->h * g->w, ys = g->c_out * g->oh * g->ow;
    if (n_threads < 1)
        n_threads = 1;
    if (FN(use_implicit)(g, n_threads))
        return FN(implicit_fwd)(x, w, b, y, NULL, g, act, isa, n_threads);
    if (FN(use_dwise)(g))
        return FN(dwise_fwd)(x, w, b, y, g, act, isa, n_threads);
    int err = 0;
    (void)xs;
    (void)ys;
    const ptrdiff_t nb = FN(block_images)(g), nblk = (g->n + nb - 1) / nb;
    if (n_threads == 1 || nblk < n_threads) {
        for (ptrdiff_t k = 0; k < nblk && !err; k++) {
            const ptrdiff_t n0 = k * nb, cnt = g->n - n0 < nb ? g->n - n0 : nb;
            err |= FN(conv_fwd_block)(x, w, b, y, g, act, isa, n_threads, n0, cnt);
        }
        return err ? -1 : 0;
    }
#pragma omp parallel for schedule(static) num_threads(n_threads) reduction(| : err)
    for (ptrdiff_t k = 0; k < nblk; k++) {
        const ptrdiff_t n0 = k * nb, cnt = g->n - n0 < nb ? g->n - n0 : nb;
        err |= FN(conv_fwd_block)(x, w, b, y, g, act, isa, 1, n0, cnt);
    }
    return err ? -1 : 0;
}

/* conv2d + relu + 2x2 stride-2 max pooling (conv.h). On the implicit path each image's
 * output is pooled from the thread's scratch and never written out; elsewhere the whole
 * output is computed first, then pooled. */
int FN(mn_conv2d_relu_pool_fwd)(const DT *x, const DT *w, const DT *b, DT *p, uint8_t *code,
                                const mn_conv2d_geom *g, int isa, int n_threads)
{
    const ptrdiff_t OH = g->oh, OW = g->ow, ys = g->c_out * OH * OW;
    const ptrdiff_t pq = g->c_out * (OH / 2) * (OW / 2);
    if (n_threads < 1)
        n_threads = 1;
    if (FN(use_implicit)(g, n_threads))
        return FN(implicit_fwd)(x, w, b, p, code, g, MN_ACT_RELU, isa, n_threads);
    DT *y = (DT *)malloc((size_t)(g->n * ys) * sizeof(DT) + 1);
    if (!y)
        return -1;
    int rc = FN(mn_conv2d_fwd)(x, w, b, y, g, MN_ACT_RELU, isa, n_threads);
    const int nt = (n_threads > 1 && g->n * ys >= 32768) ? n_threads : 1;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (ptrdiff_t n = 0; n < g->n * (rc == 0); n++)
        FN(mn_relu_maxpool2x2_fwd)(y + n * ys, g->c_out, OH, OW, p + n * pq, code + n * pq,
                                   mn_effective_isa(isa));
    free(y);
    return rc;
}

/* One image of the backward. dw_acc (C_out x K), when given, accumulates dY_g col_g^T
 * (beta = first ? 0 : 1); dx_chw, when given, is overwritten with col2im(W_g^T dY_g). */
/* Elements of per-image scratch the backward needs (col, or the direct path's wide planes). */
static size_t FN(bwd_scratch)(const mn_conv2d_geom *g)
{
    if (FN(use_direct)(g))
        return g->sh == 1 && g->sw == 1 ? FN(wide_scratch)(g, 1) : 1;
    if (FN(is_pointwise)(g))
        return 1;
    return (size_t)((g->c_in / g->groups) * g->kh * g->kw * g->oh * g->ow);
}

static int FN(conv_bwd_image)(const DT *dy_chw, const DT *x_chw, const DT *w, const DT *wt,
                              DT *dx_chw, DT *dw_acc, int first, const mn_conv2d_geom *g,
                              int isa, int gemm_threads, DT *col)
{
    const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t K = cin_g * g->kh * g->kw, P = g->oh * g->ow, HW = g->h * g->w;
    if (FN(use_direct)(g)) {
        return FN(direct_bwd_isa)(dy_chw, x_chw, w, dx_chw, dw_acc, first, g,
                                  mn_effective_isa(isa), col);
    }
    const int pw = FN(is_pointwise)(g);
    if (dx_chw && !pw)
        memset(dx_chw, 0, (size_t)(g->c_in * HW) * sizeof(DT));
    for (ptrdiff_t gi = 0; gi < G; gi++) {
        const DT *dyg = dy_chw + gi * cout_g * P;
        const DT *wg = w + gi * cout_g * K;
        if (dw_acc) {
            const DT *xg = x_chw + gi * cin_g * HW;
            const DT *bmat = xg;
            if (!pw) {
                FN(im2col)(xg, cin_g, g, col, P);
                bmat = col;
            }
            /* dW_g (C_out_g x K) += dY_g (C_out_g x P) @ col_g^T (P x K) */
            if (GEMM(0, 1, cout_g, K, P, 1, dyg, P, bmat, P, first ? 0 : 1,
                     dw_acc + gi * cout_g * K, K, NULL, 0, isa, gemm_threads))
                return -1;
        }
        if (dx_chw) {
            DT *dxg = dx_chw + gi * cin_g * HW;
            /* dcol (K x P) = W_g^T (K x C_out_g) @ dY_g (C_out_g x P); 1x1: dcol is dx_g.
             * W^T was transposed once per call (wt): the GEMM packs a transposed A slowly. */
            DT *dcol = pw ? dxg : col;
            (void)wg;
            if (GEMM(0, 0, K, P, cout_g, 1, wt + gi * K * cout_g, cout_g, dyg, P, 0, dcol, P,
                     NULL, 0, isa, gemm_threads))
                return -1;
            if (!pw)
                FN(col2im)(col, cin_g, g, dxg, P);
        }
    }
    return 0;
}

/* Backward of images lo..hi-1 on the im2col path, in blocks of nb images side by side:
 * dY's rows gathered into dyb (C_out_g x nb*P), then per group
 *   dW_g += dyb @ col^T        (k = nb*P instead of P per call)
 *   dcol  = W_g^T @ dyb        (W^T transposed once per call: wt), col2im'd into dx
 * acc (may be NULL) receives dW (beta 0 on the first block), dx (may be NULL) dX. */
/* bwd_blocked over wide rows (see use_wide): dY's rows gathered with zeros in the garbage
 * columns, so they add nothing to dW and give exact zeros in dcol's garbage columns; col2im
 * is one contiguous add per column row into the padded plane, cropped into dx. */
static int FN(bwd_blocked_wide)(const DT *dy, const DT *x, const DT *wt, DT *dx, DT *acc,
                                ptrdiff_t lo, ptrdiff_t hi, const mn_conv2d_geom *g, int isa,
                                int gemm_threads, DT *scratch)
{
    const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t K = cin_g * g->kh * g->kw, P = g->oh * g->ow, HW = g->h * g->w;
    const ptrdiff_t Hp = g->oh + (g->kh - 1) * g->dh, Wp = g->ow + (g->kw - 1) * g->dw;
    const ptrdiff_t OH = g->oh, OW = g->ow, Lw = OH * Wp, slack = g->kw * g->dw;
    const ptrdiff_t xs = g->c_in * HW, ys = g->c_out * P, xpn = cin_g * Hp * Wp + slack;
    const ptrdiff_t nbmax = FN(block_images)(g);
    for (ptrdiff_t n0 = lo; n0 < hi; n0 += nbmax) {
        const ptrdiff_t nb = hi - n0 < nbmax ? hi - n0 : nbmax, ld = nb * Lw;
        DT *xp = scratch, *col = scratch + xpn, *dyb = col + K * ld;
        for (ptrdiff_t gi = 0; gi < G; gi++) {
            for (ptrdiff_t i = 0; i < nb; i++)
                for (ptrdiff_t o = 0; o < cout_g; o++) {
                    const DT *src = dy + (n0 + i) * ys + (gi * cout_g + o) * P;
                    DT *dst = dyb + o * ld + i * Lw;
                    for (ptrdiff_t r = 0; r < OH; r++) {
                        memcpy(dst + r * Wp, src + r * OW, (size_t)OW * sizeof(DT));
                        for (ptrdiff_t j = OW; j < Wp; j++)
                            dst[r * Wp + j] = 0;
                    }
                }
            if (acc) {
                memset(xp + cin_g * Hp * Wp, 0, (size_t)slack * sizeof(DT));
                for (ptrdiff_t i = 0; i < nb; i++) {
                    FN(pad_planes)(x + (n0 + i) * xs + gi * cin_g * HW, cin_g, g, Hp, Wp, xp);
                    FN(im2col_wide)(xp, cin_g, g, Hp, Wp, col + i * Lw, ld);
                }
                if (GEMM(0, 1, cout_g, K, ld, 1, dyb, ld, col, ld, n0 == lo ? 0 : 1,
                         acc + gi * cout_g * K, K, NULL, 0, isa, gemm_threads))
                    return -1;
            }
            if (dx) {
                if (GEMM(0, 0, K, ld, cout_g, 1, wt + gi * K * cout_g, cout_g, dyb, ld, 0, col,
                         ld, NULL, 0, isa, gemm_threads))
                    return -1;
                for (ptrdiff_t i = 0; i < nb; i++) {
                    memset(xp, 0, (size_t)xpn * sizeof(DT));
                    const DT *dc = col + i * Lw;
                    for (ptrdiff_t c = 0; c < cin_g; c++)
                        for (ptrdiff_t p = 0; p < g->kh; p++)
                            for (ptrdiff_t q = 0; q < g->kw; q++) {
                                DT *restrict d = xp + c * Hp * Wp + p * g->dh * Wp + q * g->dw;
                                const DT *restrict sr = dc;
                                for (ptrdiff_t t = 0; t < Lw; t++)
                                    d[t] += sr[t];
                                dc += ld;
                            }
                    DT *dxi = dx + (n0 + i) * xs + gi * cin_g * HW;
                    for (ptrdiff_t c = 0; c < cin_g; c++)
                        for (ptrdiff_t r = 0; r < g->h; r++)
                            for (ptrdiff_t s2 = 0; s2 < g->w; s2++)
                                dxi[(c * g->h + r) * g->w + s2] =
                                    (r + g->pad_t < Hp && s2 + g->pad_l < Wp)
                                        ? xp[c * Hp * Wp + (r + g->pad_t) * Wp + s2 + g->pad_l]
                                        : (DT)0;
                }
            }
        }
    }
    return 0;
}

static int FN(bwd_blocked)(const DT *dy, const DT *x, const DT *wt, DT *dx, DT *acc,
                           ptrdiff_t lo, ptrdiff_t hi, const mn_conv2d_geom *g, int isa,
                           int gemm_threads, DT *scratch)
{
    if (FN(use_wide)(g))
        return FN(bwd_blocked_wide)(dy, x, wt, dx, acc, lo, hi, g, isa, gemm_threads, scratch);
    const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t K = cin_g * g->kh * g->kw, P = g->oh * g->ow, HW = g->h * g->w;
    const ptrdiff_t xs = g->c_in * HW, ys = g->c_out * P, nbmax = FN(block_images)(g);
    if (dx)
        memset(dx + lo * xs, 0, (size_t)((hi - lo) * xs) * sizeof(DT));
    for (ptrdiff_t n0 = lo; n0 < hi; n0 += nbmax) {
        const ptrdiff_t nb = hi - n0 < nbmax ? hi - n0 : nbmax, ld = nb * P;
        DT *col = scratch, *dyb = scratch + K * ld;
        for (ptrdiff_t gi = 0; gi < G; gi++) {
            for (ptrdiff_t i = 0; i < nb; i++)
                for (ptrdiff_t o = 0; o < cout_g; o++)
                    memcpy(dyb + o * ld + i * P, dy + (n0 + i) * ys + (gi * cout_g + o) * P,
                           (size_t)P * sizeof(DT));
            if (acc) {
                for (ptrdiff_t i = 0; i < nb; i++)
                    FN(im2col)(x + (n0 + i) * xs + gi * cin_g * HW, cin_g, g, col + i * P, ld);
                if (GEMM(0, 1, cout_g, K, ld, 1, dyb, ld, col, ld, n0 == lo ? 0 : 1,
                         acc + gi * cout_g * K, K, NULL, 0, isa, gemm_threads))
                    return -1;
            }
            if (dx) {
                if (GEMM(0, 0, K, ld, cout_g, 1, wt + gi * K * cout_g, cout_g, dyb, ld, 0, col,
                         ld, NULL, 0, isa, gemm_threads))
                    return -1;
                for (ptrdiff_t i = 0; i < nb; i++)
                    FN(col2im)(col + i * P, cin_g, g, dx + (n0 + i) * xs + gi * cin_g * HW, ld);
            }
        }
    }
    return 0;
}

/* dx and/or dw (not both NULL, N > 0) on the im2col or direct path. */
static int FN(bwd_classic)(const DT *dy, const DT *x, const DT *w, DT *dx, DT *dw,
                           const mn_conv2d_geom *g, int isa, int n_threads)
{
    const ptrdiff_t xs = g->c_in * g->h * g->w, ys = g->c_out * g->oh * g->ow;
    const ptrdiff_t P = g->oh * g->ow, N = g->n, CO = g->c_out;
    const ptrdiff_t wsz = CO * (g->c_in / g->groups) * g->kh * g->kw;
    int err = 0;
    /* dX as a forward convolution of dY (stride 1, padding at most the dilated kernel's
     * reach): dx[n, c] = sum_o corr(dy[n, o], flip(w[o, c])) with padding (kh-1)*dh - pad_t
     * and output H x W. It runs the forward's blocked im2col GEMMs (k = C_out_g*kH*kW) and
     * needs no col2im scatter: faster than W^T dY + col2im one image at a time, but slower
     * than the blocked W^T dY + col2im below (its GEMM has m = C_in), so off by default. */
    if (mn_conv2d_dx_as_conv && dx && !FN(use_direct)(g) && g->sh == 1 && g->sw == 1 &&
        g->pad_t <= (g->kh - 1) * g->dh &&
        g->pad_l <= (g->kw - 1) * g->dw && !FN(is_pointwise)(g)) {
        const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = CO / G;
        const ptrdiff_t kh = g->kh, kw = g->kw;
        DT *wf = (DT *)malloc((size_t)wsz * sizeof(DT));  /* weight-sized: small */
        if (!wf)
            return -1;
        /* wf[(gi*cin_g + c), o, p, q] = w[(gi*cout_g + o), c, kh-1-p, kw-1-q] */
        for (ptrdiff_t gi = 0; gi < G; gi++)
            for (ptrdiff_t c = 0; c < cin_g; c++)
                for (ptrdiff_t o = 0; o < cout_g; o++)
                    for (ptrdiff_t p = 0; p < kh; p++)
                        for (ptrdiff_t q = 0; q < kw; q++)
                            wf[(((gi * cin_g + c) * cout_g + o) * kh + p) * kw + q] =
                                w[(((gi * cout_g + o) * cin_g + c) * kh + kh - 1 - p) * kw +
                                  kw - 1 - q];
        mn_conv2d_geom gt = *g;
        gt.c_in = CO;
        gt.h = g->oh;
        gt.w = g->ow;
        gt.c_out = g->c_in;
        gt.oh = g->h;
        gt.ow = g->w;
        gt.pad_t = (kh - 1) * g->dh - g->pad_t;
        gt.pad_l = (kw - 1) * g->dw - g->pad_l;
        const int rc = FN(mn_conv2d_fwd)(dy, wf, NULL, dx, &gt, 0, isa, n_threads);
        free(wf);
        if (rc)
            return -1;
        dx = NULL;
        if (!dw)
            return 0;
    }
    /* W_g^T (K x C_out_g) per group, once per call */
    DT *wt = NULL;
    if (dx && !FN(use_direct)(g)) {
        const ptrdiff_t G = g->groups, cout_g = CO / G, K = wsz / CO;
        wt = (DT *)malloc((size_t)wsz * sizeof(DT));
        if (!wt)
            return -1;
        for (ptrdiff_t gi = 0; gi < G; gi++)
            for (ptrdiff_t o = 0; o < cout_g; o++)
                for (ptrdiff_t k = 0; k < K; k++)
                    wt[gi * K * cout_g + k * cout_g + o] = w[(gi * cout_g + o) * K + k];
    }
    const int blocked = !FN(use_direct)(g);
    const size_t colsz = !blocked ? FN(bwd_scratch)(g)
                         : FN(use_wide)(g) ? FN(wide_fwd_scratch)(g, FN(block_images)(g))
                         : (size_t)(((g->c_in + CO) / g->groups * g->kh * g->kw) *
                                    FN(block_images)(g) * P);
    if (n_threads == 1 || N < n_threads) {
        DT *col = (DT *)mn_workspace(WS_CONV, colsz * sizeof(DT));
        if (!col)
            err = 1;
        if (blocked && !err)
            err = FN(bwd_blocked)(dy, x, wt, dx, dw, 0, N, g, isa, n_threads, col) ? 1 : 0;
        for (ptrdiff_t n = 0; n < N && !err && !blocked; n++)
            err |= FN(conv_bwd_image)(dy + n * ys, x + n * xs, w, wt, dx ? dx + n * xs : NULL,
                                      dw, n == 0, g, isa, n_threads, col);
        free(wt);
        return err ? -1 : 0;
    }
    /* Each thread accumulates dW over a contiguous block of images (thread 0 straight into
     * dw, the others into the front of their workspace, before their columns), then the
     * partial sums are added in thread order. */
    DT *part[256];
    int nt = n_threads > 256 ? 256 : n_threads;
#pragma omp parallel num_threads(nt) reduction(| : err)
    {
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        const ptrdiff_t lo = N * t / T, hi = N * (t + 1) / T;
        const size_t own = (dw && t > 0) ? (size_t)wsz : 0;
        DT *buf = (DT *)mn_workspace(WS_CONV, (own + colsz) * sizeof(DT));
        DT *acc = NULL, *col = buf ? buf + own : NULL;
        if (!buf)
            err = 1;
        if (dw) {
            acc = t == 0 ? dw : buf;
            part[t] = acc;
            if (acc && hi == lo)
                memset(acc, 0, (size_t)wsz * sizeof(DT));
        }
        if (blocked && !err && hi > lo)
            err = FN(bwd_blocked)(dy, x, wt, dx, acc, lo, hi, g, isa, 1, col) ? 1 : 0;
        for (ptrdiff_t n = lo; n < hi && !err && !blocked; n++)
            err |= FN(conv_bwd_image)(dy + n * ys, x + n * xs, w, wt,
                                      dx ? dx + n * xs : NULL, acc, n == lo, g, isa, 1, col);
#pragma omp barrier
        if (dw && !err) {
            /* reduce: each thread sums a slice of the weight over the partials */
            const ptrdiff_t a = wsz * t / T, bnd = wsz * (t + 1) / T;
            for (int u = 1; u < T; u++) {
                const DT *pu = part[u];
                if (!pu)
                    continue;
                for (ptrdiff_t i = a; i < bnd; i++)
                    dw[i] += pu[i];
            }
        }
    }
    free(wt);
    return err ? -1 : 0;
}


int FN(mn_conv2d_bwd)(const DT *dy, const DT *x, const DT *w, DT *dx, DT *dw, DT *db,
                      const DT *relu_y, const uint8_t *pool_code, const mn_conv2d_geom *g,
                      int isa, int n_threads)
{
    const ptrdiff_t ys = g->c_out * g->oh * g->ow;
    const ptrdiff_t P = g->oh * g->ow, N = g->n, CO = g->c_out;
    const ptrdiff_t wsz = CO * (g->c_in / g->groups) * g->kh * g->kw;
    if (n_threads < 1)
        n_threads = 1;
    const int dws = N > 0 && (dx || dw) && FN(use_dwise_bwd)(g);
    const int dws_dx = dws && dx && FN(dwise_dx_ok)(g);
    const int impl = N > 0 && (dx || dw) && !dws && FN(use_implicit)(g, n_threads);
    const int impl_dx = impl && dx && FN(implicit_takes_dx)(g);
    DT *masked = NULL;
    if ((relu_y || pool_code) && !(impl && (!dx || impl_dx)) && !(dws && (!dx || dws_dx))) {
        /* some gradient goes through a path that reads dY whole: mask (or unpool) it once */
        masked = (DT *)malloc((size_t)(N * ys) * sizeof(DT) + 1);
        if (!masked)
            return -1;
        const int ntm = (n_threads > 1 && N * ys >= 32768) ? n_threads : 1;
        const ptrdiff_t pq = CO * (g->oh / 2) * (g->ow / 2);
        if (pool_code) {
#pragma omp parallel for schedule(static) num_threads(ntm) if (ntm > 1)
            for (ptrdiff_t n = 0; n < N; n++)
                FN(mn_relu_maxpool2x2_bwd)(dy + n * pq, pool_code + n * pq, CO, g->oh, g->ow,
                                           masked + n * ys, NULL, mn_effective_isa(isa));
        } else {
#pragma omp parallel for schedule(static) num_threads(ntm) if (ntm > 1)
            for (ptrdiff_t i = 0; i < N * ys; i++)
                masked[i] = relu_y[i] > 0 ? dy[i] : (DT)0;
        }
        dy = masked;
        relu_y = NULL;
        pool_code = NULL;
    }
    const int own_dy = relu_y || pool_code;
    if (db && !own_dy && !dws) {
        /* sum over n and pixels, per channel (threads split the channels; each sum has one
         * fixed order); an image's row is summed with omp simd, the rows added in double so
         * float32 keeps its digits */
        const int ntb = (n_threads > 1 && N * P * CO >= 32768) ? n_threads : 1;
#pragma omp parallel for schedule(static) num_threads(ntb) if (ntb > 1)
        for (ptrdiff_t o = 0; o < CO; o++) {
            double s = 0;
            for (ptrdiff_t n = 0; n < N; n++) {
                const DT *r = dy + n * ys + o * P;
                DT t = 0;
#pragma omp simd reduction(+ : t)
                for (ptrdiff_t p = 0; p < P; p++)
                    t += r[p];
                s += t;
            }
            db[o] = (DT)s;
        }
    }
    int rc = 0;
    if (!dx && !dw) {
        /* nothing else asked */
    } else if (N == 0) {
        if (dw)
            memset(dw, 0, (size_t)wsz * sizeof(DT));
    } else if (dws) {
        rc = FN(dwise_bwd)(dy, x, w, dws_dx ? dx : NULL, dw, db, relu_y, pool_code, g, isa,
                           n_threads);
        if (!rc && dx && !dws_dx) /* relu_y is NULL here: masked */
            rc = FN(bwd_classic)(dy, x, w, dx, NULL, g, isa, n_threads);
    } else if (impl) {
        rc = FN(implicit_bwd)(dy, x, w, impl_dx ? dx : NULL, dw, own_dy ? db : NULL, relu_y,
                              pool_code, g, isa, n_threads);
        if (!rc && dx && !impl_dx) /* dx by the other paths (relu_y is NULL here: masked) */
            rc = FN(bwd_classic)(dy, x, w, dx, NULL, g, isa, n_threads);
    } else {
        rc = FN(bwd_classic)(dy, x, w, dx, dw, g, isa, n_threads);
    }
    free(masked);
    return rc;
}

#undef GEMM
#undef FN
#undef FN_ISA
