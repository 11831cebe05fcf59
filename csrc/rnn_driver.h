/* The sequence drivers of the rnn family for one dtype, instantiated by rnn.c.
 *
 * The H hidden units are split into blocks of NR (the recurrent matmul's panel width), and
 * the loop over time is a sequence of pool jobs (runtime.h: mn_parallel) of nt chunks each,
 * chunk c holding the same blocks in every job (rnn_blocks): it packs its blocks' slice of
 * W_hh (and W_ih) and computes their columns of the input projection once, and reads no other
 * block's. (Which thread runs chunk c may change from job to job.) A job ends when its chunks
 * are done, which is the step's barrier. A forward
 * step is one job: per block, the recurrent matmul for the block's columns of every gate,
 * then the gate kernel for those units (the next step reads all of h); the first job also
 * packs the block's weights and computes its columns of the input projection for all steps.
 * The backward needs a barrier between a step's gate-gradient kernel (which needs the block's
 * dh only) and its matmul (which reads every block's gate gradients), but none after the
 * matmul, dh[:, block] += dgh @ W_hh[:, block]: the next gate kernel reads only that block.
 * So a backward job is, per block, step s's matmul then step s - 1's gate kernel: T + 1 jobs,
 * the first one packing and running the last step's gate kernel, the last one the first
 * step's matmul alone.
 * Parameters: DT, SFX (f32 or f64), GATES_TAB, PICK(isa), RMM_TAB, PICK_RMM(isa), GEMM; all
 * undefined again at the end of this file. */

#include "names.h"

/* FN(name) -> name + SFX: FN(mn_rnn_fwd_) is mn_rnn_fwd_{f32,f64} */
#define FN(name) MN_CAT(name, SFX)

/* Threads for the time loop: each step is a pool job, whose wake-up and wait a step's matmul
 * must pay for (one thread below 2e5 FLOP); and no more threads than unit blocks. */
static int FN(loop_threads_)(ptrdiff_t B, ptrdiff_t H, ptrdiff_t GH, ptrdiff_t nb, int n_threads)
{
    const double flops = 2.0 * (double)B * (double)H * (double)GH;
    int nt = n_threads;
    if (nt > nb)
        nt = (int)nb;
    if (flops < 2e5 || nt < 1)
        nt = 1;
    return nt;
}

/* The forward's arguments and the current step, shared by the chunks of its jobs. */
typedef struct {
    const GATES_TAB *k;
    const RMM_TAB *rm;
    const DT *x_tbi, *w_ih, *w_hh, *b_hh, *bias_in;
    const int64_t *lengths_b;
    DT *y_tbh, *gates_tbk, *states_sbh, *cells_sbh, *gi, *aux, *wp;
    ptrdiff_t T, B, I, H, nb, wblk;
    int G, relu, gru, lstm, reverse;
    ptrdiff_t s; /* the step this job runs */
} FN(rnn_fwd_job_);

/* Chunk ch of nch: step s for its unit blocks, after (at s == 0) packing their weights and
 * computing their columns of the input projection for all steps at once, gi[:, g*H + block] =
 * x W_ih[g*H + block]^T + bias (a GEMM over T*B rows with k = I). The time loop reads only
 * the block's own columns of gi and its own panels. */
static void FN(rnn_fwd_chunk_)(void *ctx, int ch, int nch)
{
    const FN(rnn_fwd_job_) *j = ctx;
    const GATES_TAB *k = j->k;
    const RMM_TAB *rm = j->rm;
    const int G = j->G, gru = j->gru, lstm = j->lstm;
    const ptrdiff_t T = j->T, B = j->B, I = j->I, H = j->H, GH = G * H, BH = B * H;
    const ptrdiff_t NR = rm->nr, wblk = j->wblk;
    DT *const wp = j->wp, *const gi = j->gi;
    ptrdiff_t ub, ue; /* this chunk's unit blocks, the same at every step */
    rnn_blocks(j->nb, ch, nch, &ub, &ue);
    if (j->s == 0)
        for (ptrdiff_t u = ub; u < ue; u++) {
            DT *wb = wp + u * wblk, *wi = wb + G * H * NR;
            const ptrdiff_t u0 = u * NR, nu = H - u0 < NR ? H - u0 : NR;
            rm->pack_fwd(j->w_hh, H, H, G, u, wb);
            rm->pack_fwd(j->w_ih, H, I, G, u, wi);
            for (int g = 0; g < G; g++)
                rm->panel(j->x_tbi, I, T * B, I, wi + g * I * NR, gi + g * H + u0, GH, (int)nu,
                          j->bias_in ? j->bias_in + g * H + u0 : NULL, 0);
        }
    const ptrdiff_t t = j->reverse ? T - 1 - j->s : j->s;
    const ptrdiff_t rd = j->reverse ? t + 1 : t, wr = j->reverse ? t : t + 1;
    const DT *hp = j->states_sbh + rd * BH;
    DT *hw = j->states_sbh + wr * BH;
    DT *gi_t = gi + t * B * GH, *y_t = j->y_tbh + t * BH;
    DT *g_t = j->gates_tbk ? j->gates_tbk + t * B * 4 * H : NULL;
    /* GRU: gh = W_hh h + b_hh stays apart from gi (r multiplies its n block); the others
     * accumulate W_hh h into gi in place */
    DT *acc = gru ? j->aux : gi_t;
    for (ptrdiff_t u = ub; u < ue; u++) {
        const ptrdiff_t u0 = u * NR, nu = H - u0 < NR ? H - u0 : NR;
        for (int g = 0; g < G; g++)
            rm->panel(hp, H, B, H, wp + u * wblk + g * H * NR, acc + g * H + u0, GH, (int)nu,
                      gru && j->b_hh ? j->b_hh + g * H + u0 : NULL, !gru);
        if (gru)
            k->gru_fwd(gi_t, j->aux, hp, hw, y_t, g_t, j->lengths_b, t, B, u0, nu, H);
        else if (lstm)
            k->lstm_fwd(gi_t, hp, j->cells_sbh + rd * BH, hw, j->cells_sbh + wr * BH, y_t, g_t,
                        j->lengths_b, t, B, u0, nu, H);
        else
            k->rnn_fwd(gi_t, hp, hw, y_t, j->relu, j->lengths_b, t, B, u0, nu, H);
    }
}

int FN(mn_rnn_fwd_)(int cell, const DT *x_tbi, const DT *h0_bh, const DT *c0_bh, const DT *w_ih,
                    const DT *w_hh, const DT *b_ih, const DT *b_hh, const int64_t *lengths_b,
                    DT *y_tbh, DT *hn_bh, DT *cn_bh, DT *gates_tbk, DT *states_sbh, DT *cells_sbh,
                    ptrdiff_t T, ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, int reverse, int isa,
                    int n_threads)
{
    const GATES_TAB *k = PICK(isa);
    const RMM_TAB *rm = PICK_RMM(isa);
    const int G = mn_rnn_gates(cell), relu = cell == MN_CELL_RNN_RELU;
    const int gru = cell == MN_CELL_GRU, lstm = cell == MN_CELL_LSTM;
    const ptrdiff_t GH = G * H, BH = B * H, TB = T * B;
    if (T <= 0 || B <= 0 || H <= 0)
        return 0;
    const ptrdiff_t NR = rm->nr, nb = (H + NR - 1) / NR;
    DT *gi = mn_workspace(WS_RNN_GATES, (size_t)(TB * GH) * sizeof(DT));
    DT *aux = mn_workspace(WS_RNN_AUX, (size_t)(B * GH + GH) * sizeof(DT));
    /* packed W_hh and W_ih panels, per unit block [G][H][NR] then [G][I][NR] */
    const ptrdiff_t wblk = G * (H + I) * NR;
    DT *wp = mn_workspace(WS_RNN_PANELS, (size_t)(nb * wblk) * sizeof(DT));
    if (!gi || !aux || !wp)
        return -1;
    /* Outside the GRU, b_hh only ever adds to the same pre-activation as b_ih: fold it into
     * the input projection's bias. */
    const DT *bias_in = b_ih;
    if (!gru && b_hh) {
        DT *sum = aux + B * GH;
        for (ptrdiff_t j = 0; j < GH; j++)
            sum[j] = (b_ih ? b_ih[j] : (DT)0) + b_hh[j];
        bias_in = sum;
    }
    const ptrdiff_t first = reverse ? T : 0;
    for (ptrdiff_t j = 0; j < BH; j++)
        states_sbh[first * BH + j] = h0_bh[j];
    if (lstm)
        for (ptrdiff_t j = 0; j < BH; j++)
            cells_sbh[first * BH + j] = c0_bh[j];

    const int nt = FN(loop_threads_)(B, H, GH, nb, n_threads);
    FN(rnn_fwd_job_) job = {.k = k,
                            .rm = rm,
                            .x_tbi = x_tbi,
                            .w_ih = w_ih,
                            .w_hh = w_hh,
                            .b_hh = b_hh,
                            .bias_in = bias_in,
                            .lengths_b = lengths_b,
                            .y_tbh = y_tbh,
                            .gates_tbk = gates_tbk,
                            .states_sbh = states_sbh,
                            .cells_sbh = cells_sbh,
                            .gi = gi,
                            .aux = aux,
                            .wp = wp,
                            .T = T,
                            .B = B,
                            .I = I,
                            .H = H,
                            .nb = nb,
                            .wblk = wblk,
                            .G = G,
                            .relu = relu,
                            .gru = gru,
                            .lstm = lstm,
                            .reverse = reverse};
    for (job.s = 0; job.s < T; job.s++)
        mn_parallel(nt, nt, FN(rnn_fwd_chunk_), &job);
    const ptrdiff_t last = reverse ? 0 : T;
    for (ptrdiff_t j = 0; j < BH; j++)
        hn_bh[j] = states_sbh[last * BH + j];
    if (lstm)
        for (ptrdiff_t j = 0; j < BH; j++)
            cn_bh[j] = cells_sbh[last * BH + j];
    return 0;
}

/* The backward's arguments and the current step, shared by the chunks of its jobs. */
typedef struct {
    const GATES_TAB *k;
    const RMM_TAB *rm;
    const DT *dy_tbh, *w_hh, *gates_tbk, *states_sbh, *cells_sbh, *zeros;
    const int64_t *lengths_b;
    DT *dgi, *dgh, *dh, *dc, *sums, *wp;
    ptrdiff_t T, B, H, nb;
    int G, relu, gru, lstm, reverse;
    ptrdiff_t s; /* this job runs step s's matmul (s < T) and step s - 1's gate kernel (s > 0) */
} FN(rnn_bwd_job_);

/* Chunk ch of nch, for its unit blocks: at s == T, pack W_hh's panels; below, step s's
 * dh[:, block] += dgh_s @ W_hh[:, block]; then step s - 1's gate-gradient kernel, which reads
 * only the block of dh just updated. */
static void FN(rnn_bwd_chunk_)(void *ctx, int ch, int nch)
{
    const FN(rnn_bwd_job_) *j = ctx;
    const GATES_TAB *k = j->k;
    const RMM_TAB *rm = j->rm;
    const int gru = j->gru, lstm = j->lstm;
    const ptrdiff_t T = j->T, B = j->B, H = j->H, GH = j->G * H, BH = B * H, NR = rm->nr;
    DT *const wp = j->wp, *const dh = j->dh;
    ptrdiff_t ub, ue; /* this chunk's unit blocks, the same at every step */
    rnn_blocks(j->nb, ch, nch, &ub, &ue);
    if (j->s == T) {
        for (ptrdiff_t u = ub; u < ue; u++)
            rm->pack_bwd(j->w_hh, H, GH, u, wp + u * GH * NR);
    } else {
        const ptrdiff_t t = j->reverse ? T - 1 - j->s : j->s;
        const DT *dgh_t = j->dgh + t * B * GH;
        for (ptrdiff_t u = ub; u < ue; u++) {
            const ptrdiff_t u0 = u * NR, nu = H - u0 < NR ? H - u0 : NR;
            rm->panel(dgh_t, GH, B, GH, wp + u * GH * NR, dh + u0, H, (int)nu, NULL, 1);
        }
    }
    if (j->s == 0)
        return;
    const ptrdiff_t s = j->s - 1;
    const ptrdiff_t t = j->reverse ? T - 1 - s : s;
    const ptrdiff_t rd = j->reverse ? t + 1 : t, wr = j->reverse ? t : t + 1;
    const DT *dy_t = j->dy_tbh ? j->dy_tbh + t * BH : NULL;
    DT *dgi_t = j->dgi + t * B * GH, *dgh_t = j->dgh + t * B * GH;
    const DT *g_t = j->gates_tbk ? j->gates_tbk + t * B * 4 * H : NULL;
    for (ptrdiff_t u = ub; u < ue; u++) {
        const ptrdiff_t u0 = u * NR, nu = H - u0 < NR ? H - u0 : NR;
        if (gru)
            k->gru_bwd(dy_t, dh, g_t, j->states_sbh + rd * BH, dgi_t, dgh_t, j->sums, j->zeros,
                       j->lengths_b, t, B, u0, nu, H);
        else if (lstm)
            k->lstm_bwd(dy_t, dh, j->dc, g_t, j->cells_sbh + rd * BH, j->cells_sbh + wr * BH,
                        dgi_t, j->sums, j->zeros, j->lengths_b, t, B, u0, nu, H);
        else
            k->rnn_bwd(dy_t, dh, j->states_sbh + wr * BH, dgi_t, j->sums, j->relu, j->zeros,
                       j->lengths_b, t, B, u0, nu, H);
    }
}

int FN(mn_rnn_bwd_)(int cell, const DT *dy_tbh, const DT *dhn_bh, const DT *dcn_bh,
                    const DT *x_tbi, const DT *w_ih, const DT *w_hh, const DT *gates_tbk,
                    const DT *states_sbh, const DT *cells_sbh, const int64_t *lengths_b,
                    DT *dx_tbi, DT *dh0_bh, DT *dc0_bh, DT *dw_ih, DT *dw_hh, DT *db_ih, DT *db_hh,
                    ptrdiff_t T, ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, int reverse, int isa,
                    int n_threads)
{
    const GATES_TAB *k = PICK(isa);
    const RMM_TAB *rm = PICK_RMM(isa);
    const int G = mn_rnn_gates(cell), relu = cell == MN_CELL_RNN_RELU;
    const int gru = cell == MN_CELL_GRU, lstm = cell == MN_CELL_LSTM;
    const ptrdiff_t GH = G * H, BH = B * H, TB = T * B;
    if (T <= 0 || B <= 0 || H <= 0)
        return 0;
    const ptrdiff_t NR = rm->nr, nb = (H + NR - 1) / NR;
    /* dgi: pre-activation gradients of the input projection, all steps; the GRU's hidden
     * projection differs in its n block (times r), the other cells share one array. */
    DT *dgi = mn_workspace(WS_RNN_GATES, (size_t)(TB * GH) * sizeof(DT));
    const ptrdiff_t ns = gru ? 4 * H : GH; /* bias-gradient sums */
    DT *aux = mn_workspace(WS_RNN_AUX, (size_t)((gru ? TB * GH : 0) + H + ns) * sizeof(DT));
    DT *wp = mn_workspace(WS_RNN_PANELS, (size_t)(nb * GH * NR) * sizeof(DT));
    if (!dgi || !aux || !wp)
        return -1;
    DT *dgh = gru ? aux : dgi;
    DT *zeros = aux + (gru ? TB * GH : 0); /* stands in for a missing dy */
    DT *sums = zeros + H;
    for (ptrdiff_t j = 0; j < H + ns; j++)
        zeros[j] = 0;
    /* the carried gradients live in the outputs dh0 and dc0 */
    DT *dh = dh0_bh, *dc = dc0_bh;
    for (ptrdiff_t j = 0; j < BH; j++)
        dh[j] = dhn_bh ? dhn_bh[j] : (DT)0;
    if (lstm)
        for (ptrdiff_t j = 0; j < BH; j++)
            dc[j] = dcn_bh ? dcn_bh[j] : (DT)0;

    const int nt = FN(loop_threads_)(B, H, GH, nb, n_threads);
    FN(rnn_bwd_job_) job = {.k = k,
                            .rm = rm,
                            .dy_tbh = dy_tbh,
                            .w_hh = w_hh,
                            .gates_tbk = gates_tbk,
                            .states_sbh = states_sbh,
                            .cells_sbh = cells_sbh,
                            .zeros = zeros,
                            .lengths_b = lengths_b,
                            .dgi = dgi,
                            .dgh = dgh,
                            .dh = dh,
                            .dc = dc,
                            .sums = sums,
                            .wp = wp,
                            .T = T,
                            .B = B,
                            .H = H,
                            .nb = nb,
                            .G = G,
                            .relu = relu,
                            .gru = gru,
                            .lstm = lstm,
                            .reverse = reverse};
    for (job.s = T; job.s >= 0; job.s--)
        mn_parallel(nt, nt, FN(rnn_bwd_chunk_), &job);
    /* everything that does not feed back: a few large GEMMs over all T * B rows */
    if (dx_tbi && GEMM(0, 0, TB, I, GH, 1, dgi, GH, w_ih, I, 0, dx_tbi, I, NULL, MN_ACT_IDENTITY,
                       isa, n_threads))
        return -1;
    if (GEMM(1, 0, GH, I, TB, 1, dgi, GH, x_tbi, I, 0, dw_ih, I, NULL, MN_ACT_IDENTITY, isa,
             n_threads))
        return -1;
    const DT *h_prev = states_sbh + (reverse ? BH : 0);
    if (GEMM(1, 0, GH, H, TB, 1, dgh, GH, h_prev, H, 0, dw_hh, H, NULL, MN_ACT_IDENTITY, isa,
             n_threads))
        return -1;
    /* the bias gradients were summed by the gate kernels: db_ih = sum dgi; db_hh = sum dgh,
     * which differs from it only in the GRU's n block */
    for (ptrdiff_t j = 0; j < GH; j++) {
        if (db_ih)
            db_ih[j] = sums[j];
        if (db_hh)
            db_hh[j] = gru && j >= 2 * H ? sums[3 * H + j - 2 * H] : sums[j];
    }
    return 0;
}

#undef FN
#undef DT
#undef SFX
#undef GATES_TAB
#undef PICK
#undef PICK_RMM
#undef RMM_TAB
#undef GEMM
