/* The sequence drivers of the rnn family for one dtype, instantiated by rnn.c: the GEMMs, the
 * loop over time and the threading of the per-step gate kernels (rnn_gates.h).
 * Parameters: DT, SFX (f32 or f64), GATES_TAB, PICK(isa), GEMM, COLSUM. */

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SFX)

/* Gate kernels are ~20-60 flops per element: a thread must get a few thousand elements to
 * pay for waking the team (~1-2 us). */
#define RNN_GRAIN 4096

/* Run `call` (which uses b0, b1) over the batch rows [0, B), on up to n_threads threads. */
#define RNN_ROWS(B_, elems, call)                                                              \
    do {                                                                                       \
        const int nt_ = mn_par_threads((elems), RNN_GRAIN, n_threads);                         \
        if (nt_ > 1) {                                                                         \
            _Pragma("omp parallel num_threads(nt_)")                                           \
            {                                                                                  \
                ptrdiff_t b0, b1;                                                              \
                mn_thread_range((B_), 1, &b0, &b1);                                            \
                if (b1 > b0)                                                                   \
                    call;                                                                      \
            }                                                                                  \
        } else {                                                                               \
            const ptrdiff_t b0 = 0, b1 = (B_);                                                 \
            call;                                                                              \
        }                                                                                      \
    } while (0)

int FN(mn_rnn_fwd_)(int cell, const DT *x_tbi, const DT *h0_bh, const DT *c0_bh,
                    const DT *w_ih, const DT *w_hh, const DT *b_ih, const DT *b_hh,
                    const int64_t *lengths_b, DT *y_tbh, DT *hn_bh, DT *cn_bh, DT *gates_tbk,
                    DT *states_sbh, DT *cells_sbh, ptrdiff_t T, ptrdiff_t B, ptrdiff_t I,
                    ptrdiff_t H, int reverse, int isa, int n_threads)
{
    const GATES_TAB *k = PICK(isa);
    const ptrdiff_t G = mn_rnn_gates(cell), GH = G * H, BH = B * H, TB = T * B;
    const int relu = cell == MN_CELL_RNN_RELU;
    if (T <= 0 || B <= 0 || H <= 0)
        return 0;
    DT *gi = mn_workspace(2, (size_t)(TB * GH) * sizeof(DT));
    DT *aux = mn_workspace(3, (size_t)(B * GH + GH) * sizeof(DT));
    if (!gi || !aux)
        return -1;
    /* All steps' input projections in one GEMM. Outside the GRU, b_hh only ever adds to the
     * same pre-activation, so it is folded into this GEMM's bias. */
    const DT *bias_in = b_ih;
    if (cell != MN_CELL_GRU && b_hh) {
        DT *sum = aux + B * GH;
        for (ptrdiff_t j = 0; j < GH; j++)
            sum[j] = (b_ih ? b_ih[j] : (DT)0) + b_hh[j];
        bias_in = sum;
    }
    if (GEMM(0, 1, TB, GH, I, 1, x_tbi, I, w_ih, I, 0, gi, GH, bias_in, MN_ACT_IDENTITY, isa,
             n_threads))
        return -1;
    const ptrdiff_t first = reverse ? T : 0;
    for (ptrdiff_t j = 0; j < BH; j++)
        states_sbh[first * BH + j] = h0_bh[j];
    if (cell == MN_CELL_LSTM)
        for (ptrdiff_t j = 0; j < BH; j++)
            cells_sbh[first * BH + j] = c0_bh[j];

    for (ptrdiff_t s = 0; s < T; s++) {
        const ptrdiff_t t = reverse ? T - 1 - s : s;
        const ptrdiff_t rd = reverse ? t + 1 : t, wr = reverse ? t : t + 1;
        const DT *hp = states_sbh + rd * BH;
        DT *hw = states_sbh + wr * BH;
        DT *gi_t = gi + t * B * GH, *y_t = y_tbh + t * BH;
        if (cell == MN_CELL_GRU) {
            /* gh = W_hh h + b_hh stays apart from gi: r multiplies its n block */
            if (GEMM(0, 1, B, GH, H, 1, hp, H, w_hh, H, 0, aux, GH, b_hh, MN_ACT_IDENTITY, isa,
                     n_threads))
                return -1;
            DT *g_t = gates_tbk + t * B * 4 * H;
            RNN_ROWS(B, B * GH, k->gru_fwd(gi_t, aux, hp, hw, y_t, g_t, lengths_b, t, b0, b1, H));
        } else {
            /* a = gi + W_hh h, accumulated in place */
            if (GEMM(0, 1, B, GH, H, 1, hp, H, w_hh, H, 1, gi_t, GH, NULL, MN_ACT_IDENTITY, isa,
                     n_threads))
                return -1;
            if (cell == MN_CELL_LSTM) {
                DT *g_t = gates_tbk + t * B * 4 * H;
                const DT *cp = cells_sbh + rd * BH;
                DT *cw = cells_sbh + wr * BH;
                RNN_ROWS(B, B * GH,
                         k->lstm_fwd(gi_t, hp, cp, hw, cw, y_t, g_t, lengths_b, t, b0, b1, H));
            } else {
                RNN_ROWS(B, B * GH, k->rnn_fwd(gi_t, hp, hw, y_t, relu, lengths_b, t, b0, b1, H));
            }
        }
    }
    const ptrdiff_t last = reverse ? 0 : T;
    for (ptrdiff_t j = 0; j < BH; j++)
        hn_bh[j] = states_sbh[last * BH + j];
    if (cell == MN_CELL_LSTM)
        for (ptrdiff_t j = 0; j < BH; j++)
            cn_bh[j] = cells_sbh[last * BH + j];
    return 0;
}

int FN(mn_rnn_bwd_)(int cell, const DT *dy_tbh, const DT *dhn_bh, const DT *dcn_bh,
                    const DT *x_tbi, const DT *w_ih, const DT *w_hh, const DT *gates_tbk,
                    const DT *states_sbh, const DT *cells_sbh, const int64_t *lengths_b,
                    DT *dx_tbi, DT *dh0_bh, DT *dc0_bh, DT *dw_ih, DT *dw_hh, DT *db_ih,
                    DT *db_hh, ptrdiff_t T, ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, int reverse,
                    int isa, int n_threads)
{
    const GATES_TAB *k = PICK(isa);
    const ptrdiff_t G = mn_rnn_gates(cell), GH = G * H, BH = B * H, TB = T * B;
    const int relu = cell == MN_CELL_RNN_RELU;
    if (T <= 0 || B <= 0 || H <= 0)
        return 0;
    /* dgi: pre-activation gradients of the input projection, all steps; the GRU's hidden
     * projection differs in its n block (times r), the other cells share one array. */
    const int gru = cell == MN_CELL_GRU;
    DT *dgi = mn_workspace(2, (size_t)(TB * GH) * sizeof(DT));
    DT *aux = mn_workspace(3, (size_t)((gru ? TB * GH : 0) + H) * sizeof(DT));
    if (!dgi || !aux)
        return -1;
    DT *dgh = gru ? aux : dgi;
    DT *zeros = aux + (gru ? TB * GH : 0); /* stands in for a missing dy */
    for (ptrdiff_t j = 0; j < H; j++)
        zeros[j] = 0;
    /* the carried gradients live in the outputs dh0 and dc0 */
    DT *dh = dh0_bh, *dc = dc0_bh;
    for (ptrdiff_t j = 0; j < BH; j++)
        dh[j] = dhn_bh ? dhn_bh[j] : (DT)0;
    if (cell == MN_CELL_LSTM)
        for (ptrdiff_t j = 0; j < BH; j++)
            dc[j] = dcn_bh ? dcn_bh[j] : (DT)0;

    for (ptrdiff_t s = T - 1; s >= 0; s--) {
        const ptrdiff_t t = reverse ? T - 1 - s : s;
        const ptrdiff_t rd = reverse ? t + 1 : t, wr = reverse ? t : t + 1;
        const DT *dy_t = dy_tbh ? dy_tbh + t * BH : NULL;
        DT *dgi_t = dgi + t * B * GH, *dgh_t = dgh + t * B * GH;
        if (cell == MN_CELL_GRU) {
            const DT *g_t = gates_tbk + t * B * 4 * H, *hp = states_sbh + rd * BH;
            RNN_ROWS(B, B * GH, k->gru_bwd(dy_t, dh, g_t, hp, dgi_t, dgh_t, zeros, lengths_b, t, b0, b1, H));
        } else if (cell == MN_CELL_LSTM) {
            const DT *g_t = gates_tbk + t * B * 4 * H;
            const DT *cp = cells_sbh + rd * BH, *cw = cells_sbh + wr * BH;
            RNN_ROWS(B, B * GH,
                     k->lstm_bwd(dy_t, dh, dc, g_t, cp, cw, dgi_t, zeros, lengths_b, t, b0, b1, H));
        } else {
            const DT *hw = states_sbh + wr * BH;
            RNN_ROWS(B, B * GH, k->rnn_bwd(dy_t, dh, hw, dgi_t, relu, zeros, lengths_b, t, b0, b1, H));
        }
        /* dh += dgh_t @ W_hh */
        if (GEMM(0, 0, B, H, GH, 1, dgh_t, GH, w_hh, H, 1, dh, H, NULL, MN_ACT_IDENTITY, isa,
                 n_threads))
            return -1;
    }
    /* everything that does not feed back: a few large GEMMs over all T * B rows */
    if (dx_tbi && GEMM(0, 0, TB, I, GH, 1, dgi, GH, w_ih, I, 0, dx_tbi, I, NULL,
                       MN_ACT_IDENTITY, isa, n_threads))
        return -1;
    if (GEMM(1, 0, GH, I, TB, 1, dgi, GH, x_tbi, I, 0, dw_ih, I, NULL, MN_ACT_IDENTITY, isa,
             n_threads))
        return -1;
    const DT *h_prev = states_sbh + (reverse ? BH : 0);
    if (GEMM(1, 0, GH, H, TB, 1, dgh, GH, h_prev, H, 0, dw_hh, H, NULL, MN_ACT_IDENTITY, isa,
             n_threads))
        return -1;
    if (db_ih)
        COLSUM(dgi, TB, GH, GH, db_ih, 0, n_threads);
    if (db_hh)
        COLSUM(dgh, TB, GH, GH, db_hh, 0, n_threads);
    return 0;
}

#undef RNN_ROWS
#undef RNN_GRAIN
#undef FN
#undef CAT
#undef CAT_
