/* The per-ISA copies of the convolution's inner kernels and the run-time choice between them
 * (per dtype, included by conv_impl.h). The kernels are compiled once per instruction-set
 * level with GCC target attributes (runtime.h: ATTR_AVX512, ATTR_AVX2) instead of -march, so
 * that one portable build runs AVX-512 code where the CPU has it; the rest stays baseline.
 *   conv_direct.h    DFN(name) is name_{avx512,avx2,generic}_{f32,f64}: wide_fwd_avx512_f32
 *   conv_implicit.h  IFN(name) is name_{avx512,avx2,generic}_{f32,f64}: ik_fwd_avx512_f32
 *                    (ik_fwd_st, tr_lanes, deinterleave_row: avx512 only)
 *   conv_rowtile.h   float32: rowtile_<R>_<NV>_<S>_<KW> (AVX-512), rowtile2_<R>_<S>_<KW>
 *                    (AVX2), rowdw_<NV>, rowdw2_<NV> (AVX-512)
 * direct_fwd_isa and direct_bwd_isa call the direct loops of the requested level (already
 * clamped to the CPU); ik_for returns one level's implicit and depthwise kernels as a table,
 * through which the plane paths (conv_planes.h and after) call them. */

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
#define ISA_CALL(isa, name, ...)                \
    do {                                        \
        if ((isa) >= MN_ISA_AVX512)             \
            FN_ISA(name, avx512)(__VA_ARGS__);  \
        else if ((isa) >= MN_ISA_AVX2)          \
            FN_ISA(name, avx2)(__VA_ARGS__);    \
        else                                    \
            FN_ISA(name, generic)(__VA_ARGS__); \
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
typedef void (*FN(ik_st_fn))(ptrdiff_t, const DT *, const DT *, const ptrdiff_t *, ptrdiff_t, DT *,
                             ptrdiff_t, int, const ptrdiff_t *, const unsigned *, const DT *, int);
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
typedef void (*FN(dwise_dw_fn))(const DT *, const DT *, ptrdiff_t, const ptrdiff_t *, ptrdiff_t,
                                DT *);
typedef void (*FN(ik_int_fn))(const DT *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                              DT *, ptrdiff_t, ptrdiff_t);
/* One level's implicit and depthwise kernels, as ik_for picks them. */
typedef struct {
    ptrdiff_t mr, lanes, kb;  /* tile rows, vector lanes (a tile is 2 vectors wide), dW cols */
    FN(ik_fwd_fn) fwd;        /* tile into a buffer */
    FN(ik_dw_fn) dw2, dw1;    /* weight-gradient tiles 2 and 1 vectors of channels wide */
    FN(ik_dyt_fn) dyt;        /* dY to pixel-major */
    FN(ik_int_fn) interior;   /* an image into the interior of its padded planes */
    FN(ik_relu_fn) relu;      /* dY masked by the forward's relu output, row sums */
    FN(ik_ph_fn) phases;      /* an image into its phase planes (strides) */
    FN(dwise_fn) dwise;       /* depthwise: one plane's output */
    FN(dwise_dw_fn) dwise_dw; /* depthwise: one plane's weight gradient */
    FN(ik_st_fn) st;          /* tile into the output (AVX-512), or NULL */
    int isa;                  /* the level these were chosen for (the fused pooling's too) */
} FN(ik_t);

#define IK_FNS(isa)                                                                     \
    FN_ISA(ik_fwd, isa), FN_ISA(ik_dw2, isa), FN_ISA(ik_dw1, isa), FN_ISA(ik_dyt, isa), \
        FN_ISA(ik_interior, isa), FN_ISA(ik_relu_mask, isa), FN_ISA(ik_phases, isa),    \
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

/* ---- row tiles: float32 on AVX-512 and AVX2, called directly (rowtile_nv decides) ------- */
#if MN_X86 && DT_F32
#include "conv_rowtile.h"
#endif
