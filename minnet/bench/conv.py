"""Convolution and pooling benchmarks: the issue's standard cases for
``minnet-bench kernels --op conv2d|maxpool2d|avgpool2d`` (forward, and forward + backward,
against the NumPy reference and PyTorch in the same run), and the ``cnn`` training model for
``minnet-bench train --model cnn``.

Each case has torch (NCHW as given) and torch_cl (the same tensors in
``torch.channels_last``). PyTorch pays for fresh pages on every call with its default allocator;
``--torch-nopf`` adds both timed in a separate process started with
``GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295``
(columns torch-nopf, torch-cl-nopf; see ``_torch_worker.py``).
"""

import numpy as np

import minnet
from minnet import kernels, reference
from minnet.bench.suites import Case
from minnet.bench.train import minnet_step, register, synthetic_mnist, torch_step
from minnet.examples.cnn import lecture_cnn

# (batch, C_in, C_out, H=W, stride, groups), 3x3 kernels with padding 1
CONV_CASES = [
    (128, 1, 16, 28, 1, 1),
    (128, 16, 32, 14, 1, 1),
    (128, 32, 32, 7, 1, 1),
    (32, 64, 64, 32, 1, 1),
    (32, 64, 64, 32, 2, 1),
    (32, 64, 64, 32, 1, 64),
]
POOL_CASES = [(128, 16, 28), (128, 32, 14)]


def _rand(rng, shape):
    return rng.uniform(-1, 1, shape).astype(np.float32)


def _torch_layouts(torch, *arrays):
    """(column, the NCHW arrays as torch tensors) for torch (NCHW as given) and torch_cl
    (channels_last), the two layouts each case times."""
    for name, fmt in (("torch", torch.contiguous_format), ("torch_cl", torch.channels_last)):
        yield name, [torch.from_numpy(v).contiguous(memory_format=fmt) for v in arrays]


def conv_cases(quick=False, torch=None):
    rng = np.random.default_rng(0)
    out = []
    for n, ci, co, hw, s, g in CONV_CASES:
        x, w, b = _rand(rng, (n, ci, hw, hw)), _rand(rng, (co, ci // g, 3, 3)), _rand(rng, (co,))
        args = (s, 1, 1, g)
        oh = (hw + 2 - 3) // s + 1
        dy = _rand(rng, (n, co, oh, oh))
        flops = 2.0 * n * co * oh * oh * (ci // g) * 9
        label = (
            f"({n}, {ci}->{co}, {hw}x{hw}) 3x3 pad 1"
            + (f" stride {s}" if s > 1 else "")
            + (" depthwise" if g > 1 else "")
        )
        big = n * ci * hw * hw * co // g > 2e7
        fwd = {"minnet": lambda x=x, w=w, b=b, a=args: kernels.conv2d_forward(x, w, b, *a)}
        both = {
            "minnet": lambda x=x, w=w, b=b, dy=dy, a=args: (
                kernels.conv2d_forward(x, w, b, *a),
                kernels.conv2d_backward(dy, x, w, *a),
            )
        }
        if not (quick and big):  # the einsum reference takes ~1 s on the big cases
            fwd["numpy"] = lambda x=x, w=w, b=b, a=args: reference.conv2d_forward(x, w, b, *a)
            both["numpy"] = lambda x=x, w=w, b=b, dy=dy, a=args: (
                reference.conv2d_forward(x, w, b, *a),
                reference.conv2d_backward(dy, x, w, *a),
            )
        if torch is not None:
            F = torch.nn.functional
            # torch_cl: input, weight and dy in channels_last
            for name, (tx, tw, tdy) in _torch_layouts(torch, x, w, dy):
                tb = torch.from_numpy(b)
                fwd[name] = lambda tx=tx, tw=tw, tb=tb, s=s, g=g: F.conv2d(tx, tw, tb, s, 1, 1, g)
                px, pw, pb = (
                    t.clone(memory_format=torch.preserve_format).requires_grad_()
                    for t in (tx, tw, tb)
                )

                def torch_both(px=px, pw=pw, pb=pb, tdy=tdy, s=s, g=g):
                    for p in (px, pw, pb):
                        p.grad = None
                    F.conv2d(px, pw, pb, s, 1, 1, g).backward(tdy)

                both[name] = torch_both
        out.append(Case("conv2d", label + " fwd", flops, fwd))
        out.append(Case("conv2d", label + " fwd+bwd", 3 * flops, both))
    return out


# The course CNN's three conv + relu + 2x2 max pool blocks: (batch, C_in, C_out, H=W)
CONV_POOL_CASES = [(128, 1, 16, 28), (128, 16, 32, 14), (128, 32, 32, 7)]


def conv_relu_pool_cases(quick=False, torch=None):
    """Conv2d(3x3, pad 1) -> ReLU -> MaxPool2d(2) as the cnn model runs it: minnet's fused
    node (conv2d_relu_maxpool2d_forward, conv2d_backward(pool_code=...)); minnet_3ops, the
    same three ops as separate kernels (relu in the conv's epilogue, mask in its backward, as
    before the fusion); NumPy's reference; torch's three ops. The first layer's input needs
    no gradient (as in a network), the others' do."""
    rng = np.random.default_rng(3)
    out = []
    for n, ci, co, hw in CONV_POOL_CASES:
        x, w, b = _rand(rng, (n, ci, hw, hw)), _rand(rng, (co, ci, 3, 3)), _rand(rng, (co,))
        dp = _rand(rng, (n, co, hw // 2, hw // 2))
        dx_needed = ci > 1
        flops = 2.0 * n * co * hw * hw * ci * 9
        label = f"({n}, {ci}->{co}, {hw}x{hw}) 3x3 pad 1 + relu + maxpool 2"

        def fused_fwd(x=x, w=w, b=b):
            return kernels.conv2d_relu_maxpool2d_forward(x, w, b, 1, 1)

        def fused_both(x=x, w=w, b=b, dp=dp, dxn=dx_needed):
            _, code = kernels.conv2d_relu_maxpool2d_forward(x, w, b, 1, 1)
            return kernels.conv2d_backward(dp, x, w, 1, 1, input_grad=dxn, pool_code=code)

        def three_fwd(x=x, w=w, b=b):
            return kernels.max_pool2d_forward(
                kernels.conv2d_forward(x, w, b, 1, 1, activation="relu"), 2
            )

        def three_both(x=x, w=w, b=b, dp=dp, dxn=dx_needed):
            y = kernels.conv2d_forward(x, w, b, 1, 1, activation="relu")
            _, idx = kernels.max_pool2d_forward(y, 2)
            dy = kernels.max_pool2d_backward(dp, idx, y.shape)
            return kernels.conv2d_backward(dy, x, w, 1, 1, input_grad=dxn, relu_out=y)

        def ref_both(x=x, w=w, b=b, dp=dp, dxn=dx_needed):
            _, code = reference.conv2d_relu_maxpool2d_forward(x, w, b, 1, 1)
            return reference.conv2d_backward(dp, x, w, 1, 1, input_grad=dxn, pool_code=code)

        fwd = {"minnet": fused_fwd, "minnet_3ops": three_fwd}
        both = {"minnet": fused_both, "minnet_3ops": three_both}
        if not quick:
            fwd["numpy"] = lambda x=x, w=w, b=b: reference.conv2d_relu_maxpool2d_forward(
                x, w, b, 1, 1
            )
            both["numpy"] = ref_both
        if torch is not None:
            F = torch.nn.functional
            for name, (tx, tw, tdp) in _torch_layouts(torch, x, w, dp):
                tb = torch.from_numpy(b)
                fwd[name] = lambda tx=tx, tw=tw, tb=tb: F.max_pool2d(
                    F.relu(F.conv2d(tx, tw, tb, 1, 1)), 2
                )
                px, pw, pb = (t.clone(memory_format=torch.preserve_format) for t in (tx, tw, tb))
                px.requires_grad_(dx_needed)
                pw.requires_grad_()
                pb.requires_grad_()

                def torch_both(px=px, pw=pw, pb=pb, tdp=tdp):
                    for p in (px, pw, pb):
                        p.grad = None
                    F.max_pool2d(F.relu(F.conv2d(px, pw, pb, 1, 1)), 2).backward(tdp)

                both[name] = torch_both
        out.append(Case("conv_relu_pool", label + " fwd", flops, fwd))
        out.append(
            Case("conv_relu_pool", label + " fwd+bwd", (3 if dx_needed else 2) * flops, both)
        )
    return out


def _pool_cases(op, quick=False, torch=None):
    rng = np.random.default_rng(1)
    out = []
    for n, c, hw in POOL_CASES:
        x = _rand(rng, (n, c, hw, hw))
        dy = _rand(rng, (n, c, hw // 2, hw // 2))
        label = f"({n}, {c}, {hw}, {hw}) 2x2 stride 2"
        if op == "maxpool2d":

            def mfwd(x=x):
                return kernels.max_pool2d_forward(x, 2)

            def mboth(x=x, dy=dy):
                _, idx = kernels.max_pool2d_forward(x, 2)
                return kernels.max_pool2d_backward(dy, idx, x.shape)

            def rboth(x=x, dy=dy):
                _, idx = reference.max_pool2d_forward(x, 2)
                return reference.max_pool2d_backward(dy, idx, x.shape)

            fwd = {"minnet": mfwd, "numpy": lambda x=x: reference.max_pool2d_forward(x, 2)}
            both = {"minnet": mboth, "numpy": rboth}
            tfn = "max_pool2d"
        else:
            fwd = {
                "minnet": lambda x=x: kernels.avg_pool2d_forward(x, 2),
                "numpy": lambda x=x: reference.avg_pool2d_forward(x, 2),
            }
            both = {
                "minnet": lambda x=x, dy=dy: (
                    kernels.avg_pool2d_forward(x, 2),
                    kernels.avg_pool2d_backward(dy, x.shape, 2),
                ),
                "numpy": lambda x=x, dy=dy: (
                    reference.avg_pool2d_forward(x, 2),
                    reference.avg_pool2d_backward(dy, x.shape, 2),
                ),
            }
            tfn = "avg_pool2d"
        if torch is not None:
            f = getattr(torch.nn.functional, tfn)
            for name, (tx, tdy) in _torch_layouts(torch, x, dy):
                px = tx.clone().requires_grad_()
                fwd[name] = lambda tx=tx, f=f: f(tx, 2)

                def tboth(px=px, tdy=tdy, f=f):
                    px.grad = None
                    f(px, 2).backward(tdy)

                both[name] = tboth
        out.append(Case(op, label + " fwd", 0.0, fwd))
        out.append(Case(op, label + " fwd+bwd", 0.0, both))
    return out


def maxpool_cases(quick=False, torch=None):
    return _pool_cases("maxpool2d", quick, torch)


def avgpool_cases(quick=False, torch=None):
    return _pool_cases("avgpool2d", quick, torch)


BATCHNORM_CASES = [(128, 16, 28), (128, 32, 14)]


def batchnorm_cases(quick=False, torch=None):
    """Training-mode batch norm over (N, C, H, W), forward and forward + backward (weight and
    bias, all three gradients)."""
    rng = np.random.default_rng(2)
    out = []
    for n, c, hw in BATCHNORM_CASES:
        x = _rand(rng, (n, c, hw, hw))
        dy = _rand(rng, (n, c, hw, hw))
        w, b = _rand(rng, (c,)), _rand(rng, (c,))
        label = f"({n}, {c}, {hw}, {hw}) train"
        fwd, both = {}, {}
        for name, mod in (("minnet", kernels), ("numpy", reference)):
            fwd[name] = lambda x=x, w=w, b=b, mod=mod: mod.batch_norm_forward(x, w, b)

            def mb(x=x, w=w, b=b, dy=dy, mod=mod):
                _, mean, var = mod.batch_norm_forward(x, w, b)
                return mod.batch_norm_backward(dy, x, mean, var, w)

            both[name] = mb
        if torch is not None:
            F = torch.nn.functional
            for name, (tx, tdy) in _torch_layouts(torch, x, dy):
                px = tx.clone().requires_grad_()
                tw, tb = (torch.from_numpy(v).clone().requires_grad_() for v in (w, b))
                fwd[name] = lambda tx=tx, tw=tw, tb=tb, F=F: F.batch_norm(
                    tx, None, None, tw, tb, training=True
                )

                def tboth(px=px, tw=tw, tb=tb, tdy=tdy, F=F):
                    for p in (px, tw, tb):
                        p.grad = None
                    F.batch_norm(px, None, None, tw, tb, training=True).backward(tdy)

                both[name] = tboth
        out.append(Case("batchnorm2d", label + " fwd", 0.0, fwd))
        out.append(Case("batchnorm2d", label + " fwd+bwd", 0.0, both))
    return out


def _cnn(batch, torch):
    x, y = synthetic_mnist(batch, image=True)
    minnet.manual_seed(0)
    model = lecture_cnn(minnet.nn)
    opt = minnet.optim.Adam(model.parameters(), lr=1e-3)
    impls = {"minnet": minnet_step(model, minnet.nn.CrossEntropyLoss(), opt, x, y)}
    if torch is not None:
        for name, fmt in (("torch", None), ("torch_cl", torch.channels_last)):
            torch.manual_seed(0)  # the same model in both layouts
            tm = lecture_cnn(torch.nn)
            opt = torch.optim.Adam(tm.parameters(), lr=1e-3)
            loss_fn = torch.nn.CrossEntropyLoss()
            impls[name] = torch_step(torch, tm, loss_fn, opt, x, y, memory_format=fmt)
    return impls


register(
    "cnn",
    _cnn,
    "(conv 3x3 pad 1 + relu + maxpool 2) x 3, 1->16->32->32, "
    "Linear(288, 10), Adam(lr 1e-3), cross-entropy",
    default_batch=128,
)
