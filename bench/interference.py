"""minnet beside NumPy's BLAS: the figures of issue 12's thread-pool targets, in one run.

    python bench/interference.py [--threads 2] [--rounds 9] [--quick]

Three measurements, each as rounds that take turns (medians of the rounds):

- ``gemm pair``: a 128x784x512 minnet GEMM alone, NumPy's matmul of the same shapes alone,
  and the two alternating (minnet, NumPy, minnet, ...); the pair's time against the sum of
  the two alone (target: at most 1.15x). Also each half of the pair on its own clock, which
  says which of the two pays.
- ``train step``: the mlp512 training step of ``minnet-bench train`` (batch 128) back to
  back, and with that NumPy matmul between steps; the step's time alone in both (target:
  at most 5% slower with the matmul between).
- ``wake-up``: how long the pool's worker takes to start on a job while it spins (right
  after a job), asleep (5 ms idle), and right after a NumPy matmul (whose OpenBLAS workers
  then busy-wait on the other core).

Run it as is and again with ``OPENBLAS_THREAD_TIMEOUT=4`` in the environment (OpenBLAS's idle
workers then sleep almost at once) to see how much of a gap is OpenBLAS's spinning.
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

import minnet
from minnet import kernels
from minnet._kernels import _runtime
from minnet.bench.__main__ import machine_line
from minnet.bench.train import TRAIN_MODELS


def _per_call(fn, calls):
    for _ in range(max(3, calls // 10)):
        fn()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def _halves(first, second, calls):
    """Median seconds of each half of `first(); second()` repeated, on its own clock."""
    a, b = [], []
    pc = time.perf_counter
    for _ in range(calls):
        t0 = pc()
        first()
        t1 = pc()
        second()
        t2 = pc()
        a.append(t1 - t0)
        b.append(t2 - t1)
    return statistics.median(a), statistics.median(b)


def _operands(seed):
    """The 128x784x512 product's operands (an MNIST batch through a 512-unit layer) and out."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    w = rng.standard_normal((784, 512)).astype(np.float32)
    return x, w, np.empty((128, 512), np.float32)


def _numpy_matmul(seed):
    x, w, c = _operands(seed)
    return lambda: np.matmul(x, w, out=c)


def gemm_pair(rounds, calls):
    x, w, c = _operands(0)

    def mn():
        kernels.gemm(x, w, out=c)

    npm = _numpy_matmul(0)

    def pair():
        mn()
        npm()

    got = {"minnet": [], "numpy": [], "pair": [], "pair minnet half": [], "pair numpy half": []}
    for _ in range(rounds):
        got["minnet"].append(_per_call(mn, calls))
        got["numpy"].append(_per_call(npm, calls))
        got["pair"].append(_per_call(pair, calls))
        h1, h2 = _halves(mn, npm, calls)
        got["pair minnet half"].append(h1)
        got["pair numpy half"].append(h2)
    return {k: statistics.median(v) for k, v in got.items()}


def train_between(rounds, calls):
    step = TRAIN_MODELS["mlp512"].builder(128, None)["minnet"]
    npm = _numpy_matmul(1)

    alone, between = [], []
    for _ in range(rounds):
        alone.append(_per_call(step, calls))
        between.append(_halves(step, npm, calls)[0])
    return statistics.median(alone), statistics.median(between)


def wake(rounds):
    x = np.ones((128, 784), np.float32)
    w = np.ones((784, 512), np.float32)
    after = []
    for _ in range(rounds * 5):
        np.matmul(x, w)
        after.append(_runtime.pool_wake_us(0, 1, warm_up=False))
    after = [t for t in after if t == t]  # NaN: no worker joined within 20 ms
    return (
        _runtime.pool_wake_us(0, 101),
        _runtime.pool_wake_us(5000, 31),
        statistics.median(after) if after else float("nan"),
    )


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python bench/interference.py", description=__doc__.split("\n")[0]
    )
    ap.add_argument(
        "--threads", type=int, default=2, help="minnet's and NumPy's threads (default 2)"
    )
    ap.add_argument("--rounds", type=int, default=9, help="rounds taking turns (default 9)")
    ap.add_argument("--quick", action="store_true", help="3 rounds of few calls (a smoke test)")
    args = ap.parse_args(argv)
    if args.threads < 1 or args.rounds < 1:
        ap.error("--threads and --rounds must be positive")
    rounds, calls = (3, 20) if args.quick else (args.rounds, 200)
    minnet.set_num_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(args.threads, user_api="blas")
    except ImportError:
        limits = None
    timeout = os.environ.get("OPENBLAS_THREAD_TIMEOUT", "(unset)")
    print(f"# {machine_line()}")
    print(
        f"# {args.threads} threads, OPENBLAS_THREAD_TIMEOUT={timeout}, medians of {rounds} rounds"
    )
    g = gemm_pair(rounds, calls)
    alone = g["minnet"] + g["numpy"]
    print(
        f"gemm 128x784x512: minnet {g['minnet'] * 1e3:.3f} ms, numpy {g['numpy'] * 1e3:.3f} ms, "
        f"pair {g['pair'] * 1e3:.3f} ms = {g['pair'] / alone:.2f}x the sum "
        f"(halves: minnet {g['pair minnet half'] * 1e3:.3f}, "
        f"numpy {g['pair numpy half'] * 1e3:.3f})"
    )
    a, b = train_between(rounds, max(10, calls // 4))
    print(
        f"mlp512 train step (batch 128): {a * 1e3:.3f} ms alone, {b * 1e3:.3f} ms with a numpy "
        f"matmul between steps = {b / a:.2f}x"
    )
    spin, asleep, after = wake(rounds)
    print(
        f"pool wake-up (median): spinning {spin:.1f} us, asleep {asleep:.1f} us, "
        f"after a numpy matmul {after:.1f} us"
    )
    if limits is not None:
        limits.restore_original_limits()
    return 0


if __name__ == "__main__":
    sys.exit(main())
