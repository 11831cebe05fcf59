"""End to end: hand-written training loops with nn, optim, data and save/load."""

import numpy as np

import minnet
import minnet.nn.functional as F
from minnet import nn, optim
from minnet.data import DataLoader, TensorDataset
from minnet.optim import lr_scheduler

CORNERS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
TRUTH = np.array([0, 1, 1, 0])


def xor_model():
    # Flux's quick-start model: Dense(2 => 3, tanh), BatchNorm(3), Dense(3 => 2)
    return nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.BatchNorm1d(3), nn.Linear(3, 2))


def train_classifier(model, x, y, epochs, lr=0.01, batch_size=64):
    opt = optim.Adam(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)
    losses = []
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses


def predict(model, x):
    model.eval()
    with minnet.no_grad():
        return model(minnet.Tensor(x)).data.argmax(1)


def test_xor_noisy_corners_to_100_percent():
    minnet.manual_seed(0)
    r = np.random.default_rng(0)
    k = r.integers(0, 4, 512)
    noise = np.clip(0.1 * r.standard_normal((512, 2)), -0.25, 0.25)  # keep the classes apart
    x = (CORNERS[k] + noise).astype(np.float32)
    y = TRUTH[k]
    model = xor_model()
    losses = train_classifier(model, x, y, epochs=100)
    assert np.mean(losses[-8:]) < 0.1 < np.mean(losses[:8])
    assert (predict(model, x) == y).all()  # 100% on the training set
    np.testing.assert_array_equal(predict(model, CORNERS), TRUTH)


def test_xor_flux_quickstart_learns_the_truth_table():
    # Flux's data: uniform points in the unit square, label xor(x > 0.5, y > 0.5)
    minnet.manual_seed(1)
    r = np.random.default_rng(1)
    x = r.random((1000, 2), dtype=np.float32)
    y = ((x[:, 0] > 0.5) ^ (x[:, 1] > 0.5)).astype(np.int64)
    model = xor_model()
    train_classifier(model, x, y, epochs=60)
    centres = np.array([[0.25, 0.25], [0.25, 0.75], [0.75, 0.25], [0.75, 0.75]], np.float32)
    np.testing.assert_array_equal(predict(model, centres), TRUTH)
    np.testing.assert_array_equal(predict(model, CORNERS), TRUTH)
    assert (predict(model, x) == y).mean() > 0.8  # 3 tanh units: boundary points are hard


def test_sin_regression():
    minnet.manual_seed(2)
    x = np.linspace(0, 2 * np.pi, 512, dtype=np.float32)[:, None]
    y = np.sin(x)
    model = nn.Sequential(nn.Linear(1, 64), nn.ReLU(), nn.Linear(64, 1))
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = lr_scheduler.StepLR(opt, step_size=40, gamma=0.5)
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    for _ in range(100):
        for xb, yb in loader:
            opt.zero_grad()
            F.mse_loss(model(xb), yb).backward()
            opt.step()
        sched.step()
    with minnet.no_grad():
        mse = F.mse_loss(model(minnet.Tensor(x)), minnet.Tensor(y)).item()
    assert mse < 0.01


def run(seed, steps=30):
    """A run touching every random source: init, dropout, shuffling."""
    minnet.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3)
    )
    r = np.random.default_rng(123)
    x = r.standard_normal((96, 4)).astype(np.float32)
    y = r.integers(0, 3, 96)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    losses = []
    for _ in range(steps // len(loader) + 1):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.data.copy())
    return losses, {k: v.data.copy() for k, v in model.state_dict().items()}


def test_manual_seed_makes_runs_bitwise_equal():
    l1, s1 = run(5)
    l2, s2 = run(5)
    for a, b in zip(l1, l2):
        assert a.tobytes() == b.tobytes()
    assert list(s1) == list(s2)
    for k in s1:
        assert s1[k].tobytes() == s2[k].tobytes(), k
    l3, s3 = run(6)
    assert any(a.tobytes() != b.tobytes() for a, b in zip(l1, l3))


def test_checkpoint_resume_is_exact(tmp_path):
    minnet.manual_seed(3)
    r = np.random.default_rng(3)
    x = r.standard_normal((64, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)

    def epoch(model, opt, sched):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
        sched.step()

    model = xor_model()
    opt = optim.AdamW(model.parameters(), lr=0.05, amsgrad=True)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for _ in range(3):
        epoch(model, opt, sched)
    path = tmp_path / "ckpt.mnt"
    minnet.save(
        {
            "model": model.state_dict(),
            "optim": opt.state_dict(),
            "sched": sched.state_dict(),
            "epoch": 3,
        },
        path,
    )

    minnet.manual_seed(99)  # a different init, overwritten by the load
    model2 = xor_model()
    opt2 = optim.AdamW(model2.parameters(), lr=0.05, amsgrad=True)
    sched2 = lr_scheduler.CosineAnnealingLR(opt2, T_max=10)
    ckpt = minnet.load(path)
    assert ckpt["epoch"] == 3
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optim"])
    sched2.load_state_dict(ckpt["sched"])
    model.eval()
    model2.eval()
    xt = minnet.Tensor(x)
    np.testing.assert_array_equal(model2(xt).data, model(xt).data)  # same outputs, exactly
    for _ in range(3):
        epoch(model, opt, sched)
        epoch(model2, opt2, sched2)
    assert sched2.get_last_lr() == sched.get_last_lr()
    for (k, a), (_, b) in zip(model.state_dict().items(), model2.state_dict().items()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=k)
