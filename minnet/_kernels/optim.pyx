# cython: language_level=3
"""Cython wrappers for csrc/optim.c: fused, in-place optimizer updates of one parameter array.

Each function follows PyTorch's documented single-tensor algorithm (torch.optim.SGD, Adam,
AdamW, RMSprop, Adagrad with foreach=False) and updates `param` and its state arrays in place
in one pass over memory. They return `param`. The optimizer owns the state arrays: allocate
them once (zeros, like PyTorch's state) and pass the same arrays every step.

    sgd_step:     p -= lr * (momentum/nesterov-filtered g),  g = grad + weight_decay * p
    adam_step:    Adam (decoupled=False) or AdamW (decoupled=True), optional AMSGrad
    rmsprop_step: RMSprop, optional centering and momentum
    adagrad_step: Adagrad with learning-rate decay

Arrays: float32 or float64, all of one dtype and shape; param and states must be C-contiguous
and writeable (they are updated in place); grad is copied when it is not contiguous.
"""
cimport numpy as cnp
from libc.stdlib cimport free, malloc

import numpy as np

from minnet._kernels._checks cimport overlaps, same_shape
from minnet._kernels._runtime cimport bind_runtime, isa_level, num_threads

cnp.import_array()
bind_runtime()

cdef extern from "optim.h":
    void mn_sgd_step_f32(float *p, const float *grad, float *buf, ptrdiff_t n, double lr,
                         double momentum, double dampening, int nesterov, double weight_decay,
                         int maximize, int first_step, int isa, int n_threads) nogil
    void mn_sgd_step_f64(double *p, const double *grad, double *buf, ptrdiff_t n, double lr,
                         double momentum, double dampening, int nesterov, double weight_decay,
                         int maximize, int first_step, int isa, int n_threads) nogil
    void mn_adam_step_f32(float *p, const float *grad, float *m, float *v, float *vmax,
                          ptrdiff_t n, long long step, double lr, double beta1, double beta2,
                          double eps, double weight_decay, int decoupled, int amsgrad,
                          int maximize, int isa, int n_threads) nogil
    void mn_adam_step_f64(double *p, const double *grad, double *m, double *v, double *vmax,
                          ptrdiff_t n, long long step, double lr, double beta1, double beta2,
                          double eps, double weight_decay, int decoupled, int amsgrad,
                          int maximize, int isa, int n_threads) nogil
    void mn_rmsprop_step_f32(float *p, const float *grad, float *sq, float *ga, float *buf,
                             ptrdiff_t n, double lr, double alpha, double eps,
                             double weight_decay, double momentum, int centered,
                             int eps_inside, int maximize, int isa, int n_threads) nogil
    void mn_rmsprop_step_f64(double *p, const double *grad, double *sq, double *ga,
                             double *buf, ptrdiff_t n, double lr, double alpha, double eps,
                             double weight_decay, double momentum, int centered,
                             int eps_inside, int maximize, int isa, int n_threads) nogil
    void mn_adagrad_step_f32(float *p, const float *grad, float *s, ptrdiff_t n,
                             long long step, double lr, double lr_decay, double weight_decay,
                             double eps, int eps_inside, int maximize, int isa,
                             int n_threads) nogil
    void mn_adagrad_step_f64(double *p, const double *grad, double *s, ptrdiff_t n,
                             long long step, double lr, double lr_decay, double weight_decay,
                             double eps, int eps_inside, int maximize, int isa,
                             int n_threads) nogil


cdef inline tuple _shape(cnp.ndarray x):
    return (<object>x).shape


cdef cnp.ndarray _param(object p, str fn):
    if not isinstance(p, np.ndarray):
        raise TypeError(f"{fn}: param must be a numpy.ndarray, got {type(p).__name__}")
    cdef cnp.ndarray arr = <cnp.ndarray>p
    cdef int t = cnp.PyArray_TYPE(arr)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise TypeError(f"{fn}: param must be float32 or float64, got {arr.dtype}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr) or not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{fn}: param must be C-contiguous and writeable (it is updated in "
                         f"place)")
    return arr


cdef cnp.ndarray _state(object s, cnp.ndarray p, str fn, str name):
    """A state array updated in place: param's shape and dtype, C-contiguous, writeable."""
    if not isinstance(s, np.ndarray):
        raise TypeError(f"{fn}: {name} must be a numpy.ndarray, got {type(s).__name__}")
    cdef cnp.ndarray arr = <cnp.ndarray>s
    if not same_shape(arr, p):
        raise ValueError(f"{fn}: {name} must have the shape of param {_shape(p)}, got "
                         f"{_shape(arr)}")
    if cnp.PyArray_TYPE(arr) != cnp.PyArray_TYPE(p):
        raise TypeError(f"{fn}: {name} must have the dtype of param ({p.dtype}), got "
                        f"{arr.dtype}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr) or not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{fn}: {name} must be C-contiguous and writeable (it is updated in "
                         f"place)")
    return arr


cdef cnp.ndarray _optional_state(bint wanted, object s, cnp.ndarray p, str fn, str name,
                                 str why, list written, list names):
    """A state buffer an option needs (None when not wanted), checked as _state and added to
    the written arrays; ValueError '<fn>: <why> needs <name>' when missing."""
    if not wanted:
        return None
    if s is None:
        raise ValueError(f"{fn}: {why} needs {name}")
    cdef cnp.ndarray arr = _state(s, p, fn, name)
    written.append(arr)
    names.append(name)
    return arr


cdef cnp.ndarray _grad(object g, cnp.ndarray p, list written, str fn):
    """grad with param's shape and dtype, contiguous, and not sharing memory with any array
    the update writes (else copied first)."""
    if not isinstance(g, np.ndarray):
        raise TypeError(f"{fn}: grad must be a numpy.ndarray, got {type(g).__name__}")
    cdef cnp.ndarray arr = <cnp.ndarray>g
    if not same_shape(arr, p):
        raise ValueError(f"{fn}: grad must have the shape of param {_shape(p)}, got "
                         f"{_shape(arr)}")
    if cnp.PyArray_TYPE(arr) != cnp.PyArray_TYPE(p):
        raise TypeError(f"{fn}: grad must have the dtype of param ({p.dtype}), got {arr.dtype}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr) or _overlaps_any(arr, written):
        arr = np.array(arr, order="C", copy=True)
    return arr


cdef bint _overlaps_any(cnp.ndarray a, list arrays):
    cdef object w
    for w in arrays:
        if overlaps(a, <cnp.ndarray>w):
            return True
    return False


cdef void _disjoint(list arrays, list names, str fn) except *:
    cdef Py_ssize_t i, j
    for i in range(len(arrays)):
        for j in range(i + 1, len(arrays)):
            if overlaps(<cnp.ndarray>arrays[i], <cnp.ndarray>arrays[j]):
                raise ValueError(f"{fn}: {names[i]} and {names[j]} share memory")


cdef void _nonneg(str fn, str name, double value) except *:
    if not value >= 0.0:
        raise ValueError(f"{fn}: {name} must be >= 0, got {value}")


cdef inline void *_ptr(cnp.ndarray a):
    return cnp.PyArray_DATA(a) if a is not None else NULL


def sgd_step(param, grad, momentum_buf=None, *, double lr, double momentum=0.0,
             double dampening=0.0, bint nesterov=False, double weight_decay=0.0,
             bint maximize=False, bint first_step=False):
    """One torch.optim.SGD step for one parameter, in place::

        g = (-grad if maximize else grad) + weight_decay * param
        if momentum != 0:
            buf = g if first_step else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        param -= lr * g

    Args:
        momentum_buf: the momentum buffer (needed when momentum != 0); on first_step its old
            contents are ignored and it is set to g, as PyTorch clones the first gradient.
    """
    cdef str fn = "sgd_step"
    cdef cnp.ndarray P = _param(param, fn), B = None
    _nonneg(fn, "lr", lr)
    _nonneg(fn, "momentum", momentum)
    _nonneg(fn, "weight_decay", weight_decay)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(f"{fn}: nesterov needs momentum > 0 and dampening == 0, got "
                         f"momentum={momentum}, dampening={dampening}")
    written, names = [P], ["param"]
    B = _optional_state(momentum != 0, momentum_buf, P, fn, "momentum_buf",
                        f"momentum={momentum}", written, names)
    _disjoint(written, names, fn)
    cdef cnp.ndarray G = _grad(grad, P, written, fn)
    cdef ptrdiff_t n = cnp.PyArray_SIZE(P)
    cdef int nt = num_threads(), isa = isa_level()
    cdef void *pp = _ptr(P)
    cdef void *pg = _ptr(G)
    cdef void *pb = _ptr(B)
    if cnp.PyArray_TYPE(P) == cnp.NPY_FLOAT32:
        with nogil:
            mn_sgd_step_f32(<float *>pp, <const float *>pg, <float *>pb, n, lr, momentum,
                            dampening, nesterov, weight_decay, maximize, first_step, isa, nt)
    else:
        with nogil:
            mn_sgd_step_f64(<double *>pp, <const double *>pg, <double *>pb, n, lr, momentum,
                            dampening, nesterov, weight_decay, maximize, first_step, isa, nt)
    return P


def adam_step(param, grad, exp_avg, exp_avg_sq, *, long long step, double lr=1e-3,
              double beta1=0.9, double beta2=0.999, double eps=1e-8, double weight_decay=0.0,
              bint decoupled=False, bint amsgrad=False, bint maximize=False,
              max_exp_avg_sq=None):
    """One torch.optim.Adam (decoupled=False) / AdamW (decoupled=True) step, in place::

        g = -grad if maximize else grad
        AdamW: param *= 1 - lr * weight_decay;   Adam: g += weight_decay * param
        exp_avg = lerp(exp_avg, g, 1 - beta1);  exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) g^2
        v = max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq) if amsgrad else exp_avg_sq
        param -= lr / (1 - beta1^step) * exp_avg / (sqrt(v) / sqrt(1 - beta2^step) + eps)

    Args:
        step: the number of this update, 1 for the first (PyTorch's state['step'] after its
            increment).
        max_exp_avg_sq: the AMSGrad state (needed when amsgrad=True).
    """
    cdef str fn = "adam_step"
    cdef cnp.ndarray P = _param(param, fn), VMAX = None
    if step < 1:
        raise ValueError(f"{fn}: step must be >= 1 (the count including this update), got {step}")
    _nonneg(fn, "lr", lr)
    _nonneg(fn, "eps", eps)
    _nonneg(fn, "weight_decay", weight_decay)
    if not (0.0 <= beta1 < 1.0) or not (0.0 <= beta2 < 1.0):
        raise ValueError(f"{fn}: betas must be in [0, 1), got ({beta1}, {beta2})")
    cdef cnp.ndarray M = _state(exp_avg, P, fn, "exp_avg")
    cdef cnp.ndarray V = _state(exp_avg_sq, P, fn, "exp_avg_sq")
    written = [P, M, V]
    names = ["param", "exp_avg", "exp_avg_sq"]
    VMAX = _optional_state(amsgrad, max_exp_avg_sq, P, fn, "max_exp_avg_sq", "amsgrad=True",
                           written, names)
    _disjoint(written, names, fn)
    cdef cnp.ndarray G = _grad(grad, P, written, fn)
    cdef ptrdiff_t n = cnp.PyArray_SIZE(P)
    cdef int nt = num_threads(), isa = isa_level()
    cdef void *pp = _ptr(P)
    cdef void *pg = _ptr(G)
    cdef void *pm = _ptr(M)
    cdef void *pv = _ptr(V)
    cdef void *px = _ptr(VMAX)
    if cnp.PyArray_TYPE(P) == cnp.NPY_FLOAT32:
        with nogil:
            mn_adam_step_f32(<float *>pp, <const float *>pg, <float *>pm, <float *>pv,
                             <float *>px, n, step, lr, beta1, beta2, eps, weight_decay,
                             decoupled, amsgrad, maximize, isa, nt)
    else:
        with nogil:
            mn_adam_step_f64(<double *>pp, <const double *>pg, <double *>pm, <double *>pv,
                             <double *>px, n, step, lr, beta1, beta2, eps, weight_decay,
                             decoupled, amsgrad, maximize, isa, nt)
    return P


def rmsprop_step(param, grad, square_avg, *, double lr=1e-2, double alpha=0.99,
                 double eps=1e-8, double weight_decay=0.0, double momentum=0.0,
                 bint centered=False, bint maximize=False, momentum_buf=None, grad_avg=None,
                 bint eps_inside=False):
    """One torch.optim.RMSprop step, in place:

        g = (-grad if maximize else grad) + weight_decay * param
        square_avg = alpha * square_avg + (1 - alpha) * g^2
        centered: grad_avg = lerp(grad_avg, g, 1 - alpha); v = square_avg - grad_avg^2
        else:     v = square_avg
        avg = sqrt(v + eps) if eps_inside (Keras) else sqrt(v) + eps (PyTorch)
        momentum > 0: momentum_buf = momentum * momentum_buf + g / avg; param -= lr * momentum_buf
        else:         param -= lr * g / avg

    Args:
        momentum_buf: needed when momentum > 0 (zeros at the start, as in PyTorch).
        grad_avg: needed when centered (zeros at the start).
    """
    cdef str fn = "rmsprop_step"
    cdef cnp.ndarray P = _param(param, fn), GA = None, B = None
    _nonneg(fn, "lr", lr)
    _nonneg(fn, "eps", eps)
    _nonneg(fn, "weight_decay", weight_decay)
    _nonneg(fn, "momentum", momentum)
    _nonneg(fn, "alpha", alpha)
    cdef cnp.ndarray SQ = _state(square_avg, P, fn, "square_avg")
    written = [P, SQ]
    names = ["param", "square_avg"]
    GA = _optional_state(centered, grad_avg, P, fn, "grad_avg", "centered=True", written, names)
    B = _optional_state(momentum > 0, momentum_buf, P, fn, "momentum_buf",
                        f"momentum={momentum}", written, names)
    _disjoint(written, names, fn)
    cdef cnp.ndarray G = _grad(grad, P, written, fn)
    cdef ptrdiff_t n = cnp.PyArray_SIZE(P)
    cdef int nt = num_threads(), isa = isa_level()
    cdef void *pp = _ptr(P)
    cdef void *pg = _ptr(G)
    cdef void *ps = _ptr(SQ)
    cdef void *pa = _ptr(GA)
    cdef void *pb = _ptr(B)
    if cnp.PyArray_TYPE(P) == cnp.NPY_FLOAT32:
        with nogil:
            mn_rmsprop_step_f32(<float *>pp, <const float *>pg, <float *>ps, <float *>pa,
                                <float *>pb, n, lr, alpha, eps, weight_decay, momentum, centered,
                                eps_inside, maximize, isa, nt)
    else:
        with nogil:
            mn_rmsprop_step_f64(<double *>pp, <const double *>pg, <double *>ps, <double *>pa,
                                <double *>pb, n, lr, alpha, eps, weight_decay, momentum,
                                centered, eps_inside, maximize, isa, nt)
    return P


def adagrad_step(param, grad, state_sum, *, long long step, double lr=1e-2,
                 double lr_decay=0.0, double weight_decay=0.0, double eps=1e-10,
                 bint maximize=False, bint eps_inside=False):
    """One torch.optim.Adagrad step, in place:

        g = (-grad if maximize else grad) + weight_decay * param
        state_sum += g^2
        d = sqrt(state_sum + eps) if eps_inside (Keras) else sqrt(state_sum) + eps (PyTorch)
        param -= lr / (1 + (step - 1) * lr_decay) * g / d

    Args:
        step: the number of this update, 1 for the first.
        state_sum: starts at initial_accumulator_value (the optimizer's job).
    """
    cdef str fn = "adagrad_step"
    cdef cnp.ndarray P = _param(param, fn)
    if step < 1:
        raise ValueError(f"{fn}: step must be >= 1 (the count including this update), got {step}")
    _nonneg(fn, "lr", lr)
    _nonneg(fn, "lr_decay", lr_decay)
    _nonneg(fn, "eps", eps)
    _nonneg(fn, "weight_decay", weight_decay)
    cdef cnp.ndarray S = _state(state_sum, P, fn, "state_sum")
    _disjoint([P, S], ["param", "state_sum"], fn)
    cdef cnp.ndarray G = _grad(grad, P, [P, S], fn)
    cdef ptrdiff_t n = cnp.PyArray_SIZE(P)
    cdef int nt = num_threads(), isa = isa_level()
    cdef void *pp = _ptr(P)
    cdef void *pg = _ptr(G)
    cdef void *ps = _ptr(S)
    if cnp.PyArray_TYPE(P) == cnp.NPY_FLOAT32:
        with nogil:
            mn_adagrad_step_f32(<float *>pp, <const float *>pg, <float *>ps, n, step, lr,
                                lr_decay, weight_decay, eps, eps_inside, maximize, isa, nt)
    else:
        with nogil:
            mn_adagrad_step_f64(<double *>pp, <const double *>pg, <double *>ps, n, step, lr,
                                lr_decay, weight_decay, eps, eps_inside, maximize, isa, nt)
    return P


# ---- multi-tensor steps: one call per parameter group ------------------------------------
# The *_step_multi forms update a list of parameters with shared hyperparameters in one call:
# each tensor is checked exactly as the single-tensor form checks it (messages name the
# tensor's index), then one GIL-free loop runs the same C update per tensor. An optimizer
# step over many small tensors thus costs one Python call, not one per tensor.
cdef struct _Job:
    void *p
    void *g
    void *s0
    void *s1
    void *s2
    ptrdiff_t n
    long long step
    int first
    int f64


cdef list _as_list(object seq, str fn, str name, Py_ssize_t k):
    """seq as a list of k items (None: k Nones); ValueError naming it when its length differs."""
    if seq is None:
        return [None] * k
    cdef list out = list(seq)
    if len(out) != k:
        raise ValueError(f"{fn}: {name} has {len(out)} entries, params has {k}")
    return out


cdef _Job *_jobs(str fn, list params, object grads, tuple states, object steps, object firsts,
                 list keep) except NULL:
    """Check every tensor as the single-tensor forms do and pack its pointers. states: per
    state buffer (list of arrays or None, name, wanted, why); at most three. keep holds the
    arrays the jobs point into (copied gradients included) until the loop has run."""
    cdef Py_ssize_t k = len(params), i, j
    cdef list gl = _as_list(grads, fn, "grads", k)
    cdef list sl = _as_list(steps, fn, "steps", k) if steps is not None else None
    cdef list fl = _as_list(firsts, fn, "first_steps", k) if firsts is not None else None
    cdef list lists = [(_as_list(arrs, fn, name + "s", k) if wanted else None)
                       for arrs, name, wanted, why in states]
    cdef _Job *jobs = <_Job *>malloc((k if k > 0 else 1) * sizeof(_Job))
    if jobs == NULL:
        raise MemoryError(f"{fn}: no memory for {k} tensors")
    cdef cnp.ndarray P, S, G
    cdef void *ptrs[3]
    cdef Py_ssize_t ns = len(states)
    cdef list snames = [st[1] for st in states], swhys = [st[3] for st in states]
    cdef bint swanted[3]
    for j in range(ns):
        swanted[j] = bool(states[j][2])
    try:
        for i in range(k):
            fi = f"{fn}: tensor {i}"
            P = _param(params[i], fi)
            written, names = [P], ["param"]
            for j in range(3):
                ptrs[j] = NULL
            for j in range(ns):
                if not swanted[j]:
                    continue
                if swhys[j]:  # a buffer only an option needs: '<fn>: <why> needs <name>'
                    S = _optional_state(True, (<list>lists[j])[i], P, fi, snames[j], swhys[j],
                                        written, names)
                else:
                    S = _state((<list>lists[j])[i], P, fi, snames[j])
                    written.append(S)
                    names.append(snames[j])
                ptrs[j] = _ptr(S)
            _disjoint(written, names, fi)
            G = _grad(gl[i], P, written, fi)
            keep.append(G)
            keep.extend(written)
            jobs[i].p = _ptr(P)
            jobs[i].g = _ptr(G)
            jobs[i].s0 = ptrs[0]
            jobs[i].s1 = ptrs[1]
            jobs[i].s2 = ptrs[2]
            jobs[i].n = cnp.PyArray_SIZE(P)
            jobs[i].f64 = cnp.PyArray_TYPE(P) == cnp.NPY_FLOAT64
            jobs[i].step = 0
            if sl is not None:
                jobs[i].step = sl[i]
                if jobs[i].step < 1:
                    raise ValueError(f"{fi}: step must be >= 1 (the count including this "
                                     f"update), got {jobs[i].step}")
            jobs[i].first = bool(fl[i]) if fl is not None else 0
    except BaseException:
        free(jobs)
        raise
    return jobs


def sgd_step_multi(params, grads, momentum_bufs=None, *, double lr, double momentum=0.0,
                   double dampening=0.0, bint nesterov=False, double weight_decay=0.0,
                   bint maximize=False, first_steps=None):
    """sgd_step for each (params[i], grads[i], momentum_bufs[i]) in one call; first_steps[i]
    is that tensor's first_step (None: all False). Returns params."""
    cdef str fn = "sgd_step_multi"
    _nonneg(fn, "lr", lr)
    _nonneg(fn, "momentum", momentum)
    _nonneg(fn, "weight_decay", weight_decay)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(f"{fn}: nesterov needs momentum > 0 and dampening == 0, got "
                         f"momentum={momentum}, dampening={dampening}")
    params = list(params)
    keep = []
    cdef _Job *jobs = _jobs(fn, params, grads,
                            ((momentum_bufs, "momentum_buf", momentum != 0,
                              f"momentum={momentum}"),), None, first_steps, keep)
    cdef Py_ssize_t i, k = len(params)
    cdef int nt = num_threads(), isa = isa_level()
    with nogil:
        for i in range(k):
            if jobs[i].f64:
                mn_sgd_step_f64(<double *>jobs[i].p, <const double *>jobs[i].g,
                                <double *>jobs[i].s0, jobs[i].n, lr, momentum, dampening,
                                nesterov, weight_decay, maximize, jobs[i].first, isa, nt)
            else:
                mn_sgd_step_f32(<float *>jobs[i].p, <const float *>jobs[i].g,
                                <float *>jobs[i].s0, jobs[i].n, lr, momentum, dampening,
                                nesterov, weight_decay, maximize, jobs[i].first, isa, nt)
    free(jobs)
    return params


def adam_step_multi(params, grads, exp_avgs, exp_avg_sqs, *, steps, double lr=1e-3,
                    double beta1=0.9, double beta2=0.999, double eps=1e-8,
                    double weight_decay=0.0, bint decoupled=False, bint amsgrad=False,
                    bint maximize=False, max_exp_avg_sqs=None):
    """adam_step for each tensor i (params[i], grads[i], exp_avgs[i], exp_avg_sqs[i],
    max_exp_avg_sqs[i], step=steps[i]) in one call. Returns params."""
    cdef str fn = "adam_step_multi"
    _nonneg(fn, "lr", lr)
    _nonneg(fn, "eps", eps)
    _nonneg(fn, "weight_decay", weight_decay)
    if not (0.0 <= beta1 < 1.0) or not (0.0 <= beta2 < 1.0):
        raise ValueError(f"{fn}: betas must be in [0, 1), got ({beta1}, {beta2})")
    params = list(params)
    keep = []
    cdef _Job *jobs = _jobs(fn, params, grads,
                            ((exp_avgs, "exp_avg", True, ""),
                             (exp_avg_sqs, "exp_avg_sq", True, ""),
                             (max_exp_avg_sqs, "max_exp_avg_sq", amsgrad, "amsgrad=True")),
                            steps, None, keep)
    cdef Py_ssize_t i, k = len(params)
    cdef int nt = num_threads(), isa = isa_level()
    with nogil:
        for i in range(k):
            if jobs[i].f64:
                mn_adam_step_f64(<double *>jobs[i].p, <const double *>jobs[i].g,
                                 <double *>jobs[i].s0, <double *>jobs[i].s1,
                                 <double *>jobs[i].s2, jobs[i].n, jobs[i].step, lr, beta1,
                                 beta2, eps, weight_decay, decoupled, amsgrad, maximize, isa,
                                 nt)
            else:
                mn_adam_step_f32(<float *>jobs[i].p, <const float *>jobs[i].g,
                                 <float *>jobs[i].s0, <float *>jobs[i].s1,
                                 <float *>jobs[i].s2, jobs[i].n, jobs[i].step, lr, beta1,
                                 beta2, eps, weight_decay, decoupled, amsgrad, maximize, isa,
                                 nt)
    free(jobs)
    return params


def rmsprop_step_multi(params, grads, square_avgs, *, double lr=1e-2, double alpha=0.99,
                       double eps=1e-8, double weight_decay=0.0, double momentum=0.0,
                       bint centered=False, bint maximize=False, momentum_bufs=None,
                       grad_avgs=None, bint eps_inside=False):
    """rmsprop_step for each tensor i (params[i], grads[i], square_avgs[i], momentum_bufs[i],
    grad_avgs[i]) in one call. Returns params."""
    cdef str fn = "rmsprop_step_multi"
    _nonneg(fn, "lr", lr)
    _nonneg(fn, "eps", eps)
    _nonneg(fn, "weight_decay", weight_decay)
    _nonneg(fn, "momentum", momentum)
    _nonneg(fn, "alpha", alpha)
    params = list(params)
    keep = []
    cdef _Job *jobs = _jobs(fn, params, grads,
                            ((square_avgs, "square_avg", True, ""),
                             (grad_avgs, "grad_avg", centered, "centered=True"),
                             (momentum_bufs, "momentum_buf", momentum > 0,
                              f"momentum={momentum}")),
                            None, None, keep)
    cdef Py_ssize_t i, k = len(params)
    cdef int nt = num_threads(), isa = isa_level()
    with nogil:
        for i in range(k):
            if jobs[i].f64:
                mn_rmsprop_step_f64(<double *>jobs[i].p, <const double *>jobs[i].g,
                                    <double *>jobs[i].s0, <double *>jobs[i].s1,
                                    <double *>jobs[i].s2, jobs[i].n, lr, alpha, eps,
                                    weight_decay, momentum, centered, eps_inside, maximize,
                                    isa, nt)
            else:
                mn_rmsprop_step_f32(<float *>jobs[i].p, <const float *>jobs[i].g,
                                    <float *>jobs[i].s0, <float *>jobs[i].s1,
                                    <float *>jobs[i].s2, jobs[i].n, lr, alpha, eps,
                                    weight_decay, momentum, centered, eps_inside, maximize,
                                    isa, nt)
    free(jobs)
    return params


def adagrad_step_multi(params, grads, state_sums, *, steps, double lr=1e-2,
                       double lr_decay=0.0, double weight_decay=0.0, double eps=1e-10,
                       bint maximize=False, bint eps_inside=False):
    """adagrad_step for each tensor i (params[i], grads[i], state_sums[i], step=steps[i]) in
    one call. Returns params."""
    cdef str fn = "adagrad_step_multi"
    _nonneg(fn, "lr", lr)
    _nonneg(fn, "lr_decay", lr_decay)
    _nonneg(fn, "eps", eps)
    _nonneg(fn, "weight_decay", weight_decay)
    params = list(params)
    keep = []
    cdef _Job *jobs = _jobs(fn, params, grads, ((state_sums, "state_sum", True, ""),),
                            steps, None, keep)
    cdef Py_ssize_t i, k = len(params)
    cdef int nt = num_threads(), isa = isa_level()
    with nogil:
        for i in range(k):
            if jobs[i].f64:
                mn_adagrad_step_f64(<double *>jobs[i].p, <const double *>jobs[i].g,
                                    <double *>jobs[i].s0, jobs[i].n, jobs[i].step, lr,
                                    lr_decay, weight_decay, eps, eps_inside, maximize, isa, nt)
            else:
                mn_adagrad_step_f32(<float *>jobs[i].p, <const float *>jobs[i].g,
                                    <float *>jobs[i].s0, jobs[i].n, jobs[i].step, lr,
                                    lr_decay, weight_decay, eps, eps_inside, maximize, isa, nt)
    free(jobs)
    return params
