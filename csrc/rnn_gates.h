/* The fused per-step gate kernels of the rnn family for one (dtype, ISA), instantiated by
 * rnn.c. Each handles batch rows [b0, b1) of one step; a row that does not take part in the
 * step (t >= lengths[b]) keeps its state, outputs zero and gets zero gate gradients.
 * Parameters: DT, SFX, ATTR, M_SIGMOID, M_TANH. Loops run over the H units of a row with
 * restrict pointers so that each vectorises. */

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SFX)

static inline int FN(active_)(const int64_t *lengths, ptrdiff_t t, ptrdiff_t b)
{
    return lengths == NULL || t < lengths[b];
}

/* GRU: r, z from gi + gh; n = tanh(gi_n + r gh_n); h' = (1 - z) n + z h.
 * gi_t, gh_t (B, 3H); gates_t (B, 4H) := r, z, n, gh_n. */
ATTR static void FN(gru_fwd_rows_)(const DT *gi_t, const DT *gh_t, const DT *hp, DT *hw,
                                   DT *y_t, DT *gates_t, const int64_t *lengths, ptrdiff_t t,
                                   ptrdiff_t b0, ptrdiff_t b1, ptrdiff_t H)
{
    for (ptrdiff_t b = b0; b < b1; b++) {
        const DT *restrict gi = gi_t + b * 3 * H, *restrict gh = gh_t + b * 3 * H;
        const DT *restrict h = hp + b * H;
        DT *restrict out = hw + b * H, *restrict y = y_t + b * H;
        DT *restrict g = gates_t + b * 4 * H;
        if (!FN(active_)(lengths, t, b)) {
            for (ptrdiff_t j = 0; j < H; j++) {
                out[j] = h[j];
                y[j] = 0;
            }
            for (ptrdiff_t j = 0; j < 4 * H; j++)
                g[j] = 0;
            continue;
        }
        for (ptrdiff_t j = 0; j < H; j++) {
            const DT r = M_SIGMOID(gi[j] + gh[j]);
            const DT z = M_SIGMOID(gi[H + j] + gh[H + j]);
            const DT ghn = gh[2 * H + j];
            const DT n = M_TANH(gi[2 * H + j] + r * ghn);
            const DT hn = ((DT)1 - z) * n + z * h[j];
            g[j] = r;
            g[H + j] = z;
            g[2 * H + j] = n;
            g[3 * H + j] = ghn;
            out[j] = hn;
            y[j] = hn;
        }
    }
}

/* d = dh + dy; dgi = (dr', dz', dn'), dgh = (dr', dz', dn' r) (pre-activation gradients);
 * dh := d z (the direct path; the caller adds dgh @ W_hh). */
ATTR static void FN(gru_bwd_rows_)(const DT *dy_t, DT *dh, const DT *gates_t, const DT *hp,
                                   DT *dgi_t, DT *dgh_t, const int64_t *lengths, ptrdiff_t t,
                                   ptrdiff_t b0, ptrdiff_t b1, ptrdiff_t H)
{
    for (ptrdiff_t b = b0; b < b1; b++) {
        DT *restrict dgi = dgi_t + b * 3 * H, *restrict dgh = dgh_t + b * 3 * H;
        if (!FN(active_)(lengths, t, b)) {
            for (ptrdiff_t j = 0; j < 3 * H; j++) {
                dgi[j] = 0;
                dgh[j] = 0;
            }
            continue;
        }
        const DT *restrict g = gates_t + b * 4 * H, *restrict h = hp + b * H;
        const DT *restrict dy = dy_t ? dy_t + b * H : NULL;
        DT *restrict d = dh + b * H;
        for (ptrdiff_t j = 0; j < H; j++) {
            const DT dd = dy ? d[j] + dy[j] : d[j];
            const DT r = g[j], z = g[H + j], n = g[2 * H + j], ghn = g[3 * H + j];
            const DT dan = dd * ((DT)1 - z) * ((DT)1 - n * n);
            const DT dar = dan * ghn * r * ((DT)1 - r);
            const DT daz = dd * (h[j] - n) * z * ((DT)1 - z);
            dgi[j] = dar;
            dgi[H + j] = daz;
            dgi[2 * H + j] = dan;
            dgh[j] = dar;
            dgh[H + j] = daz;
            dgh[2 * H + j] = dan * r;
            d[j] = dd * z;
        }
    }
}

/* RNN: h' = act(a), a = gi + W_hh h + b_hh already summed in a_t (B, H). */
ATTR static void FN(rnn_fwd_rows_)(const DT *a_t, const DT *hp, DT *hw, DT *y_t, int relu,
                                   const int64_t *lengths, ptrdiff_t t, ptrdiff_t b0,
                                   ptrdiff_t b1, ptrdiff_t H)
{
    for (ptrdiff_t b = b0; b < b1; b++) {
        const DT *restrict a = a_t + b * H, *restrict h = hp + b * H;
        DT *restrict out = hw + b * H, *restrict y = y_t + b * H;
        if (!FN(active_)(lengths, t, b)) {
            for (ptrdiff_t j = 0; j < H; j++) {
                out[j] = h[j];
                y[j] = 0;
            }
        } else if (relu) {
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
}

/* da = (dh + dy) act'(h'); dh := 0 (the caller adds da @ W_hh). hw: the state written. */
ATTR static void FN(rnn_bwd_rows_)(const DT *dy_t, DT *dh, const DT *hw, DT *da_t, int relu,
                                   const int64_t *lengths, ptrdiff_t t, ptrdiff_t b0,
                                   ptrdiff_t b1, ptrdiff_t H)
{
    for (ptrdiff_t b = b0; b < b1; b++) {
        DT *restrict da = da_t + b * H;
        if (!FN(active_)(lengths, t, b)) {
            for (ptrdiff_t j = 0; j < H; j++)
                da[j] = 0;
            continue;
        }
        const DT *restrict h = hw + b * H;
        const DT *restrict dy = dy_t ? dy_t + b * H : NULL;
        DT *restrict d = dh + b * H;
        if (relu) {
            for (ptrdiff_t j = 0; j < H; j++) {
                const DT dd = dy ? d[j] + dy[j] : d[j];
                da[j] = h[j] > 0 ? dd : (DT)0;
                d[j] = 0;
            }
        } else {
            for (ptrdiff_t j = 0; j < H; j++) {
                const DT dd = dy ? d[j] + dy[j] : d[j];
                da[j] = dd * ((DT)1 - h[j] * h[j]);
                d[j] = 0;
            }
        }
    }
}

/* LSTM: a_t (B, 4H) holds the summed pre-activations; gates_t := i, f, g, o;
 * c' = f c + i g, h' = o tanh(c'). */
ATTR static void FN(lstm_fwd_rows_)(const DT *a_t, const DT *hp, const DT *cp, DT *hw, DT *cw,
                                    DT *y_t, DT *gates_t, const int64_t *lengths, ptrdiff_t t,
                                    ptrdiff_t b0, ptrdiff_t b1, ptrdiff_t H)
{
    for (ptrdiff_t b = b0; b < b1; b++) {
        const DT *restrict a = a_t + b * 4 * H, *restrict h = hp + b * H, *restrict c = cp + b * H;
        DT *restrict out = hw + b * H, *restrict cout = cw + b * H, *restrict y = y_t + b * H;
        DT *restrict g = gates_t + b * 4 * H;
        if (!FN(active_)(lengths, t, b)) {
            for (ptrdiff_t j = 0; j < H; j++) {
                out[j] = h[j];
                cout[j] = c[j];
                y[j] = 0;
            }
            for (ptrdiff_t j = 0; j < 4 * H; j++)
                g[j] = 0;
            continue;
        }
        for (ptrdiff_t j = 0; j < H; j++) {
            const DT ig = M_SIGMOID(a[j]);
            const DT fg = M_SIGMOID(a[H + j]);
            const DT gg = M_TANH(a[2 * H + j]);
            const DT og = M_SIGMOID(a[3 * H + j]);
            const DT cn = fg * c[j] + ig * gg;
            const DT hn = og * M_TANH(cn);
            g[j] = ig;
            g[H + j] = fg;
            g[2 * H + j] = gg;
            g[3 * H + j] = og;
            cout[j] = cn;
            out[j] = hn;
            y[j] = hn;
        }
    }
}

/* d = dh + dy; dc' = dc + d o (1 - tanh(c')^2); da = pre-activation gradients of i, f, g, o;
 * dc := dc' f, dh := 0 (the caller adds da @ W_hh). */
ATTR static void FN(lstm_bwd_rows_)(const DT *dy_t, DT *dh, DT *dc, const DT *gates_t,
                                    const DT *cp, const DT *cw, DT *da_t,
                                    const int64_t *lengths, ptrdiff_t t, ptrdiff_t b0,
                                    ptrdiff_t b1, ptrdiff_t H)
{
    for (ptrdiff_t b = b0; b < b1; b++) {
        DT *restrict da = da_t + b * 4 * H;
        if (!FN(active_)(lengths, t, b)) {
            for (ptrdiff_t j = 0; j < 4 * H; j++)
                da[j] = 0;
            continue;
        }
        const DT *restrict g = gates_t + b * 4 * H, *restrict c = cp + b * H;
        const DT *restrict cn = cw + b * H;
        const DT *restrict dy = dy_t ? dy_t + b * H : NULL;
        DT *restrict d = dh + b * H, *restrict e = dc + b * H;
        for (ptrdiff_t j = 0; j < H; j++) {
            const DT dd = dy ? d[j] + dy[j] : d[j];
            const DT ig = g[j], fg = g[H + j], gg = g[2 * H + j], og = g[3 * H + j];
            const DT tc = M_TANH(cn[j]);
            const DT dcc = e[j] + dd * og * ((DT)1 - tc * tc);
            da[j] = dcc * gg * ig * ((DT)1 - ig);
            da[H + j] = dcc * c[j] * fg * ((DT)1 - fg);
            da[2 * H + j] = dcc * ig * ((DT)1 - gg * gg);
            da[3 * H + j] = dd * tc * og * ((DT)1 - og);
            e[j] = dcc * fg;
            d[j] = 0;
        }
    }
}

static const GATES_TAB FN(gates_tab_) = {
    FN(gru_fwd_rows_), FN(gru_bwd_rows_), FN(rnn_fwd_rows_), FN(rnn_bwd_rows_),
    FN(lstm_fwd_rows_), FN(lstm_bwd_rows_),
};

#undef FN
#undef CAT
#undef CAT_
