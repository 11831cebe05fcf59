"""1-4-1 and 1-64-1 relu nets fitting sin(x) on [0, 2pi] (the Flux lecture).

A net with one hidden relu layer computes a piecewise-linear function of x: each hidden unit
adds one kink. Four units give at most four kinks, too few to follow a sine closely (and a unit
whose kink falls outside [0, 2pi] is wasted, which happens often: the 4-unit result depends a
lot on the seed); 64 units trace it with a mean squared error around 1e-4 (quick) or less.
Both train on 200 random points with full-batch Adam and are measured on a fine grid over the
interval."""

import sys

import numpy as np

import minnet
from minnet import nn
from minnet.examples import _common


def one_hidden_layer(hidden):
    """1 -> hidden (relu) -> 1: Flux's Chain(Dense(1 => hidden, relu), Dense(hidden => 1))."""
    return nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 1))


def run(quick=False, epochs=None, threads=None, seed=0, out_dir=".", verbose=1):
    # %% [markdown]
    # ## The data
    # Inputs are (N, 1): N samples of one feature. The test grid covers the whole interval.
    # %%
    rng = _common.setup(threads, seed)
    x = rng.uniform(0, 2 * np.pi, (200, 1)).astype(np.float32)
    y = np.sin(x)
    x_grid = np.linspace(0, 2 * np.pi, 1000, dtype=np.float32).reshape(-1, 1)
    y_grid = np.sin(x_grid)
    X, Y = minnet.tensor(x), minnet.tensor(y)

    # %% [markdown]
    # ## Train both nets
    # All 200 points in every step (an epoch is one step), Adam with learning rate 0.01.
    # %%
    epochs = epochs or (1000 if quick else 5000)
    loss_fn = nn.MSELoss()
    mse = {}
    for hidden in (4, 64):
        model = one_hidden_layer(hidden)
        optimizer = minnet.optim.Adam(model.parameters(), lr=0.01)
        for epoch in range(epochs):
            loss = loss_fn(model(X), Y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if verbose >= 2 and (epoch + 1) % (epochs // 5) == 0:
                print(f"  1-{hidden}-1, epoch {epoch + 1}: training MSE {loss.item():.5f}")
        with minnet.no_grad():
            mse[hidden] = float(np.mean((model(minnet.tensor(x_grid)).numpy() - y_grid) ** 2))
        if verbose:
            print(
                f"1-{hidden}-1 net ({sum(p.numel() for p in model.parameters())} parameters):"
                f" MSE on the grid {mse[hidden]:.5f}"
            )
    return _common.report(
        "sin_regression",
        mse_4=mse[4],
        mse_64=mse[64],
        epochs=epochs,
        data="sin(x) at 200 random points in [0, 2pi]",
    )


main = _common.main_for("sin_regression", run)

if __name__ == "__main__":
    sys.exit(main())
