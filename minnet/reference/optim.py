"""Reference optimizer updates: PyTorch's single-tensor algorithms (torch/optim/sgd.py, adam.py,
rmsprop.py, adagrad.py with foreach=False) transcribed line by line into NumPy. Same names,
signatures and in-place behaviour as the fused kernels in minnet.kernels. Scalars computed from
hyperparameters (bias corrections, decayed learning rate) are Python floats, as in PyTorch;
array arithmetic stays in the parameter's dtype (NumPy 2 keeps float32 for Python scalars).
"""

import math

import numpy as np


def _lerp(start, end, weight):
    """torch.lerp, in its two-branch form (exact at weight 0 and 1)."""
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1.0 - weight)


def sgd_step(
    param,
    grad,
    momentum_buf=None,
    *,
    lr,
    momentum=0.0,
    dampening=0.0,
    nesterov=False,
    weight_decay=0.0,
    maximize=False,
    first_step=False,
):
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    if momentum != 0:
        if first_step:
            momentum_buf[...] = g  # torch.clone(grad).detach()
        else:
            momentum_buf *= momentum
            momentum_buf += (1 - dampening) * g
        g = g + momentum * momentum_buf if nesterov else momentum_buf
    param -= lr * g
    return param


def adam_step(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    *,
    step,
    lr=1e-3,
    beta1=0.9,
    beta2=0.999,
    eps=1e-8,
    weight_decay=0.0,
    decoupled=False,
    amsgrad=False,
    maximize=False,
    max_exp_avg_sq=None,
):
    g = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled:  # AdamW
            param *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * param
    exp_avg[...] = _lerp(exp_avg, g, 1 - beta1)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g * g
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = math.sqrt(bias_correction2)
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        denom = np.sqrt(max_exp_avg_sq) / bias_correction2_sqrt + eps
    else:
        denom = np.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
    param -= step_size * (exp_avg / denom)
    return param


def rmsprop_step(
    param,
    grad,
    square_avg,
    *,
    lr=1e-2,
    alpha=0.99,
    eps=1e-8,
    weight_decay=0.0,
    momentum=0.0,
    centered=False,
    maximize=False,
    momentum_buf=None,
    grad_avg=None,
    eps_inside=False,
):
    """PyTorch's RMSprop; ``eps_inside=True`` is Keras's denominator sqrt(v + eps)."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    square_avg *= alpha
    square_avg += (1 - alpha) * g * g
    if centered:
        grad_avg[...] = _lerp(grad_avg, g, 1 - alpha)
        v = square_avg - grad_avg * grad_avg
    else:
        v = square_avg
    avg = np.sqrt(v + eps) if eps_inside else np.sqrt(v) + eps
    if momentum > 0:
        momentum_buf *= momentum
        momentum_buf += g / avg
        param -= lr * momentum_buf
    else:
        param -= lr * (g / avg)
    return param


def adagrad_step(
    param,
    grad,
    state_sum,
    *,
    step,
    lr=1e-2,
    lr_decay=0.0,
    weight_decay=0.0,
    eps=1e-10,
    maximize=False,
    eps_inside=False,
):
    """PyTorch's Adagrad; ``eps_inside=True`` is Keras's denominator sqrt(sum + eps)."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum += g * g
    std = np.sqrt(state_sum + eps) if eps_inside else np.sqrt(state_sum) + eps
    param -= clr * (g / std)
    return param


# ---- multi-tensor steps: the single-tensor rule applied to each tensor of a list ------------
def _each(n, seq):
    return [None] * n if seq is None else list(seq)


def sgd_step_multi(
    params,
    grads,
    momentum_bufs=None,
    *,
    lr,
    momentum=0.0,
    dampening=0.0,
    nesterov=False,
    weight_decay=0.0,
    maximize=False,
    first_steps=None,
):
    """sgd_step on each tensor i; first_steps[i] is its first_step (None: all False)."""
    params = list(params)
    firsts = [False] * len(params) if first_steps is None else list(first_steps)
    for p, g, b, first in zip(params, grads, _each(len(params), momentum_bufs), firsts):
        sgd_step(
            p,
            g,
            b,
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            nesterov=nesterov,
            weight_decay=weight_decay,
            maximize=maximize,
            first_step=first,
        )
    return params


def adam_step_multi(
    params,
    grads,
    exp_avgs,
    exp_avg_sqs,
    *,
    steps,
    lr=1e-3,
    beta1=0.9,
    beta2=0.999,
    eps=1e-8,
    weight_decay=0.0,
    decoupled=False,
    amsgrad=False,
    maximize=False,
    max_exp_avg_sqs=None,
):
    """adam_step on each tensor i, with step=steps[i]."""
    params = list(params)
    vmaxes = _each(len(params), max_exp_avg_sqs)
    for p, g, m, v, vmax, step in zip(params, grads, exp_avgs, exp_avg_sqs, vmaxes, steps):
        adam_step(
            p,
            g,
            m,
            v,
            step=step,
            lr=lr,
            beta1=beta1,
            beta2=beta2,
            eps=eps,
            weight_decay=weight_decay,
            decoupled=decoupled,
            amsgrad=amsgrad,
            maximize=maximize,
            max_exp_avg_sq=vmax,
        )
    return params


def rmsprop_step_multi(
    params,
    grads,
    square_avgs,
    *,
    lr=1e-2,
    alpha=0.99,
    eps=1e-8,
    weight_decay=0.0,
    momentum=0.0,
    centered=False,
    maximize=False,
    momentum_bufs=None,
    grad_avgs=None,
    eps_inside=False,
):
    """rmsprop_step on each tensor i."""
    params = list(params)
    n = len(params)
    for p, g, sq, b, ga in zip(
        params, grads, square_avgs, _each(n, momentum_bufs), _each(n, grad_avgs)
    ):
        rmsprop_step(
            p,
            g,
            sq,
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
            momentum_buf=b,
            grad_avg=ga,
            eps_inside=eps_inside,
        )
    return params


def adagrad_step_multi(
    params,
    grads,
    state_sums,
    *,
    steps,
    lr=1e-2,
    lr_decay=0.0,
    weight_decay=0.0,
    eps=1e-10,
    maximize=False,
    eps_inside=False,
):
    """adagrad_step on each tensor i, with step=steps[i]."""
    params = list(params)
    for p, g, s, step in zip(params, grads, state_sums, steps):
        adagrad_step(
            p,
            g,
            s,
            step=step,
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            eps=eps,
            maximize=maximize,
            eps_inside=eps_inside,
        )
    return params
