/* The inner loops of the eltwise family for one (dtype, ISA), instantiated by eltwise.c:
 * each function handles a range of elements or rows and is called once per chunk of a
 * pool job (eltwise_driver.h).
 * Parameters: DT, SFX (e.g. f32_avx2), ATTR (target attribute or nothing; both undefined
 * again at the end of this file) and the math:
 * M_EXP, M_EXPZ (exp that underflows to 0), M_LOGS (scalar, once per row), M_LOG1P (x >= 0),
 * M_EXPM1N (x <= 0), M_SIGMOID, M_TANH, M_ERFC, M_MAX. Loops are kept one operation per switch
 * case so that each vectorises. */

#include "names.h"

/* FN(name) -> name + SFX: FN(act_fwd_) is act_fwd_f32_{generic,avx2,avx512} and
 * act_fwd_f64_generic */
#define FN(name) MN_CAT(name, SFX)

/* sqrt(2/pi), 0.044715: the tanh approximation of GELU; 1/sqrt(2), 1/sqrt(2 pi) */
#define K_GT0 ((DT)0.7978845608028654)
#define K_GT1 ((DT)0.044715)
#define K_SQRT1_2 ((DT)0.7071067811865476)
#define K_INV_SQRT_2PI ((DT)0.3989422804014327)

ATTR static void FN(act_fwd_)(const DT *restrict x, DT *restrict y, ptrdiff_t n, int act, DT alpha)
{
    switch (act) {
    case MN_ACT_RELU: /* NaN < 0 is false: NaN propagates, as in np.maximum */
        for (ptrdiff_t i = 0; i < n; i++)
            y[i] = x[i] < 0 ? (DT)0 : x[i];
        break;
    case MN_ACT_LEAKY_RELU:
        for (ptrdiff_t i = 0; i < n; i++)
            y[i] = x[i] > 0 ? x[i] : x[i] * alpha;
        break;
    case MN_ACT_ELU:
        for (ptrdiff_t i = 0; i < n; i++) {
            const DT v = x[i];
            const DT neg = alpha * M_EXPM1N(v < 0 ? v : (DT)0);
            y[i] = v < 0 ? neg : v; /* NaN (v < 0 false) propagates, as in PyTorch */
        }
        break;
    case MN_ACT_GELU:
        for (ptrdiff_t i = 0; i < n; i++)
            y[i] = (DT)0.5 * x[i] * M_ERFC(-x[i] * K_SQRT1_2);
        break;
    case MN_ACT_GELU_TANH:
        /* 0.5 x (1 + tanh(u)) == x * sigmoid(2u): no cancellation for x << 0 */
        for (ptrdiff_t i = 0; i < n; i++) {
            const DT v = x[i];
            const DT u = K_GT0 * (v + K_GT1 * v * v * v);
            /* at v = -inf the clamped sigmoid is a tiny normal, not 0: -inf * it would be
             * -inf where 0.5 x (1 + tanh(u)) is -inf * 0 = NaN (PyTorch's answer too) */
            y[i] = v * (v > -(DT)INFINITY ? M_SIGMOID(u + u) : (DT)0);
        }
        break;
    case MN_ACT_SILU:
        for (ptrdiff_t i = 0; i < n; i++) {
            const DT v = x[i]; /* -inf * sigmoid(-inf) = -inf * 0 = NaN, as in PyTorch */
            y[i] = v * (v > -(DT)INFINITY ? M_SIGMOID(v) : (DT)0);
        }
        break;
    case MN_ACT_SIGMOID:
        for (ptrdiff_t i = 0; i < n; i++)
            y[i] = M_SIGMOID(x[i]);
        break;
    case MN_ACT_TANH:
        for (ptrdiff_t i = 0; i < n; i++)
            y[i] = M_TANH(x[i]);
        break;
    default: /* identity */
        if (y != x)
            for (ptrdiff_t i = 0; i < n; i++)
                y[i] = x[i];
        break;
    }
}

/* s is the forward output y for sigmoid/tanh and the forward input x otherwise. */
ATTR static void FN(act_bwd_)(const DT *restrict dy, const DT *restrict s, DT *restrict dx,
                              ptrdiff_t n, int act, DT alpha)
{
    switch (act) {
    case MN_ACT_RELU: /* PyTorch's threshold_backward: x <= 0 ? 0 : dy */
        for (ptrdiff_t i = 0; i < n; i++) {
            const DT g = dy[i]; /* loaded unconditionally, or SSE2 code branches per element */
            dx[i] = s[i] <= 0 ? (DT)0 : g;
        }
        break;
    case MN_ACT_LEAKY_RELU:
        for (ptrdiff_t i = 0; i < n; i++)
            dx[i] = s[i] > 0 ? dy[i] : dy[i] * alpha;
        break;
    case MN_ACT_ELU:
        for (ptrdiff_t i = 0; i < n; i++) {
            const DT v = s[i];
            const DT neg = dy[i] * alpha * M_EXP(v < 0 ? v : (DT)0);
            dx[i] = v <= 0 ? neg : dy[i]; /* PyTorch's elu_backward: NaN takes dy */
        }
        break;
    case MN_ACT_GELU: /* Phi(x) + x phi(x) */
        for (ptrdiff_t i = 0; i < n; i++) {
            const DT v = s[i];
            const DT cdf = (DT)0.5 * M_ERFC(-v * K_SQRT1_2);
            const DT pdf = K_INV_SQRT_2PI * M_EXP((DT)-0.5 * v * v);
            dx[i] = dy[i] * (cdf + v * pdf);
        }
        break;
    case MN_ACT_GELU_TANH: /* y = x q, q = sigmoid(2u): y' = q + 2 x q (1 - q) u' */
        for (ptrdiff_t i = 0; i < n; i++) {
            const DT v = s[i];
            const DT u = K_GT0 * (v + K_GT1 * v * v * v);
            const DT q = M_SIGMOID(u + u);
            const DT du = K_GT0 * ((DT)1 + (DT)3 * K_GT1 * v * v);
            dx[i] = dy[i] * (q + (DT)2 * v * q * ((DT)1 - q) * du);
        }
        break;
    case MN_ACT_SILU: /* y = x q, q = sigmoid(x): y' = q (1 + x (1 - q)) */
        for (ptrdiff_t i = 0; i < n; i++) {
            const DT v = s[i];
            const DT q = M_SIGMOID(v);
            dx[i] = dy[i] * (q * ((DT)1 + v * ((DT)1 - q)));
        }
        break;
    case MN_ACT_SIGMOID:
        for (ptrdiff_t i = 0; i < n; i++)
            dx[i] = dy[i] * s[i] * ((DT)1 - s[i]);
        break;
    case MN_ACT_TANH:
        for (ptrdiff_t i = 0; i < n; i++)
            dx[i] = dy[i] * ((DT)1 - s[i] * s[i]);
        break;
    default:
        if (dx != dy)
            for (ptrdiff_t i = 0; i < n; i++)
                dx[i] = dy[i];
        break;
    }
}

ATTR static inline DT FN(rowmax_)(const DT *restrict x, ptrdiff_t c)
{
    DT m = -(DT)INFINITY;
#pragma omp simd reduction(max : m)
    for (ptrdiff_t j = 0; j < c; j++)
        m = x[j] > m ? x[j] : m;
    return m;
}

/* Row sums run in blocks of RB: each block is a vector reduction in DT (or lane sums, in
 * expsum_ below), the block sums add up in double. A float sum of thousands of terms straight
 * through would lose ~1e-5 with 4-8 lanes (each lane's running sum is large, so every addition
 * rounds coarsely). */
#define RB 512

/* The exp-sum loop of a row runs in chunks of CH elements: a fixed-count inner loop is straight
 * vector code at every ISA, and the tail goes through a padded copy instead of a scalar
 * epilogue. With the course's 10-class heads a plain loop never reached its vector body and
 * ran every exp scalar. Lane sums live in acc[CH], are reduced by a fixed tree and added
 * in double every RB elements, so the result is the same at every ISA. */
#define CH 16

/* *s += the lanes of acc, summed by a fixed tree (a serial chain of 16 double additions cost
 * more than a whole 10-class row); acc is cleared */
ATTR static inline void FN(flush_)(DT *restrict acc, double *restrict s)
{
    for (int h = CH / 2; h >= 1; h /= 2)
        for (int k = 0; k < h; k++)
            acc[k] += acc[k + h];
    *s += (double)acc[0];
    for (int k = 0; k < CH; k++)
        acc[k] = 0;
}

/* sum_j exp(x_j - m), storing the terms in y when store */
ATTR static inline
    __attribute__((always_inline)) double FN(expsum_)(const DT *restrict x, DT *restrict y,
                                                      ptrdiff_t c, DT m, const int store)
{
    double s = 0;
    DT acc[CH];
    for (int k = 0; k < CH; k++)
        acc[k] = 0;
    ptrdiff_t j = 0;
    for (; j + CH <= c; j += CH) {
        for (int k = 0; k < CH; k++) {
            const DT e = M_EXPZ(x[j + k] - m);
            if (store)
                y[j + k] = e;
            acc[k] += e;
        }
        if ((j + CH) % RB == 0)
            FN(flush_)(acc, &s);
    }
    if (j < c) {
        const int r = (int)(c - j);
        DT xt[CH], et[CH];
        for (int k = 0; k < CH; k++)
            xt[k] = k < r ? x[j + k] : m; /* exp(m - m) = 1 in the pad, discounted below */
        for (int k = 0; k < CH; k++) {
            et[k] = M_EXPZ(xt[k] - m);
            acc[k] += k < r ? et[k] : (DT)0;
        }
        if (store)
            for (int k = 0; k < r; k++)
                y[j + k] = et[k];
    }
    FN(flush_)(acc, &s);
    return s;
}

/* log sum_j exp(x_j - m), m the row max */
ATTR static inline DT FN(logsum_)(const DT *restrict x, ptrdiff_t c, DT m)
{
    return M_LOGS((DT)FN(expsum_)(x, NULL, c, m, 0));
}

ATTR static void FN(softmax_fwd_rows_)(const DT *restrict x, DT *restrict y, ptrdiff_t r0,
                                       ptrdiff_t r1, ptrdiff_t c, int log)
{
    for (ptrdiff_t r = r0; r < r1; r++) {
        const DT *restrict xr = x + r * c;
        DT *restrict yr = y + r * c;
        const DT m = FN(rowmax_)(xr, c);
        if (log) {
            const DT ls = FN(logsum_)(xr, c, m);
            for (ptrdiff_t j = 0; j < c; j++)
                yr[j] = (xr[j] - m) - ls;
        } else {
            const DT inv = (DT)(1.0 / FN(expsum_)(xr, yr, c, m, 1));
            for (ptrdiff_t j = 0; j < c; j++)
                yr[j] *= inv;
        }
    }
}

ATTR static void FN(softmax_bwd_rows_)(const DT *restrict dy, const DT *restrict y,
                                       DT *restrict dx, ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t c,
                                       int log)
{
    for (ptrdiff_t r = r0; r < r1; r++) {
        const DT *restrict dyr = dy + r * c;
        const DT *restrict yr = y + r * c;
        DT *restrict dxr = dx + r * c;
        double sd = 0;
        for (ptrdiff_t j0 = 0; j0 < c; j0 += RB) {
            const ptrdiff_t j1 = c - j0 < RB ? c : j0 + RB;
            DT b = 0;
            if (log) {
#pragma omp simd reduction(+ : b)
                for (ptrdiff_t j = j0; j < j1; j++)
                    b += dyr[j];
            } else {
#pragma omp simd reduction(+ : b)
                for (ptrdiff_t j = j0; j < j1; j++)
                    b += dyr[j] * yr[j];
            }
            sd += (double)b;
        }
        const DT s = (DT)sd;
        if (log) {
            for (ptrdiff_t j = 0; j < c; j++)
                dxr[j] = dyr[j] - M_EXPZ(yr[j]) * s;
        } else {
            for (ptrdiff_t j = 0; j < c; j++)
                dxr[j] = yr[j] * (dyr[j] - s);
        }
    }
}

ATTR static void FN(xent_fwd_rows_)(const DT *restrict x, const int64_t *restrict t,
                                    const DT *restrict w, DT *restrict loss, double *restrict lse,
                                    ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t c, int64_t ignore_index,
                                    DT ls)
{
    for (ptrdiff_t r = r0; r < r1; r++) {
        const DT *restrict xr = x + r * c;
        const DT m = FN(rowmax_)(xr, c);
        const DT logs = FN(logsum_)(xr, c, m);
        lse[r] = (double)m + (double)logs;
        const int64_t tr = t[r];
        if (tr == ignore_index) {
            loss[r] = 0;
            continue;
        }
        /* -logp_j = (m - x_j) + logs: both terms >= 0, no cancellation against lse ~ 1e4 */
        DT l = (w ? w[tr] : (DT)1) * ((m - xr[tr]) + logs);
        if (ls != 0) {
            double sm = 0;
            for (ptrdiff_t j0 = 0; j0 < c; j0 += RB) {
                const ptrdiff_t j1 = c - j0 < RB ? c : j0 + RB;
                DT b = 0;
                if (w) {
#pragma omp simd reduction(+ : b)
                    for (ptrdiff_t j = j0; j < j1; j++)
                        b += w[j] * ((m - xr[j]) + logs);
                } else {
#pragma omp simd reduction(+ : b)
                    for (ptrdiff_t j = j0; j < j1; j++)
                        b += (m - xr[j]) + logs;
                }
                sm += (double)b;
            }
            l = ((DT)1 - ls) * l + ls / (DT)c * (DT)sm;
        }
        loss[r] = l;
    }
}

ATTR static void FN(xent_bwd_rows_)(const DT *restrict g, ptrdiff_t g_stride, double g_scale,
                                    const DT *restrict x, const int64_t *restrict t,
                                    const DT *restrict w, DT wtotal, const double *restrict lse,
                                    DT *restrict dx, ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t c,
                                    int64_t ignore_index, DT ls)
{
    for (ptrdiff_t r = r0; r < r1; r++) {
        const DT *restrict xr = x + r * c;
        DT *restrict dr = dx + r * c;
        const int64_t tr = t[r];
        if (tr == ignore_index) { /* exact zeros even when g is inf/NaN (mean of nothing) */
            for (ptrdiff_t j = 0; j < c; j++)
                dr[j] = 0;
            continue;
        }
        const DT m = FN(rowmax_)(xr, c);
        const DT logs = (DT)(lse[r] - (double)m);
        const DT gr = (DT)((double)g[r * g_stride] * g_scale);
        /* dx_j = a (p_j - [j == t]) + b (W p_j - w_j) = (a + b W) p_j - b w_j - a [j == t] */
        const DT a = gr * ((DT)1 - ls) * (w ? w[tr] : (DT)1);
        const DT b = gr * ls / (DT)c;
        const DT coef = a + b * wtotal;
        if (w) {
            for (ptrdiff_t j = 0; j < c; j++)
                dr[j] = coef * M_EXPZ((xr[j] - m) - logs) - b * w[j];
        } else {
            for (ptrdiff_t j = 0; j < c; j++)
                dr[j] = coef * M_EXPZ((xr[j] - m) - logs) - b;
        }
        dr[tr] -= a;
    }
}

/* BCE-with-logits over flat elements [0, n) that start at column j0 of a row of length c;
 * the caller splits ranges at row ends, so pos_weight is pw[j0 + i]. The options are
 * compile-time constants of an always-inlined body, one straight-line copy per combination:
 * with runtime NULL tests in the loop GCC vectorised only one of the unswitched variants, and
 * the others ran scalar. */
ATTR static inline __attribute__((always_inline))
DT FN(bce_fwd_body_)(const DT *restrict x, const DT *restrict t, const DT *restrict w,
                     const DT *restrict pw, DT *restrict loss, ptrdiff_t n, const int has_w,
                     const int has_pw, const int store)
{
    /* two passes over at most 1024 elements (the caller's chunks): the losses into `loss` or
     * a stack buffer, then their sum; fused into one loop, GCC ran the reduction scalar */
    DT buf[1024];
    DT *restrict out = store ? loss : buf;
    for (ptrdiff_t i = 0; i < n; i++) {
        const DT v = x[i], tv = t[i];
        const DT lw = has_pw ? (DT)1 + (pw[i] - (DT)1) * tv : (DT)1;
        const DT av = v < 0 ? -v : v;
        const DT sp = M_LOG1P(M_EXP(-av)) + M_MAX(-v, (DT)0); /* log(1 + exp(-v)) */
        const DT l = ((DT)1 - tv) * v + lw * sp;
        out[i] = has_w ? l * w[i] : l;
    }
    DT s = 0;
#pragma omp simd reduction(+ : s)
    for (ptrdiff_t i = 0; i < n; i++)
        s += out[i];
    return s;
}

ATTR static DT FN(bce_fwd_seg_)(const DT *restrict x, const DT *restrict t, const DT *restrict w,
                                const DT *restrict pw, DT *restrict loss, ptrdiff_t n)
{
    const int k = (w != NULL) * 4 + (pw != NULL) * 2 + (loss != NULL);
    switch (k) {
    case 0: return FN(bce_fwd_body_)(x, t, w, pw, loss, n, 0, 0, 0);
    case 1: return FN(bce_fwd_body_)(x, t, w, pw, loss, n, 0, 0, 1);
    case 2: return FN(bce_fwd_body_)(x, t, w, pw, loss, n, 0, 1, 0);
    case 3: return FN(bce_fwd_body_)(x, t, w, pw, loss, n, 0, 1, 1);
    case 4: return FN(bce_fwd_body_)(x, t, w, pw, loss, n, 1, 0, 0);
    case 5: return FN(bce_fwd_body_)(x, t, w, pw, loss, n, 1, 0, 1);
    case 6: return FN(bce_fwd_body_)(x, t, w, pw, loss, n, 1, 1, 0);
    default: return FN(bce_fwd_body_)(x, t, w, pw, loss, n, 1, 1, 1);
    }
}

ATTR static inline __attribute__((always_inline)) void FN(bce_bwd_body_)(
    const DT *restrict g, DT g_scale, const DT *restrict x, const DT *restrict t,
    const DT *restrict w, const DT *restrict pw, DT *restrict dx, ptrdiff_t n, const int g_each,
    const int has_w, const int has_pw)
{
    const DT g0 = g[0] * g_scale;
#pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) {
        const DT tv = t[i];
        const DT p = has_pw ? pw[i] : (DT)1;
        const DT lw = (DT)1 + (p - (DT)1) * tv;
        DT d = lw * M_SIGMOID(x[i]) - p * tv;
        if (has_w)
            d = d * w[i];
        dx[i] = (g_each ? g[i] * g_scale : g0) * d;
    }
}

/* g_stride is 0 (one scalar gradient) or 1 (one per element) */
ATTR static void FN(bce_bwd_seg_)(const DT *restrict g, ptrdiff_t g_stride, DT g_scale,
                                  const DT *restrict x, const DT *restrict t, const DT *restrict w,
                                  const DT *restrict pw, DT *restrict dx, ptrdiff_t n)
{
    const int k = (g_stride != 0) * 4 + (w != NULL) * 2 + (pw != NULL);
    switch (k) {
    case 0: FN(bce_bwd_body_)(g, g_scale, x, t, w, pw, dx, n, 0, 0, 0); break;
    case 1: FN(bce_bwd_body_)(g, g_scale, x, t, w, pw, dx, n, 0, 0, 1); break;
    case 2: FN(bce_bwd_body_)(g, g_scale, x, t, w, pw, dx, n, 0, 1, 0); break;
    case 3: FN(bce_bwd_body_)(g, g_scale, x, t, w, pw, dx, n, 0, 1, 1); break;
    case 4: FN(bce_bwd_body_)(g, g_scale, x, t, w, pw, dx, n, 1, 0, 0); break;
    case 5: FN(bce_bwd_body_)(g, g_scale, x, t, w, pw, dx, n, 1, 0, 1); break;
    case 6: FN(bce_bwd_body_)(g, g_scale, x, t, w, pw, dx, n, 1, 1, 0); break;
    default: FN(bce_bwd_body_)(g, g_scale, x, t, w, pw, dx, n, 1, 1, 1); break;
    }
}

#undef RB
#undef CH
#undef K_GT0
#undef K_GT1
#undef K_SQRT1_2
#undef K_INV_SQRT_2PI
#undef FN

#undef SFX
#undef ATTR
