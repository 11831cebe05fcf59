/* Recurrent layers over a whole sequence: GRU (PyTorch's reset-after form, gates r, z, n),
 * Elman RNN (tanh or relu) and LSTM (gates i, f, g, o), forward and backpropagation through
 * time. The equations and the saved arrays are specified by minnet/reference/rnn.py.
 *
 * Forward: the input projections of all T steps are one matmul (T*B, I) x (I, G*H); each
 * step is one hidden matmul (B, H) x (H, G*H) and one fused gate kernel that writes the new
 * state, the output and the gate values the backward needs. Backward: the steps run in
 * reverse, each one fused gate-gradient kernel (which also sums the bias gradients) and one
 * matmul for dh; then dx, dW_ih and dW_hh are three large GEMMs (mn_gemm) over all steps.
 * Threads own blocks of hidden units for the whole sequence (rnn_driver.h, rnn_rmm.h). */
#ifndef MN_RNN_H
#define MN_RNN_H

#include <stddef.h>
#include <stdint.h>

enum mn_cell { MN_CELL_GRU = 0, MN_CELL_RNN_TANH = 1, MN_CELL_RNN_RELU = 2, MN_CELL_LSTM = 3 };

/* Gate blocks per cell: 3 (GRU), 1 (RNN), 4 (LSTM). */
int mn_rnn_gates(int cell);
/* Width of the per-step `gates` array the forward saves: 4H (GRU: r, z, n, W_hn h + b_hn;
 * LSTM: i, f, g, o), 0 for the RNN (its states suffice). */
int mn_rnn_saved_gates(int cell);

/* y_tbh, h_n = layer(x_tbi, h0 [, c0]): time-major; weights (G*H, I) and (G*H, H), biases
 * (G*H) or NULL; lengths_b NULL or B values in [0, T] (row b takes part in steps t < len).
 * Saved for the backward: gates_tbk (T, B, K=mn_rnn_saved_gates), states_sbh (T+1, B, H) and
 * for the LSTM cells_sbh (T+1, B, H); the step at t reads states[t] and writes states[t+1]
 * (reverse: reads t+1, writes t). c0, c_n, cells: LSTM only (NULL otherwise).
 * Returns 0, or -1 when scratch memory could not be allocated. */
int mn_rnn_fwd_f32(int cell, const float *x_tbi, const float *h0_bh, const float *c0_bh,
                   const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh,
                   const int64_t *lengths_b, float *y_tbh, float *hn_bh, float *cn_bh,
                   float *gates_tbk, float *states_sbh, float *cells_sbh, ptrdiff_t T, ptrdiff_t B,
                   ptrdiff_t n_in, ptrdiff_t H, int reverse, int isa, int n_threads);
int mn_rnn_fwd_f64(int cell, const double *x_tbi, const double *h0_bh, const double *c0_bh,
                   const double *w_ih, const double *w_hh, const double *b_ih, const double *b_hh,
                   const int64_t *lengths_b, double *y_tbh, double *hn_bh, double *cn_bh,
                   double *gates_tbk, double *states_sbh, double *cells_sbh, ptrdiff_t T,
                   ptrdiff_t B, ptrdiff_t n_in, ptrdiff_t H, int reverse, int isa, int n_threads);

/* (dx, dh0 [, dc0], dW_ih, dW_hh, db_ih, db_hh) from (dy, dh_n [, dc_n]) and what the forward
 * saved. dy_tbh, dhn_bh, dcn_bh may be NULL (zero gradient); dx_tbi may be NULL (not wanted);
 * db_ih, db_hh may be NULL (no bias). Every output is overwritten, not accumulated. */
int mn_rnn_bwd_f32(int cell, const float *dy_tbh, const float *dhn_bh, const float *dcn_bh,
                   const float *x_tbi, const float *w_ih, const float *w_hh,
                   const float *gates_tbk, const float *states_sbh, const float *cells_sbh,
                   const int64_t *lengths_b, float *dx_tbi, float *dh0_bh, float *dc0_bh,
                   float *dw_ih, float *dw_hh, float *db_ih, float *db_hh, ptrdiff_t T,
                   ptrdiff_t B, ptrdiff_t n_in, ptrdiff_t H, int reverse, int isa, int n_threads);
int mn_rnn_bwd_f64(int cell, const double *dy_tbh, const double *dhn_bh, const double *dcn_bh,
                   const double *x_tbi, const double *w_ih, const double *w_hh,
                   const double *gates_tbk, const double *states_sbh, const double *cells_sbh,
                   const int64_t *lengths_b, double *dx_tbi, double *dh0_bh, double *dc0_bh,
                   double *dw_ih, double *dw_hh, double *db_ih, double *db_hh, ptrdiff_t T,
                   ptrdiff_t B, ptrdiff_t n_in, ptrdiff_t H, int reverse, int isa, int n_threads);

#endif
