"""Elementwise, loss and optimizer benchmark cases (the eltwise and optim kernel families):
the course's shapes (a 128x512 hidden activation, a 128x10 head, the 784x512 + 512x10 dense
model's parameters), against the NumPy expression a user would write and PyTorch's op. These
are memory-bound: flops counts one operation per element and is only for the % column."""

import numpy as np

from minnet import kernels
from minnet.bench.suites import Case


def _rand(rng, shape):
    return rng.standard_normal(shape).astype(np.float32)


def eltwise_cases(quick=False, torch=None):
    rng = np.random.default_rng(0)
    out = []
    x = _rand(rng, (128, 512))
    y = np.empty_like(x)
    for kind, np_impl, torch_fn in [
        ("relu", lambda: np.maximum(x, 0, out=y), "relu"),
        ("sigmoid", lambda: np.divide(1, 1 + np.exp(-x), out=y), "sigmoid"),
        ("tanh", lambda: np.tanh(x, out=y), "tanh"),
        ("silu", lambda: np.multiply(x, 1 / (1 + np.exp(-x)), out=y), "nn.functional.silu"),
    ]:
        impls = {"minnet": lambda kind=kind: kernels.act_forward(x, kind, out=y), "numpy": np_impl}
        if torch is not None:
            fn = torch
            for part in torch_fn.split("."):
                fn = getattr(fn, part)
            tx = torch.from_numpy(x)
            impls["torch"] = lambda tx=tx, fn=fn: fn(tx)
        out.append(Case("eltwise", f"{kind} 128x512", float(x.size), impls))

    g = _rand(rng, (128, 512))
    s = np.maximum(x, 0)
    impls = {
        "minnet": lambda: kernels.act_backward(g, s, "relu", out=y),
        "numpy": lambda: np.multiply(g, s > 0, out=y),
    }
    if torch is not None:
        tg, ts = torch.from_numpy(g), torch.from_numpy(s)
        impls["torch"] = lambda: torch.ops.aten.threshold_backward(tg, ts, 0)
    out.append(Case("eltwise", "relu backward 128x512", float(x.size), impls))

    logits = _rand(rng, (128, 10))
    target = rng.integers(0, 10, 128)

    def np_xent():
        z = logits - logits.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1))
        return (lse - z[np.arange(128), target]).mean()

    impls = {"minnet": lambda: kernels.cross_entropy_forward(logits, target), "numpy": np_xent}
    if torch is not None:
        tl, tt = torch.from_numpy(logits), torch.from_numpy(target)
        impls["torch"] = lambda: torch.nn.functional.cross_entropy(tl, tt)
    out.append(Case("eltwise", "cross_entropy 128x10", float(logits.size), impls))

    sm = np.empty_like(logits)

    def np_softmax():
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return np.divide(e, e.sum(axis=1, keepdims=True), out=sm)

    impls = {"minnet": lambda: kernels.softmax(logits, out=sm), "numpy": np_softmax}
    if torch is not None:
        tl = torch.from_numpy(logits)
        impls["torch"] = lambda: torch.softmax(tl, dim=1)
    out.append(Case("eltwise", "softmax 128x10", float(logits.size), impls))
    return out


def optim_cases(quick=False, torch=None):
    """One Adam and one SGD-momentum update of the dense512 model's four tensors (407,050
    parameters), a kernel call per tensor as minnet.optim makes them."""
    rng = np.random.default_rng(0)
    shapes = [(512, 784), (512,), (10, 512), (10,)]
    params = [_rand(rng, s) for s in shapes]
    grads = [_rand(rng, s) for s in shapes]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    n = float(sum(p.size for p in params))
    out = []

    def minnet_adam():
        for p, g, a, b in zip(params, grads, m, v):
            kernels.adam_step(p, g, a, b, step=1, lr=1e-3)

    def numpy_adam(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        for p, g, a, b in zip(params, grads, m, v):
            a *= b1
            a += (1 - b1) * g
            b *= b2
            b += (1 - b2) * g * g
            p -= lr / (1 - b1) * a / (np.sqrt(b / (1 - b2)) + eps)

    impls = {"minnet": minnet_adam, "numpy": numpy_adam}
    if torch is not None:
        tp = [torch.from_numpy(p.copy()).requires_grad_() for p in params]
        for t, g in zip(tp, grads):
            t.grad = torch.from_numpy(g)
        opt = torch.optim.Adam(tp, lr=1e-3)
        impls["torch"] = opt.step
    out.append(Case("optim", "adam dense512 (4 tensors)", 10.0 * n, impls))

    def minnet_sgd():
        for p, g, b in zip(params, grads, m):
            kernels.sgd_step(p, g, b, lr=0.01, momentum=0.9)

    def numpy_sgd():
        for p, g, b in zip(params, grads, m):
            b *= 0.9
            b += g
            p -= 0.01 * b

    impls = {"minnet": minnet_sgd, "numpy": numpy_sgd}
    if torch is not None:
        tp = [torch.from_numpy(p.copy()).requires_grad_() for p in params]
        for t, g in zip(tp, grads):
            t.grad = torch.from_numpy(g)
        opt = torch.optim.SGD(tp, lr=0.01, momentum=0.9)
        impls["torch"] = opt.step
    out.append(Case("optim", "sgd momentum dense512 (4 tensors)", 3.0 * n, impls))
    return out
