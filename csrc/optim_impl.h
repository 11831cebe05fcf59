/* The update loops of the optim family for one (dtype, ISA), instantiated by optim.c.
 * Parameters: DT, SFX, ATTR (SFX and ATTR undefined again at the end of this file). Scalars
 * arrive already in DT, and complements such as 1 - beta2 are formed in double by the caller
 * (as PyTorch forms them in Python): in float, 1 - 0.999f is off by 1.3e-5 relative. Options
 * fixed for a call (maximize, weight decay, momentum, ...) are compile-time constants of
 * always-inlined bodies, one straight-line loop per combination: tested inside one loop, they
 * kept GCC from vectorising it. */

#include "names.h"

/* FN(name) -> name + SFX: FN(adam_) is adam_{f32,f64}_{generic,avx2,avx512} */
#define FN(name) MN_CAT(name, SFX)

/* torch.lerp: start + w (end - start) for w < 0.5, else end - (end - start) (1 - w) */
#define LERP(s, e, w) ((w) < (DT)0.5 ? (s) + (w) * ((e) - (s)) : (e) - ((e) - (s)) * ((DT)1 - (w)))

ATTR static inline __attribute__((always_inline)) void FN(sgd_body_)(
    DT *restrict p, const DT *restrict grad, DT *restrict buf, ptrdiff_t n, DT lr, DT momentum,
    DT keep, DT wd, DT sign, const int has_wd, const int mode, const int nesterov)
{
    /* mode 0: no momentum; 1: first step, buf := g; 2: buf := momentum * buf + keep * g */
    for (ptrdiff_t i = 0; i < n; i++) {
        DT g = sign * grad[i];
        if (has_wd)
            g = g + wd * p[i];
        if (mode != 0) {
            const DT b = mode == 1 ? g : buf[i] * momentum + keep * g;
            buf[i] = b;
            g = nesterov ? g + momentum * b : b;
        }
        p[i] = p[i] - lr * g;
    }
}

ATTR static void FN(sgd_)(DT *restrict p, const DT *restrict grad, DT *restrict buf, ptrdiff_t n,
                          DT lr, DT momentum, DT keep, int nesterov, DT wd, int maximize,
                          int first_step)
{
    const DT sign = maximize ? (DT)-1 : (DT)1;
    const int has_wd = wd != 0;
    const int mode = momentum == 0 ? 0 : (first_step ? 1 : 2);
#define SGD_CASE(W, M, N) FN(sgd_body_)(p, grad, buf, n, lr, momentum, keep, wd, sign, W, M, N)
    switch (has_wd * 100 + mode * 10 + (nesterov != 0)) {
    case 0:
    case 1: SGD_CASE(0, 0, 0); break;
    case 10: SGD_CASE(0, 1, 0); break;
    case 11: SGD_CASE(0, 1, 1); break;
    case 20: SGD_CASE(0, 2, 0); break;
    case 21: SGD_CASE(0, 2, 1); break;
    case 100:
    case 101: SGD_CASE(1, 0, 0); break;
    case 110: SGD_CASE(1, 1, 0); break;
    case 111: SGD_CASE(1, 1, 1); break;
    case 120: SGD_CASE(1, 2, 0); break;
    default: SGD_CASE(1, 2, 1); break;
    }
#undef SGD_CASE
}

/* The Adam loop with its options as compile-time constants: adam_ calls it once per
 * combination so each copy is a straight-line loop that vectorises (masked stores and
 * loop-carried option tests would not). */
ATTR static inline __attribute__((always_inline)) void FN(adam_body_)(
    DT *restrict p, const DT *restrict grad, DT *restrict m, DT *restrict v, DT *restrict vmax,
    ptrdiff_t n, DT w1, DT beta2, DT w2, DT eps, DT wd, DT step_size, DT bc2_sqrt, DT shrink,
    DT sign, const int wd_mode, const int amsgrad)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        DT g = sign * grad[i]; /* sign = -1 for maximize: exact */
        DT pv = p[i];
        if (wd_mode == 1) /* L2 penalty added to the gradient */
            g = g + wd * pv;
        else if (wd_mode == 2) /* AdamW: decoupled decay */
            pv = pv * shrink;
        const DT mv = LERP(m[i], g, w1);
        const DT vv = v[i] * beta2 + w2 * g * g;
        m[i] = mv;
        v[i] = vv;
        DT vh = vv;
        if (amsgrad) {
            vh = vmax[i] > vv ? vmax[i] : vv;
            vmax[i] = vh;
        }
        const DT denom = SQRT(vh) / bc2_sqrt + eps;
        p[i] = pv - step_size * (mv / denom);
    }
}

ATTR static void FN(adam_)(DT *restrict p, const DT *restrict grad, DT *restrict m, DT *restrict v,
                           DT *restrict vmax, ptrdiff_t n, DT w1, DT beta2, DT w2, DT eps, DT wd,
                           int decoupled, int amsgrad, int maximize, DT step_size, DT bc2_sqrt,
                           DT shrink)
{
    const DT sign = maximize ? (DT)-1 : (DT)1;
    const int wd_mode = wd == 0 ? 0 : (decoupled ? 2 : 1);
#define ADAM_CASE(WM, AMS)                                                                      \
    FN(adam_body_)(p, grad, m, v, vmax, n, w1, beta2, w2, eps, wd, step_size, bc2_sqrt, shrink, \
                   sign, WM, AMS)
    if (amsgrad) {
        if (wd_mode == 0)
            ADAM_CASE(0, 1);
        else if (wd_mode == 1)
            ADAM_CASE(1, 1);
        else
            ADAM_CASE(2, 1);
    } else {
        if (wd_mode == 0)
            ADAM_CASE(0, 0);
        else if (wd_mode == 1)
            ADAM_CASE(1, 0);
        else
            ADAM_CASE(2, 0);
    }
#undef ADAM_CASE
}

ATTR static inline __attribute__((always_inline)) void FN(rmsprop_body_)(
    DT *restrict p, const DT *restrict grad, DT *restrict sq, DT *restrict ga, DT *restrict buf,
    ptrdiff_t n, DT lr, DT alpha, DT w, DT eps, DT wd, DT momentum, DT sign, const int centered,
    const int has_momentum, const int eps_inside)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        DT g = sign * grad[i];
        if (wd != 0) /* not 0 * p: a NaN or inf parameter would reach the state (hoisted) */
            g = g + wd * p[i];
        const DT s = sq[i] * alpha + w * g * g;
        sq[i] = s;
        DT v = s;
        if (centered) {
            const DT a = LERP(ga[i], g, w);
            ga[i] = a;
            v = s - a * a;
        }
        const DT avg = eps_inside ? SQRT(v + eps) : SQRT(v) + eps;
        if (has_momentum) {
            const DT b = buf[i] * momentum + g / avg;
            buf[i] = b;
            p[i] = p[i] - lr * b;
        } else {
            p[i] = p[i] - lr * (g / avg);
        }
    }
}

ATTR static void FN(rmsprop_)(DT *restrict p, const DT *restrict grad, DT *restrict sq,
                              DT *restrict ga, DT *restrict buf, ptrdiff_t n, DT lr, DT alpha,
                              DT w, DT eps, DT wd, DT momentum, int centered, int eps_inside,
                              int maximize)
{
    const DT sign = maximize ? (DT)-1 : (DT)1;
#define RMS_CASE(C, M, E) \
    FN(rmsprop_body_)(p, grad, sq, ga, buf, n, lr, alpha, w, eps, wd, momentum, sign, C, M, E)
    switch ((centered != 0) * 4 + (momentum > 0) * 2 + (eps_inside != 0)) {
    case 0: RMS_CASE(0, 0, 0); break;
    case 1: RMS_CASE(0, 0, 1); break;
    case 2: RMS_CASE(0, 1, 0); break;
    case 3: RMS_CASE(0, 1, 1); break;
    case 4: RMS_CASE(1, 0, 0); break;
    case 5: RMS_CASE(1, 0, 1); break;
    case 6: RMS_CASE(1, 1, 0); break;
    default: RMS_CASE(1, 1, 1); break;
    }
#undef RMS_CASE
}

ATTR static inline
    __attribute__((always_inline)) void FN(adagrad_body_)(DT *restrict p, const DT *restrict grad,
                                                          DT *restrict ssum, ptrdiff_t n, DT clr,
                                                          DT wd, DT eps, DT sign,
                                                          const int eps_inside)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        DT g = sign * grad[i];
        if (wd != 0)
            g = g + wd * p[i];
        const DT s = ssum[i] + g * g;
        ssum[i] = s;
        p[i] = p[i] - clr * (g / (eps_inside ? SQRT(s + eps) : SQRT(s) + eps));
    }
}

ATTR static void FN(adagrad_)(DT *restrict p, const DT *restrict grad, DT *restrict ssum,
                              ptrdiff_t n, DT clr, DT wd, DT eps, int eps_inside, int maximize)
{
    const DT sign = maximize ? (DT)-1 : (DT)1;
    if (eps_inside)
        FN(adagrad_body_)(p, grad, ssum, n, clr, wd, eps, sign, 1);
    else
        FN(adagrad_body_)(p, grad, ssum, n, clr, wd, eps, sign, 0);
}

#undef LERP
#undef FN

#undef SFX
#undef ATTR
