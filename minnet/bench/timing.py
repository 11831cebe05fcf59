"""Timing: warm up, then the median of repeated calls; minor page faults per call from getrusage.

Each repeat times a batch of calls long enough (>= ~2 ms) to make timer resolution irrelevant,
and the figure reported is the median over repeats of the per-call time, which shrugs off the
noise of a shared machine better than the mean.
"""

import resource
import time
from dataclasses import dataclass


@dataclass
class Timing:
    median_s: float
    min_s: float
    faults_per_call: float
    calls: int


def _minflt():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def measure(
    fn, *, repeats=7, min_batch_s=5e-3, warmup=3, warmup_s=0.03, max_calls_per_batch=100000
):
    """Time fn() (no arguments). Returns Timing with the median per-call seconds.

    Warm-up runs at least `warmup` calls and `warmup_s` seconds: on this VM a core that sat
    idle for a while (between turns of the harness) takes milliseconds to come back up to
    speed, and a 2-thread kernel timed straight after that measured 2-6x slow."""
    t_end = time.perf_counter() + warmup_s
    n = 0
    while n < warmup or time.perf_counter() < t_end:
        fn()
        n += 1
    # size the batch so one batch takes at least min_batch_s
    calls = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_batch_s or calls >= max_calls_per_batch:
            break
        calls = min(max_calls_per_batch, max(calls * 2, int(calls * min_batch_s / max(dt, 1e-9))))
    per_call = []
    f0 = _minflt()
    total_calls = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        per_call.append((time.perf_counter() - t0) / calls)
        total_calls += calls
    faults = (_minflt() - f0) / total_calls
    per_call.sort()
    return Timing(
        median_s=per_call[len(per_call) // 2],
        min_s=per_call[0],
        faults_per_call=faults,
        calls=total_calls,
    )
