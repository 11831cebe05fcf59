/* The fused per-step gate kernels of the rnn family for one (dtype, ISA), instantiated by
 * rnn.c. A row that does not take part in the
 * step (t >= lengths[b]) keeps its state, outputs zero and gets zero gate gradients. Each
 * handles all B rows of one step for units [u0, u0 + nu), the block whose recurrent matmul the
 * same thread just computed (rnn_rmm.h).
 * Parameters: DT, SFX, ATTR, M_SIGMOID, M_TANH.
 * The unit loop of each row is a separate inline function whose every array is a restrict
 * parameter: written inside the row loop with offsets (gi[H + j]), GCC 12 gave up on
 * vectorising it ("no vectype for stmt"). */

#include "names.h"

/* FN(name) -> name + SFX: FN(gru_fwd_rows_) is gru_fwd_rows_f32_{generic,avx2,avx512} and
 * gru_fwd_rows_f64_generic */
#define FN(name) MN_CAT(name, SFX)

static inline int FN(active_)(const int64_t *lengths, ptrdiff_t t, ptrdiff_t b)
{
    return lengths == NULL || t < lengths[b];
}

/* an inactive row: the state is carried, the output is zero */
ATTR static inline void FN(carry_row_)(const DT *restrict h, DT *restrict out, DT *restrict y,
                                       ptrdiff_t H)
{
    for (ptrdiff_t j = 0; j < H; j++) {
        out[j] = h[j];
        y[j] = 0;
    }
}

ATTR static inline void FN(copy_row_)(const DT *restrict a, DT *restrict out, ptrdiff_t n)
{
    for (ptrdiff_t j = 0; j < n; j++)
        out[j] = a[j];
}

ATTR static inline void FN(zero_row_)(DT *restrict a, ptrdiff_t n)
{
    for (ptrdiff_t j = 0; j < n; j++)
        a[j] = 0;
}

/* ---- GRU ----------------------------------------------------------------------------------- */
ATTR static inline void FN(gru_fwd_row_)(const DT *restrict ir, const DT *restrict iz,
                                         const DT *restrict in, const DT *restrict hr,
                                         const DT *restrict hz, const DT *restrict hq,
                                         const DT *restrict h, DT *restrict gr, DT *restrict gz,
                                         DT *restrict gn, DT *restrict gq, DT *restrict out,
                                         DT *restrict y, ptrdiff_t H)
{
    for (ptrdiff_t j = 0; j < H; j++) {
        const DT r = M_SIGMOID(ir[j] + hr[j]);
        const DT z = M_SIGMOID(iz[j] + hz[j]);
        const DT ghn = hq[j];
        const DT n = M_TANH(in[j] + r * ghn);
        const DT hn = ((DT)1 - z) * n + z * h[j];
        gr[j] = r;
        gz[j] = z;
        gn[j] = n;
        gq[j] = ghn;
        out[j] = hn;
        y[j] = hn;
    }
}

/* GRU: r, z from gi + gh; n = tanh(gi_n + r gh_n); h' = (1 - z) n + z h.
 * gi_t, gh_t (B, 3H); gates_t (B, 4H) := r, z, n, gh_n. Rows [0, B), units [u0, u0 + nu). */
ATTR static void FN(gru_fwd_rows_)(const DT *gi_t, const DT *gh_t, const DT *hp, DT *hw, DT *y_t,
                                   DT *gates_t, const int64_t *lengths, ptrdiff_t t, ptrdiff_t B,
                                   ptrdiff_t u0, ptrdiff_t nu, ptrdiff_t H)
{
    for (ptrdiff_t b = 0; b < B; b++) {
        const DT *gi = gi_t + b * 3 * H + u0, *gh = gh_t + b * 3 * H + u0;
        DT *g = gates_t + b * 4 * H + u0;
        const ptrdiff_t o = b * H + u0;
        if (!FN(active_)(lengths, t, b)) {
            FN(carry_row_)(hp + o, hw + o, y_t + o, nu);
            for (int k = 0; k < 4; k++)
                FN(zero_row_)(g + k * H, nu);
            continue;
        }
        FN(gru_fwd_row_)(gi, gi + H, gi + 2 * H, gh, gh + H, gh + 2 * H, hp + o, g, g + H,
                         g + 2 * H, g + 3 * H, hw + o, y_t + o, nu);
    }
}

ATTR static inline void FN(gru_bwd_row_)(const DT *restrict dy, DT *restrict d,
                                         const DT *restrict gr, const DT *restrict gz,
                                         const DT *restrict gn, const DT *restrict gq,
                                         const DT *restrict h, DT *restrict dir, DT *restrict diz,
                                         DT *restrict din, DT *restrict dhr, DT *restrict dhz,
                                         DT *restrict dhn, DT *restrict sr, DT *restrict sz,
                                         DT *restrict sn, DT *restrict shn, ptrdiff_t H)
{
    for (ptrdiff_t j = 0; j < H; j++) {
        const DT dd = d[j] + dy[j];
        const DT r = gr[j], z = gz[j], n = gn[j];
        const DT dan = dd * ((DT)1 - z) * ((DT)1 - n * n);
        const DT dar = dan * gq[j] * r * ((DT)1 - r);
        const DT daz = dd * (h[j] - n) * z * ((DT)1 - z);
        dir[j] = dar;
        diz[j] = daz;
        din[j] = dan;
        dhr[j] = dar;
        dhz[j] = daz;
        dhn[j] = dan * r;
        d[j] = dd * z;
        sr[j] += dar;
        sz[j] += daz;
        sn[j] += dan;
        shn[j] += dan * r;
    }
}

/* d = dh + dy; dgi = (dr', dz', dn'), dgh = (dr', dz', dn' r) (pre-activation gradients);
 * dh := d z (the direct path; the caller adds dgh @ W_hh). zeros: H zeros standing in for a
 * missing dy. Rows [0, B), units [u0, u0 + nu). The bias gradients are summed on the way:
 * sums (4H) += dgi's r, z, n blocks and dgh's n block, each unit by the one thread that owns
 * it, in the same order at any thread count. */
ATTR static void FN(gru_bwd_rows_)(const DT *dy_t, DT *dh, const DT *gates_t, const DT *hp,
                                   DT *dgi_t, DT *dgh_t, DT *sums, const DT *zeros,
                                   const int64_t *lengths, ptrdiff_t t, ptrdiff_t B, ptrdiff_t u0,
                                   ptrdiff_t nu, ptrdiff_t H)
{
    for (ptrdiff_t b = 0; b < B; b++) {
        DT *dgi = dgi_t + b * 3 * H + u0, *dgh = dgh_t + b * 3 * H + u0;
        if (!FN(active_)(lengths, t, b)) {
            for (int k = 0; k < 3; k++) {
                FN(zero_row_)(dgi + k * H, nu);
                FN(zero_row_)(dgh + k * H, nu);
            }
            continue;
        }
        const DT *g = gates_t + b * 4 * H + u0;
        const ptrdiff_t o = b * H + u0;
        FN(gru_bwd_row_)(dy_t ? dy_t + o : zeros, dh + o, g, g + H, g + 2 * H, g + 3 * H, hp + o,
                         dgi, dgi + H, dgi + 2 * H, dgh, dgh + H, dgh + 2 * H, sums + u0,
                         sums + H + u0, sums + 2 * H + u0, sums + 3 * H + u0, nu);
    }
}

/* ---- Elman RNN ----------------------------------------------------------------------------- */
ATTR static inline void FN(rnn_fwd_row_)(const DT *restrict a, DT *restrict out, DT *restrict y,
                                         int relu, ptrdiff_t H)
{
    if (relu) {
        for (ptrdiff_t j = 0; j < H; j++) {
            const DT v = a[j] < 0 ? (DT)0 : a[j];
            out[j] = v;
            y[j] = v;
        }
    } else {
        for (ptrdiff_t j = 0; j < H; j++) {
            const DT v = M_TANH(a[j]);
            out[j] = v;
            y[j] = v;
        }
    }
}

/* RNN: h' = act(a), a = gi + W_hh h + b_hh already summed in a_t (B, H). */
ATTR static void FN(rnn_fwd_rows_)(const DT *a_t, const DT *hp, DT *hw, DT *y_t, int relu,
                                   const int64_t *lengths, ptrdiff_t t, ptrdiff_t B, ptrdiff_t u0,
                                   ptrdiff_t nu, ptrdiff_t H)
{
    for (ptrdiff_t b = 0; b < B; b++) {
        const ptrdiff_t o = b * H + u0;
        if (!FN(active_)(lengths, t, b))
            FN(carry_row_)(hp + o, hw + o, y_t + o, nu);
        else
            FN(rnn_fwd_row_)(a_t + o, hw + o, y_t + o, relu, nu);
    }
}

ATTR static inline void FN(rnn_bwd_row_)(const DT *restrict dy, DT *restrict d,
                                         const DT *restrict h, DT *restrict da, DT *restrict sa,
                                         int relu, ptrdiff_t H)
{
    if (relu) {
        for (ptrdiff_t j = 0; j < H; j++) {
            const DT dd = d[j] + dy[j];
            const DT v = h[j] > 0 ? dd : (DT)0;
            da[j] = v;
            sa[j] += v;
            d[j] = 0;
        }
    } else {
        for (ptrdiff_t j = 0; j < H; j++) {
            const DT dd = d[j] + dy[j];
            const DT v = dd * ((DT)1 - h[j] * h[j]);
            da[j] = v;
            sa[j] += v;
            d[j] = 0;
        }
    }
}

/* da = (dh + dy) act'(h'); dh := 0 (the caller adds da @ W_hh). hw: the state written.
 * sums (H) += da. */
ATTR static void FN(rnn_bwd_rows_)(const DT *dy_t, DT *dh, const DT *hw, DT *da_t, DT *sums,
                                   int relu, const DT *zeros, const int64_t *lengths, ptrdiff_t t,
                                   ptrdiff_t B, ptrdiff_t u0, ptrdiff_t nu, ptrdiff_t H)
{
    for (ptrdiff_t b = 0; b < B; b++) {
        const ptrdiff_t o = b * H + u0;
        if (!FN(active_)(lengths, t, b))
            FN(zero_row_)(da_t + o, nu);
        else
            FN(rnn_bwd_row_)(dy_t ? dy_t + o : zeros, dh + o, hw + o, da_t + o, sums + u0, relu,
                             nu);
    }
}

/* ---- LSTM ---------------------------------------------------------------------------------- */
ATTR static inline void FN(lstm_fwd_row_)(const DT *restrict ai, const DT *restrict af,
                                          const DT *restrict ag, const DT *restrict ao,
                                          const DT *restrict c, DT *restrict gi, DT *restrict gf,
                                          DT *restrict gg, DT *restrict go, DT *restrict out,
                                          DT *restrict cout, DT *restrict y, ptrdiff_t H)
{
    for (ptrdiff_t j = 0; j < H; j++) {
        const DT i_ = M_SIGMOID(ai[j]);
        const DT f_ = M_SIGMOID(af[j]);
        const DT g_ = M_TANH(ag[j]);
        const DT o_ = M_SIGMOID(ao[j]);
        const DT cn = f_ * c[j] + i_ * g_;
        const DT hn = o_ * M_TANH(cn);
        gi[j] = i_;
        gf[j] = f_;
        gg[j] = g_;
        go[j] = o_;
        cout[j] = cn;
        out[j] = hn;
        y[j] = hn;
    }
}

/* LSTM: a_t (B, 4H) holds the summed pre-activations; gates_t := i, f, g, o;
 * c' = f c + i g, h' = o tanh(c'). */
ATTR static void FN(lstm_fwd_rows_)(const DT *a_t, const DT *hp, const DT *cp, DT *hw, DT *cw,
                                    DT *y_t, DT *gates_t, const int64_t *lengths, ptrdiff_t t,
                                    ptrdiff_t B, ptrdiff_t u0, ptrdiff_t nu, ptrdiff_t H)
{
    for (ptrdiff_t b = 0; b < B; b++) {
        const DT *a = a_t + b * 4 * H + u0;
        DT *g = gates_t + b * 4 * H + u0;
        const ptrdiff_t o = b * H + u0;
        if (!FN(active_)(lengths, t, b)) {
            FN(carry_row_)(hp + o, hw + o, y_t + o, nu);
            FN(copy_row_)(cp + o, cw + o, nu);
            for (int k = 0; k < 4; k++)
                FN(zero_row_)(g + k * H, nu);
            continue;
        }
        FN(lstm_fwd_row_)(a, a + H, a + 2 * H, a + 3 * H, cp + o, g, g + H, g + 2 * H, g + 3 * H,
                          hw + o, cw + o, y_t + o, nu);
    }
}

ATTR static inline void FN(lstm_bwd_row_)(const DT *restrict dy, DT *restrict d, DT *restrict e,
                                          const DT *restrict gi, const DT *restrict gf,
                                          const DT *restrict gg, const DT *restrict go,
                                          const DT *restrict c, const DT *restrict cn,
                                          DT *restrict dai, DT *restrict daf, DT *restrict dag,
                                          DT *restrict dao, DT *restrict si, DT *restrict sf,
                                          DT *restrict sg, DT *restrict so, ptrdiff_t H)
{
    for (ptrdiff_t j = 0; j < H; j++) {
        const DT dd = d[j] + dy[j];
        const DT i_ = gi[j], f_ = gf[j], g_ = gg[j], o_ = go[j];
        const DT tc = M_TANH(cn[j]);
        const DT dcc = e[j] + dd * o_ * ((DT)1 - tc * tc);
        const DT vi = dcc * g_ * i_ * ((DT)1 - i_);
        const DT vf = dcc * c[j] * f_ * ((DT)1 - f_);
        const DT vg = dcc * i_ * ((DT)1 - g_ * g_);
        const DT vo = dd * tc * o_ * ((DT)1 - o_);
        dai[j] = vi;
        daf[j] = vf;
        dag[j] = vg;
        dao[j] = vo;
        si[j] += vi;
        sf[j] += vf;
        sg[j] += vg;
        so[j] += vo;
        e[j] = dcc * f_;
        d[j] = 0;
    }
}

/* d = dh + dy; dc' = dc + d o (1 - tanh(c')^2); da = pre-activation gradients of i, f, g, o;
 * dc := dc' f, dh := 0 (the caller adds da @ W_hh). sums (4H) += da. */
ATTR static void FN(lstm_bwd_rows_)(const DT *dy_t, DT *dh, DT *dc, const DT *gates_t,
                                    const DT *cp, const DT *cw, DT *da_t, DT *sums,
                                    const DT *zeros, const int64_t *lengths, ptrdiff_t t,
                                    ptrdiff_t B, ptrdiff_t u0, ptrdiff_t nu, ptrdiff_t H)
{
    for (ptrdiff_t b = 0; b < B; b++) {
        DT *da = da_t + b * 4 * H + u0;
        if (!FN(active_)(lengths, t, b)) {
            for (int k = 0; k < 4; k++)
                FN(zero_row_)(da + k * H, nu);
            continue;
        }
        const DT *g = gates_t + b * 4 * H + u0;
        const ptrdiff_t o = b * H + u0;
        FN(lstm_bwd_row_)(dy_t ? dy_t + o : zeros, dh + o, dc + o, g, g + H, g + 2 * H, g + 3 * H,
                          cp + o, cw + o, da, da + H, da + 2 * H, da + 3 * H, sums + u0,
                          sums + H + u0, sums + 2 * H + u0, sums + 3 * H + u0, nu);
    }
}

static const GATES_TAB FN(gates_tab_) = {
    FN(gru_fwd_rows_), FN(gru_bwd_rows_),  FN(rnn_fwd_rows_),
    FN(rnn_bwd_rows_), FN(lstm_fwd_rows_), FN(lstm_bwd_rows_),
};

#undef FN
