/* Fused in-place optimizer updates for one contiguous parameter tensor of n elements,
 * following PyTorch's documented single-tensor algorithms (torch.optim.*, foreach=False), in
 * one pass over memory instead of the 5-10 temporaries an unfused NumPy update allocates.
 * g below is grad negated when maximize. Loops are compiled per ISA (isa: enum mn_isa);
 * results do not depend on n_threads. */
#ifndef MN_OPTIM_H
#define MN_OPTIM_H

#include <stddef.h>

/* SGD:  g += weight_decay * p
 *       if momentum != 0: buf := first_step ? g : momentum * buf + (1 - dampening) * g
 *                         g := nesterov ? g + momentum * buf : buf
 *       p -= lr * g                                    (buf may be NULL when momentum == 0) */
void mn_sgd_step_f32(float *p, const float *grad, float *buf, ptrdiff_t n, double lr,
                     double momentum, double dampening, int nesterov, double weight_decay,
                     int maximize, int first_step, int isa, int n_threads);
void mn_sgd_step_f64(double *p, const double *grad, double *buf, ptrdiff_t n, double lr,
                     double momentum, double dampening, int nesterov, double weight_decay,
                     int maximize, int first_step, int isa, int n_threads);

/* Adam / AdamW (decoupled), step >= 1 counted after this update:
 *       decoupled ? p *= 1 - lr * weight_decay : g += weight_decay * p
 *       m := lerp(m, g, 1 - beta1);  v := beta2 * v + (1 - beta2) * g^2
 *       amsgrad: vmax := max(vmax, v), v_hat = vmax; else v_hat = v
 *       p -= lr / (1 - beta1^step) * m / (sqrt(v_hat) / sqrt(1 - beta2^step) + eps) */
void mn_adam_step_f32(float *p, const float *grad, float *m, float *v, float *vmax, ptrdiff_t n,
                      long long step, double lr, double beta1, double beta2, double eps,
                      double weight_decay, int decoupled, int amsgrad, int maximize, int isa,
                      int n_threads);
void mn_adam_step_f64(double *p, const double *grad, double *m, double *v, double *vmax,
                      ptrdiff_t n, long long step, double lr, double beta1, double beta2,
                      double eps, double weight_decay, int decoupled, int amsgrad, int maximize,
                      int isa, int n_threads);

/* RMSprop:  g += weight_decay * p;  sq := alpha * sq + (1 - alpha) * g^2
 *       v = centered ? sq - ga^2 with ga := lerp(ga, g, 1 - alpha) : sq
 *       avg = eps_inside ? sqrt(v + eps) : sqrt(v) + eps    (eps_inside: Keras; else PyTorch)
 *       momentum > 0: buf := momentum * buf + g / avg, p -= lr * buf;  else p -= lr * g / avg */
void mn_rmsprop_step_f32(float *p, const float *grad, float *sq, float *ga, float *buf,
                         ptrdiff_t n, double lr, double alpha, double eps, double weight_decay,
                         double momentum, int centered, int eps_inside, int maximize, int isa,
                         int n_threads);
void mn_rmsprop_step_f64(double *p, const double *grad, double *sq, double *ga, double *buf,
                         ptrdiff_t n, double lr, double alpha, double eps, double weight_decay,
                         double momentum, int centered, int eps_inside, int maximize, int isa,
                         int n_threads);

/* Adagrad (step >= 1 after this update):  g += weight_decay * p;  s += g^2
 *       p -= lr / (1 + (step - 1) * lr_decay) * g / d,
 *       d = eps_inside ? sqrt(s + eps) : sqrt(s) + eps      (eps_inside: Keras; else PyTorch) */
void mn_adagrad_step_f32(float *p, const float *grad, float *s, ptrdiff_t n, long long step,
                         double lr, double lr_decay, double weight_decay, double eps,
                         int eps_inside, int maximize, int isa, int n_threads);
void mn_adagrad_step_f64(double *p, const double *grad, double *s, ptrdiff_t n, long long step,
                         double lr, double lr_decay, double weight_decay, double eps,
                         int eps_inside, int maximize, int isa, int n_threads);

#endif
