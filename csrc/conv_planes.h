/* What the per-image paths (depthwise, strided dX, implicit GEMM) share, and the im2col path
 * too for bias_act_row (per dtype, included by conv_impl.h). The per-image paths give each
 * thread whole images and read them from zero-bordered planes: an image is copied once into
 * the interior of planes whose border stays zero for the whole call, so that every tap is an
 * in-bounds read and the inner loops need no bounds checks.
 *   bias_act_row  one output row's bias and relu, on the way out of a product
 *   round_up      a rounded up to a multiple of m
 *   ik_pad        an image into the interior of its padded planes
 *   dy_image      one image's dY: as given, masked by the relu, or unpooled from pool_code */

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

static inline ptrdiff_t FN(round_up)(ptrdiff_t a, ptrdiff_t m) { return (a + m - 1) / m * m; }

/* Image x_chw (c_n planes of g->h x g->w) into the interior of zero-bordered padded planes
 * (Hp x Wp, the top-left pad from g): only the copy, the border is already zero. Rows and
 * columns past the planes feed no output and are skipped, as in pad_planes (conv_im2col.h). */
static void FN(ik_pad)(const FN(ik_t) *ik, const DT *x_chw, ptrdiff_t c_n, const mn_conv2d_geom *g,
                       ptrdiff_t Hp, ptrdiff_t Wp, DT *xp)
{
    const ptrdiff_t rows = g->h < Hp - g->pad_t ? g->h : Hp - g->pad_t;
    const ptrdiff_t cols = g->w < Wp - g->pad_l ? g->w : Wp - g->pad_l;
    if (rows > 0 && cols > 0)
        ik->interior(x_chw, c_n, g->h, g->w, rows, cols, xp + g->pad_t * Wp + g->pad_l, Hp, Wp);
}

/* dY of image n, group gi, for the per-image backward paths: dy itself; masked by the
 * forward's relu output (relu_y); or, with pool_code, spread from the pooled gradient dy
 * (N, C_out, OH/2, OW/2) onto the taps the fused forward's codes name. The last two write into
 * dym (C_out_g x P) and, when dbn is given, the planes' sums into dbn. */
static const DT *FN(dy_image)(const FN(ik_t) *ik, const DT *dy, const DT *relu_y,
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
