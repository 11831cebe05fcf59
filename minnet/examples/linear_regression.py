"""y = mx + b three ways: normal equations, gradient descent, minibatch SGD.

Noisy points on the line y = 2.5 x - 1 (x in [0, 10]) and the least-squares line through them,
found three ways. The normal equations give it in one solve. Full-batch gradient descent on
the mean squared error gets there step by step: an ``nn.Linear(1, 1)``, ``nn.MSELoss``,
``loss.backward()`` and ``optim.SGD``, the training loop of every later example. Minibatch
SGD follows a noisy estimate of that gradient; it only settles on the answer when its learning
rate decays. Standardising x first (mean 0, standard deviation 1) makes both converge fast:
the loss surface becomes a round bowl instead of a long thin valley. All three agree to better
than 1e-3 in m and b."""

import sys

import numpy as np

import minnet
from minnet import nn
from minnet.examples import _common

TRUE_M, TRUE_B, NOISE = 2.5, -1.0, 1.0


def line_of(model, mean, std):
    """(m, b) in the original units from a Linear(1, 1) trained on standardised x:
    w * (x - mean) / std + c = (w / std) x + (c - w * mean / std)."""
    w, c = model.weight.item(), model.bias.item()
    return w / std, c - w * mean / std


def run(quick=False, epochs=None, threads=None, seed=0, out_dir=".", verbose=1):
    # %% [markdown]
    # ## The data
    # `n` points on the line, plus Gaussian noise of standard deviation 1.
    # %%
    rng = _common.setup(threads, seed)
    n = 400 if quick else 1000
    x = rng.uniform(0, 10, n)
    y = TRUE_M * x + TRUE_B + rng.normal(0, NOISE, n)

    # %% [markdown]
    # ## 1. The normal equations
    # With the design matrix A = [x, 1], the least-squares (m, b) solves
    # (A^T A) [m, b] = A^T y; `lstsq` does it without forming A^T A (more accurate).
    # %%
    A = np.stack([x, np.ones(n)], axis=1)
    (m_exact, b_exact), *_ = np.linalg.lstsq(A, y, rcond=None)
    print(f"normal equations: m = {m_exact:.6f}, b = {b_exact:.6f}")

    # %% [markdown]
    # ## 2. Full-batch gradient descent
    # Standardised x: with mean 0 and variance 1 the loss's curvature is the same in the slope
    # and the intercept direction, so a learning rate of 0.1 shrinks the error by 0.8 in both
    # every step. (On raw x in [0, 10] the slope direction is ~30 times steeper: a rate small
    # enough not to diverge there crawls along the intercept.)
    # %%
    mean, std = x.mean(), x.std()
    x_std = ((x - mean) / std).astype(np.float32).reshape(n, 1)  # (N, 1): N samples, 1 feature
    y_col = y.astype(np.float32).reshape(n, 1)
    X, Y = minnet.tensor(x_std), minnet.tensor(y_col)

    model = nn.Linear(1, 1)
    loss_fn = nn.MSELoss()
    optimizer = minnet.optim.SGD(model.parameters(), lr=0.1)
    for step in range(100):
        loss = loss_fn(model(X), Y)  # forward: the mean squared error of all n points
        optimizer.zero_grad()
        loss.backward()  # d loss / d weight and d loss / d bias
        optimizer.step()  # weight -= lr * grad
        if verbose >= 2 and step % 20 == 0:
            print(f"  step {step:3d}: loss {loss.item():.6f}")
    m_gd, b_gd = line_of(model, mean, std)
    print(f"gradient descent: m = {m_gd:.6f}, b = {b_gd:.6f} (loss {loss.item():.6f})")

    # %% [markdown]
    # ## 3. Minibatch SGD
    # Each step sees 50 points: a cheap, noisy gradient. At a fixed learning rate the line keeps
    # jittering around the answer; multiplying the rate by 0.965 every epoch (from 0.1 to about
    # 1e-4 in 200 epochs) lets it settle.
    # %%
    epochs = epochs or 200
    loader = minnet.data.DataLoader(
        minnet.data.TensorDataset(x_std, y_col), batch_size=50, shuffle=True
    )
    model = nn.Linear(1, 1)
    optimizer = minnet.optim.SGD(model.parameters(), lr=0.1)
    scheduler = minnet.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.965)
    for epoch in range(epochs):
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        if verbose >= 2 and epoch % 40 == 0:
            print(
                f"  epoch {epoch:3d}: m = {line_of(model, mean, std)[0]:.5f}, "
                f"lr {scheduler.get_last_lr()[0]:.2e}"
            )
    m_sgd, b_sgd = line_of(model, mean, std)
    print(f"minibatch SGD:    m = {m_sgd:.6f}, b = {b_sgd:.6f}")

    # %% [markdown]
    # ## How close?
    # The largest difference from the closed form, over m and b and both iterative methods.
    # (All three differ from the *true* 2.5 and -1 by much more: that is the noise in the
    # data, which no method can remove.)
    # %%
    max_diff = float(
        max(abs(m_gd - m_exact), abs(b_gd - b_exact), abs(m_sgd - m_exact), abs(b_sgd - b_exact))
    )
    print(f"largest difference from the normal equations: {max_diff:.2e}")
    return _common.report(
        "linear_regression",
        m=float(m_exact),
        b=float(b_exact),
        m_gd=m_gd,
        b_gd=b_gd,
        m_sgd=m_sgd,
        b_sgd=b_sgd,
        max_diff=max_diff,
        data=f"synthetic, {n} points",
    )


main = _common.main_for("linear_regression", run)

if __name__ == "__main__":
    sys.exit(main())
