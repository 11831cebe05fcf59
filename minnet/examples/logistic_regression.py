"""One sigmoid neuron with log loss separating two point clouds.

Two Gaussian clouds in the plane, class 0 around (-1, 1) and class 1 around (2, -0.5). One
neuron computes p = sigmoid(w1 x1 + w2 x2 + b), the probability of class 1; training minimises
the log loss -[y log p + (1 - y) log(1 - p)] (``nn.BCEWithLogitsLoss``, which takes the raw
score and applies the sigmoid inside, more accurately). The neuron predicts class 1 where
p > 0.5, that is where w1 x1 + w2 x2 + b > 0: its decision boundary is a straight line. For two
round clouds of the same spread the best possible line is the perpendicular bisector of the
two centres, x2 = 2 x1 - 0.75; the trained neuron finds a line close to it and classifies
about 99% of fresh points correctly."""

import sys

import numpy as np

import minnet
from minnet import nn
from minnet.examples import _common

CENTRES = np.array([[-1.0, 1.0], [2.0, -0.5]])  # class 0, class 1
SPREAD = 0.7  # standard deviation of each cloud


def make_clouds(n_per_class, rng):
    """(2 n, 2) float32 points and (2 n,) labels 0/1, the classes interleaved at random."""
    labels = np.repeat([0, 1], n_per_class)
    points = CENTRES[labels] + rng.normal(0, SPREAD, (2 * n_per_class, 2))
    order = rng.permutation(len(labels))
    return points[order].astype(np.float32), labels[order]


def as_line(w1, w2, b):
    """w1 x1 + w2 x2 + b = 0 written as x2 = a x1 + c."""
    return -w1 / w2, -b / w2


def run(quick=False, epochs=None, threads=None, seed=0, out_dir=".", verbose=1):
    # %% [markdown]
    # ## The data
    # A training set and a fresh test set from the same two clouds.
    # %%
    rng = _common.setup(threads, seed)
    n = 500 if quick else 2000
    x_train, y_train = make_clouds(n, rng)
    x_test, y_test = make_clouds(n, rng)
    # BCEWithLogitsLoss wants float targets shaped like the model's output, (N, 1)
    targets = y_train.astype(np.float32).reshape(-1, 1)

    # %% [markdown]
    # ## One neuron, the log loss, SGD
    # `nn.Linear(2, 1)` is the neuron's weighted sum w1 x1 + w2 x2 + b; the sigmoid lives in
    # the loss during training and is applied by hand to read off probabilities.
    # %%
    model = nn.Linear(2, 1)
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = minnet.optim.SGD(model.parameters(), lr=0.5)
    loader = minnet.data.DataLoader(
        minnet.data.TensorDataset(x_train, targets), batch_size=32, shuffle=True
    )
    epochs = epochs or (20 if quick else 50)
    for epoch in range(epochs):
        total = 0.0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
        if verbose >= 2 or (verbose and (epoch + 1) % 10 == 0):
            print(f"epoch {epoch + 1}/{epochs}: log loss {total / len(targets):.4f}")

    # %% [markdown]
    # ## Accuracy on fresh points
    # %%
    with minnet.no_grad():
        p = minnet.nn.functional.sigmoid(model(minnet.tensor(x_test))).numpy()[:, 0]
    accuracy = float(np.mean((p > 0.5) == y_test))
    print(f"test accuracy: {accuracy:.4f}")

    # %% [markdown]
    # ## The decision boundary
    # The line the neuron learned against the best line, the perpendicular bisector of the
    # centres: the points x with (c1 - c0) . x = (|c1|^2 - |c0|^2) / 2. Two measures of how
    # close they are: the angle between the lines, and how far the learned line passes from
    # the midpoint of the centres (which the best line goes through).
    # %%
    (w1, w2), b = model.weight.numpy()[0], model.bias.item()
    a, c = as_line(w1, w2, b)
    d = CENTRES[1] - CENTRES[0]
    a_best, c_best = as_line(d[0], d[1], -(CENTRES[1] @ CENTRES[1] - CENTRES[0] @ CENTRES[0]) / 2)
    cos = abs(np.dot([w1, w2], d)) / (np.hypot(w1, w2) * np.hypot(*d))
    angle = float(np.degrees(np.arccos(min(cos, 1.0))))
    midpoint = CENTRES.mean(axis=0)
    offset = float(abs(w1 * midpoint[0] + w2 * midpoint[1] + b) / np.hypot(w1, w2))
    print(f"learned boundary: x2 = {a:.3f} x1 + {c:.3f}  (w = ({w1:.3f}, {w2:.3f}), b = {b:.3f})")
    print(f"best boundary:    x2 = {a_best:.3f} x1 + {c_best:.3f}")
    print(
        f"angle between them {angle:.2f} degrees; learned line passes {offset:.3f} from the "
        f"midpoint"
    )
    return _common.report(
        "logistic_regression",
        accuracy=accuracy,
        slope=float(a),
        intercept=float(c),
        angle_deg=angle,
        midpoint_offset=offset,
        data=f"two Gaussian clouds, {2 * n} training points",
    )


main = _common.main_for("logistic_regression", run)

if __name__ == "__main__":
    sys.exit(main())
