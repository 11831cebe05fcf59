/* Which path a convolution takes: the family's automatic decisions, in one place (per dtype,
 * included by conv_impl.h; conv_entry.h applies them). Each predicate reads only the
 * geometry, the thread count, the ISA and the knobs of conv.h, so a shape always takes the
 * same path; mn_conv2d_set_algorithm forces one where it applies, for the tests.
 * Forward, first match:
 *   implicit GEMM  groups of 8+ outputs, an image per thread       use_implicit
 *   depthwise      stride 1, one input channel per group           use_dwise
 *   direct loops   C_in/groups * kH * kW <= 27                     use_direct (per block)
 *   im2col + GEMM  the rest; over "wide" rows at stride 1, OW < 24 use_wide
 * Backward: depthwise (use_dwise_bwd), else implicit (use_implicit), else im2col/direct.
 * dX stays with the depthwise or implicit path when dwise_dx_ok or implicit_takes_dx, else it
 * goes through im2col; on the implicit path it is one flipped convolution where
 * dx_is_flipped_conv, else the strided phases (conv_dx_strided.h). Row tiles replace the
 * implicit wide tiles where rowtile_nv says so (float32, AVX-512 and AVX2). */

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

/* 1x1, stride 1, no padding: an image is its own im2col matrix, the GEMM reads x in place. */
static int FN(is_pointwise)(const mn_conv2d_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pad_t == 0 &&
           g->pad_l == 0 && g->oh == g->h && g->ow == g->w;
}

/* The im2col path's stride-1 "wide" columns (conv_im2col.h: pad_planes, im2col_wide). */
static inline int FN(use_wide)(const mn_conv2d_geom *g)
{
    /* rows of 24+ outputs copy efficiently as they are: the wide rows' extra GEMM columns
     * would cost more than the shorter copies save */
    return mn_conv2d_wide && g->sh == 1 && g->sw == 1 && g->ow < 24 && !FN(is_pointwise)(g);
}

/* Row tiles (conv_rowtile.h) for a product with `rows` output rows (C_out_g forward,
 * C_in_g for dX) over `chans` input planes: float32 on AVX-512 or AVX2, stride 1 (or 2 both
 * ways with s2: the forward and dW, 3 taps only), dilation 1, 3 or 5 taps wide (5: the
 * forward and dX; the driver keeps 5-wide dW on the wide tiles), 16+ rows, 4+ planes (on the
 * 1-channel first layer the tile's epilogue outweighs its 27 FMAs a pixel). Returns the
 * channels of a tile's block: 16 or 32 (AVX-512: one or two zmm), 8 (AVX2: one ymm), or 0:
 * the wide tiles. (The dW row tiles are AVX-512 only: the driver asks for 16+.) */
static int FN(rowtile_nv)(const mn_conv2d_geom *g, ptrdiff_t rows, ptrdiff_t chans, int isa,
                          int s2)
{
#if MN_X86 && DT_F32
    const int st = g->sh == g->sw && (g->sh == 1 || (s2 && g->sh == 2 && g->kw == 3));
    const int level = mn_effective_isa(isa);
    if (mn_conv2d_rowtile && level >= MN_ISA_AVX2 && st && g->dh == 1 && g->dw == 1 &&
        (g->kw == 3 || g->kw == 5) && rows >= 16 && chans >= 4)
        return level >= MN_ISA_AVX512 ? (rows > 16 ? 32 : 16) : 8;
#endif
    (void)g, (void)rows, (void)chans, (void)isa, (void)s2;
    return 0;
}

/* The implicit path takes convolutions (any stride: ik_planes) whose groups have 8+ output
 * channels (a tile has 8 rows: fewer, as in depthwise layers, leave the direct loops
 * faster), when the batch gives every thread an image (threads split the batch; a single
 * image goes through the im2col path, whose GEMM splits its columns between the threads).
 * It also takes the 1-channel first layer's forward and dW, whose 16 outputs fill two tiles
 * (each vector of pixels loaded feeds 8 outputs, where the direct loops load and store y for
 * every tap); its dX (one row of 8 used) stays direct: see implicit_takes_dx. */
static int FN(use_implicit)(const mn_conv2d_geom *g, int n_threads)
{
    if (mn_conv2d_algorithm == MN_CONV_IMPLICIT)
        return 1;
    return mn_conv2d_algorithm == MN_CONV_AUTO && g->n >= n_threads && g->c_out / g->groups >= 8;
}

/* Depthwise path (conv_depthwise.h): stride 1, one input channel per group, groups of
 * fewer than 8 outputs (8+ go through the implicit tiles). */
static int FN(use_dwise)(const mn_conv2d_geom *g)
{
    return mn_conv2d_algorithm == MN_CONV_AUTO && g->sh == 1 && g->sw == 1 &&
           g->c_in == g->groups && g->c_out / g->groups < 8;
}

/* The backward takes it for any number of outputs per group: with one input channel, the
 * implicit dW^T tiles are mostly padding (8 taps, 9 used) and its dX tiles 1 row of 8; here
 * dX sums all the group's dY planes in registers. */
static int FN(use_dwise_bwd)(const mn_conv2d_geom *g)
{
    return mn_conv2d_algorithm == MN_CONV_AUTO && g->sh == 1 && g->sw == 1 &&
           g->c_in == g->groups && g->kh * g->kw <= 64;
}

/* The depthwise backward's dX pads dY by (kh-1)*dh - pad_t (conv_depthwise.h): that must be
 * >= 0, as must its column twin. */
static int FN(dwise_dx_ok)(const mn_conv2d_geom *g)
{
    return g->pad_t <= (g->kh - 1) * g->dh && g->pad_l <= (g->kw - 1) * g->dw;
}

/* dX through the implicit path (auto): groups of 8+ input channels, its tiles' rows. */
static int FN(implicit_takes_dx)(const mn_conv2d_geom *g)
{
    if (g->sh > 64 || g->sw > 64)
        return 0;
    return mn_conv2d_algorithm == MN_CONV_IMPLICIT || g->c_in / g->groups >= 8;
}

/* Stride 1 with padding within the kernel's reach: dX is one flipped convolution
 * (implicit_bwd); otherwise the phases of conv_dx_strided.h. */
static int FN(dx_is_flipped_conv)(const mn_conv2d_geom *g)
{
    return g->sh == 1 && g->sw == 1 && g->pad_t <= (g->kh - 1) * g->dh &&
           g->pad_l <= (g->kw - 1) * g->dw;
}
