"""GEMM benchmark cases: the big squares, the course's dense-layer shapes with the fused bias and
activation (against NumPy's `np.maximum(x @ w + b, 0)`), the weight-gradient shape with A
transposed (against `x.T @ dy`), the narrow 10-class head, and the fixed cost of a call."""

import numpy as np

from minnet import kernels
from minnet.bench.suites import Case


def _rand(rng, shape):
    return rng.standard_normal(shape).astype(np.float32)


def cases(quick=False, torch=None):
    rng = np.random.default_rng(0)
    out = []

    squares = [1024] if quick else [1024, 2048]
    for s in squares:
        a, b = _rand(rng, (s, s)), _rand(rng, (s, s))
        c = np.empty((s, s), np.float32)
        impls = {
            "minnet": lambda a=a, b=b, c=c: kernels.gemm(a, b, out=c),
            "numpy": lambda a=a, b=b, c=c: np.matmul(a, b, out=c),
        }
        if torch is not None:
            ta, tb, tc = (torch.from_numpy(x) for x in (a, b, c))
            impls["torch"] = lambda ta=ta, tb=tb, tc=tc: torch.mm(ta, tb, out=tc)
        out.append(Case("gemm", f"{s}x{s}x{s}", 2.0 * s**3, impls))

    # dense layer forward, fused: relu(x @ w + b); (m, k, n) = (batch, in, out)
    for m, k, n, act in [
        (128, 784, 512, "relu"),
        (128, 128, 128, "relu"),
        (64, 128, 384, "relu"),
        (128, 512, 10, None),
    ]:
        x, w, bias = _rand(rng, (m, k)), _rand(rng, (k, n)), _rand(rng, (n,))
        c = np.empty((m, n), np.float32)
        if act == "relu":
            np_impl = lambda x=x, w=w, bias=bias: np.maximum(x @ w + bias, 0)
            label = "+bias+relu"
        else:
            np_impl = lambda x=x, w=w, bias=bias: x @ w + bias
            label = "+bias"
        impls = {
            "minnet": lambda x=x, w=w, bias=bias, c=c, act=act: kernels.gemm(
                x, w, bias=bias, activation=act, out=c
            ),
            "numpy": np_impl,
        }
        if torch is not None:
            tx, tw, tb = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(bias)
            if act == "relu":
                impls["torch"] = lambda tx=tx, tw=tw, tb=tb: torch.relu(torch.addmm(tb, tx, tw))
            else:
                impls["torch"] = lambda tx=tx, tw=tw, tb=tb: torch.addmm(tb, tx, tw)
        out.append(Case("gemm", f"{m}x{k}x{n} {label}", 2.0 * m * n * k, impls))

    # the same dense layer with PyTorch's weight layout (out, in): x @ W^T, as minnet.nn uses
    m, k, n = 128, 784, 512
    x, wt, bias = _rand(rng, (m, k)), _rand(rng, (n, k)), _rand(rng, (n,))
    c = np.empty((m, n), np.float32)
    impls = {
        "minnet": lambda x=x, wt=wt, bias=bias, c=c: kernels.gemm(
            x, wt, trans_b=True, bias=bias, activation="relu", out=c
        ),
        "numpy": lambda x=x, wt=wt, bias=bias: np.maximum(x @ wt.T + bias, 0),
    }
    if torch is not None:
        tx, twt, tb = torch.from_numpy(x), torch.from_numpy(wt), torch.from_numpy(bias)
        impls["torch"] = lambda tx=tx, twt=twt, tb=tb: torch.relu(
            torch.nn.functional.linear(tx, twt, tb)
        )
    out.append(Case("gemm", f"{m}x{k}x{n} W^T +bias+relu", 2.0 * m * n * k, impls))

    # weight gradient: dW = x^T @ dy, (784 x 128) @ (128 x 512)
    x, dy = _rand(rng, (128, 784)), _rand(rng, (128, 512))
    c = np.empty((784, 512), np.float32)
    impls = {
        "minnet": lambda x=x, dy=dy, c=c: kernels.gemm(x, dy, trans_a=True, out=c),
        "numpy": lambda x=x, dy=dy: x.T @ dy,
    }
    if torch is not None:
        tx, tdy = torch.from_numpy(x), torch.from_numpy(dy)
        impls["torch"] = lambda tx=tx, tdy=tdy: tx.t() @ tdy
    out.append(Case("gemm", "784x128x512 A^T (dW)", 2.0 * 784 * 128 * 512, impls))

    # the same weight gradient in the orientation minnet.nn.Linear uses: dW = dy^T @ x, (out, in)
    impls = {
        "minnet": lambda x=x, dy=dy, c=np.empty((512, 784), np.float32): kernels.gemm(
            dy, x, trans_a=True, out=c
        ),
        "numpy": lambda x=x, dy=dy: dy.T @ x,
    }
    if torch is not None:
        tx, tdy = torch.from_numpy(x), torch.from_numpy(dy)
        impls["torch"] = lambda tx=tx, tdy=tdy: tdy.t() @ tx
    out.append(Case("gemm", "512x128x784 A^T (Linear dW)", 2.0 * 784 * 128 * 512, impls))

    # batch 1 (the `tiny` model): forward 1x784 @ W^T(784x10) + b, and its weight gradient
    x1, w10, b10 = _rand(rng, (1, 784)), _rand(rng, (10, 784)), _rand(rng, (10,))
    dy1 = _rand(rng, (1, 10))
    impls = {
        "minnet": lambda: kernels.gemm(x1, w10, trans_b=True, bias=b10),
        "numpy": lambda: x1 @ w10.T + b10,
    }
    if torch is not None:
        tx1, tw10, tb10 = (torch.from_numpy(v) for v in (x1, w10, b10))
        impls["torch"] = lambda: torch.nn.functional.linear(tx1, tw10, tb10)
    out.append(Case("gemm", "1x784x10 W^T +bias (batch 1)", 2.0 * 784 * 10, impls))
    impls = {"minnet": lambda: kernels.gemm(dy1, x1, trans_a=True), "numpy": lambda: dy1.T @ x1}
    if torch is not None:
        tdy1, tx1 = torch.from_numpy(dy1), torch.from_numpy(x1)
        impls["torch"] = lambda: tdy1.t() @ tx1
    out.append(Case("gemm", "10x1x784 A^T (batch-1 dW)", 2.0 * 784 * 10, impls))

    # interference: a minnet GEMM followed by a NumPy matmul, against two NumPy matmuls. With
    # spinning OpenMP threads the pair can cost 30x the sum (see minnet/_config.py); ~1 is good.
    x, w = _rand(rng, (128, 784)), _rand(rng, (784, 512))
    c = np.empty((128, 512), np.float32)
    impls = {
        "minnet": lambda x=x, w=w, c=c: (kernels.gemm(x, w, out=c), np.matmul(x, w, out=c)),
        "numpy": lambda x=x, w=w, c=c: (np.matmul(x, w, out=c), np.matmul(x, w, out=c)),
    }
    out.append(
        Case(
            "gemm",
            "128x784x512 then numpy",
            4.0 * 128 * 784 * 512,
            impls,
            note="minnet gemm + numpy matmul vs 2 numpy matmuls",
        )
    )

    # fixed cost of a call from Python
    one = np.ones((1, 1), np.float32)
    impls = {"minnet": lambda: kernels.gemm(one, one), "numpy": lambda: one @ one}
    if torch is not None:
        t1 = torch.from_numpy(one)
        impls["torch"] = lambda: t1 @ t1
    out.append(Case("gemm", "1x1x1 (call cost)", 2.0, impls))
    return out
