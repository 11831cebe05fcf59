"""Thread safety: Python threads training separate models at the same time get bitwise the
results they get one after the other (the kernels release the GIL; their workspaces are per
thread and the buffer arena hands a buffer to one holder only), and kernels called from
several threads at once agree with single calls."""

import threading

import numpy as np

import minnet
from minnet import kernels, nn


def _models():
    minnet.manual_seed(0)
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 5))
    cnn = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 5),
    )
    gru = nn.GRU(8, 12, batch_first=True)
    return {"mlp": mlp, "cnn": cnn, "gru": gru}


def _data():
    rng = np.random.default_rng(1)
    return {
        "mlp": rng.standard_normal((16, 8, 8)).astype(np.float32),
        "cnn": rng.standard_normal((16, 1, 8, 8)).astype(np.float32),
        "gru": rng.standard_normal((16, 8, 8)).astype(np.float32),
    }


def _train(name, model, x, steps, out):
    opt = minnet.optim.Adam(model.parameters(), lr=1e-2)
    y = minnet.tensor(np.arange(16) % 5)
    xt = minnet.tensor(x)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        o = model(xt)
        if name == "gru":
            o = o[1][-1][:, :5]
        loss = nn.functional.cross_entropy(o, y)
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
    out[name] = (losses, [p.detach().numpy().copy() for p in model.parameters()])


def test_concurrent_training_equals_sequential():
    data = _data()
    seq = {}
    for name, model in _models().items():
        _train(name, model, data[name], 30, seq)
    par = {}
    threads = [
        threading.Thread(target=_train, args=(name, model, data[name], 30, par))
        for name, model in _models().items()
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
        assert not t.is_alive()
    for name in seq:
        assert seq[name][0] == par[name][0], name
        for a, b in zip(seq[name][1], par[name][1]):
            np.testing.assert_array_equal(a, b)


def test_kernels_from_many_threads_at_once():
    rng = np.random.default_rng(2)
    cases = []
    for i in range(8):
        m, k, n = 33 + i, 70 - i, 41 + 2 * i
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        x = rng.standard_normal((4, 3, 9 + i, 9)).astype(np.float32)
        w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
        cases.append((a, b, x, w, kernels.gemm(a, b), kernels.conv2d_forward(x, w, padding=1)))
    errors = []

    def run(case):
        a, b, x, w, want_g, want_c = case
        for _ in range(20):
            if not np.array_equal(kernels.gemm(a, b), want_g) or not np.array_equal(
                kernels.conv2d_forward(x, w, padding=1), want_c
            ):
                errors.append(case)
                return

    threads = [threading.Thread(target=run, args=(c,)) for c in cases]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors
