/* The recurrent matmuls of the rnn family for one (dtype, ISA), instantiated by rnn.c: per time
 * step, C[:, cols] (+)= A @ Wp with A unpacked (B rows of h or dgh) and W_hh packed ONCE per
 * sequence into NR-wide column panels. mn_gemm would re-pack the weights at every step (as
 * large a copy as the product itself is work when B is 16-64), and would open and close its
 * own parallel region; here each thread keeps its own panels for the whole sequence.
 *   forward:  gh[:, g*H + units] = h @ W_hh[g*H + units, :]^T  (+ b_hh, or += into gi)
 *   backward: dh[:, units]      += dgh @ W_hh[:, units]
 * Parameters: DT, SFX, ATTR, RMM_VB (vector bytes), RMM_MR (rows per tile). A tile is
 * RMM_MR x 2 vectors, all accumulators in registers. Undefines SFX, ATTR, RMM_VB and RMM_MR
 * at its end (include it last in each instantiation). The k loop is unrolled by 2 except with
 * 16 vector registers (RMM_VB 32: AVX2), where the 6 x 2 accumulators, two B vectors and a
 * broadcast fill them and GCC spilled accumulators inside the unrolled loop. */

#include "names.h"

/* FN(name) -> name + SFX: FN(rmm_panel_) is rmm_panel_{f32,f64}_{generic,avx2,avx512} */
#define FN(name) MN_CAT(name, SFX)

enum { FN(L_) = RMM_VB / sizeof(DT), FN(NR_) = 2 * (RMM_VB / sizeof(DT)) };

/* ct[MR x NR] := sum_p arow[i][p] * bp[p*NR + c] */
ATTR static void FN(rmm_tile_)(ptrdiff_t kc, const DT *const *arow, const DT *restrict bp,
                               DT *restrict ct)
{
    typedef DT vt __attribute__((vector_size(RMM_VB), aligned(sizeof(DT)), may_alias));
    enum { L = FN(L_), NR = FN(NR_) };
    vt acc[RMM_MR][2];
    const DT *a[RMM_MR];
#pragma GCC unroll 16
    for (int i = 0; i < RMM_MR; i++) {
        acc[i][0] = acc[i][1] = (vt){0};
        a[i] = arow[i];
    }
#if RMM_VB == 32
#pragma GCC unroll 1
#else
#pragma GCC unroll 2
#endif
    for (ptrdiff_t p = 0; p < kc; p++) {
        const vt b0 = *(const vt *)(bp + p * NR), b1 = *(const vt *)(bp + p * NR + L);
#pragma GCC unroll 16
        for (int i = 0; i < RMM_MR; i++) {
            const DT ai = a[i][p];
            acc[i][0] += ai * b0;
            acc[i][1] += ai * b1;
        }
    }
#pragma GCC unroll 16
    for (int i = 0; i < RMM_MR; i++) {
        *(vt *)(ct + i * NR) = acc[i][0];
        *(vt *)(ct + i * NR + L) = acc[i][1];
    }
}

/* C[0:m, 0:nr_eff] := (accumulate ? C : 0) + A[0:m, 0:kc] @ panel (+ bias[0:nr_eff]);
 * A row-major with leading dimension lda, C with ldc. */
ATTR static void FN(rmm_panel_)(const DT *a, ptrdiff_t lda, ptrdiff_t m, ptrdiff_t kc,
                                const DT *bp, DT *c, ptrdiff_t ldc, int nr_eff, const DT *bias,
                                int accumulate)
{
    enum { NR = FN(NR_) };
    DT ct[RMM_MR * NR] __attribute__((aligned(64)));
    const DT *arow[RMM_MR];
    for (ptrdiff_t i0 = 0; i0 < m; i0 += RMM_MR) {
        const int mr = m - i0 < RMM_MR ? (int)(m - i0) : RMM_MR;
        for (int i = 0; i < RMM_MR; i++)
            arow[i] = a + (i0 + (i < mr ? i : mr - 1)) * lda; /* pad rows repeat the last */
        FN(rmm_tile_)(kc, arow, bp, ct);
        for (int i = 0; i < mr; i++) {
            DT *restrict crow = c + (i0 + i) * ldc;
            const DT *restrict t = ct + i * NR;
            if (accumulate)
                for (int j = 0; j < nr_eff; j++)
                    crow[j] += t[j];
            else if (bias)
                for (int j = 0; j < nr_eff; j++)
                    crow[j] = t[j] + bias[j];
            else
                for (int j = 0; j < nr_eff; j++)
                    crow[j] = t[j];
        }
    }
}

/* The panel of columns [n0, n0 + NR) of W^T for W (N x K) row-major with leading dimension
 * ldw: W[n0 + c, k] at [k][c], zero past N. */
static void FN(rmm_pack_t_)(const DT *w, ptrdiff_t ldw, ptrdiff_t N, ptrdiff_t K, ptrdiff_t n0,
                            DT *dst)
{
    enum { NR = FN(NR_) };
    const int nr_eff = N - n0 < NR ? (int)(N - n0) : NR;
    /* 8 k at a time: each row of W is read in short contiguous runs */
    for (ptrdiff_t k0 = 0; k0 < K; k0 += 8) {
        const ptrdiff_t k1 = k0 + 8 < K ? k0 + 8 : K;
        for (int c = 0; c < NR; c++) {
            const DT *row = w + (n0 + (c < nr_eff ? c : 0)) * ldw;
            for (ptrdiff_t k = k0; k < k1; k++)
                dst[k * NR + c] = c < nr_eff ? row[k] : (DT)0;
        }
    }
}

/* Forward panels of unit block u: for each gate g, W[g*H + u*NR + c, k] at [g][k][c], for W
 * (G*H x K): W_hh (K = H) or W_ih (K = I). */
static void FN(rmm_pack_fwd_)(const DT *w, ptrdiff_t H, ptrdiff_t K, int G, ptrdiff_t u, DT *dst)
{
    enum { NR = FN(NR_) };
    for (int g = 0; g < G; g++)
        FN(rmm_pack_t_)(w + g * H * K, K, H, K, u * NR, dst + (ptrdiff_t)g * K * NR);
}

/* Backward panel of unit block u: W_hh[k, u*NR + c] at [k][c], k < G*H. */
static void FN(rmm_pack_bwd_)(const DT *w_hh, ptrdiff_t H, ptrdiff_t GH, ptrdiff_t u, DT *dst)
{
    enum { NR = FN(NR_) };
    const ptrdiff_t u0 = u * NR;
    const int nr_eff = H - u0 < NR ? (int)(H - u0) : NR;
    for (ptrdiff_t k = 0; k < GH; k++) {
        const DT *row = w_hh + k * H + u0;
        DT *d = dst + k * NR;
        int c = 0;
        for (; c < nr_eff; c++)
            d[c] = row[c];
        for (; c < NR; c++)
            d[c] = 0;
    }
}

static const RMM_TAB FN(rmm_tab_) = {FN(NR_), FN(rmm_panel_), FN(rmm_pack_fwd_),
                                     FN(rmm_pack_bwd_)};

#undef FN
#undef SFX
#undef ATTR
#undef RMM_VB
#undef RMM_MR
