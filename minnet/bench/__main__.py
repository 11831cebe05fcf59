"""minnet-bench: measure minnet's kernels against NumPy (and PyTorch when importable), same run.

    minnet-bench --info
    minnet-bench kernels [--op NAME,...] [--case TEXT] [--threads 1,2] [--quick] [--repeat N]
                         [--torch-nopf] [--json FILE]
    minnet-bench train [--model NAME,...] [--batch 128] [--threads 1,2]
                       [--compare torch|none] [--repeat N] [--torch-nopf] [--json FILE]
    minnet-bench train --ranks 1,2 [--model NAME,...] [--batch 128] [--threads C]
                       [--alternations N] [--bucket-cap-mb MB] [--repeat N] [--json FILE]
    minnet-bench epoch [--model NAME,...] [--epochs N] [--compare torch|none] [--threads 2]
                       [--batch 128] [--limit N] [--subset] [--seed N] [--json FILE]

The registered names are listed at the end of this help. --threads, --repeat, --json,
--no-torch and --torch-nopf may also come before the command (minnet-bench --threads 2
kernels), for the commands that have them.

kernels columns: median ms per call over repeats (after warm-up), GFLOP/s, minor page faults
per call, and each baseline's time divided by minnet's ("x faster"; above 1: minnet faster).
train columns: median ms per training step (forward, loss, backward, optimizer step), minor
page faults per step, and torch's time per step divided by minnet's, measured in the same run
with the same thread count, the two taking turns (one timed batch each per round).
train --ranks: data-parallel steps on R MPI ranks (mpirun) x C/R threads against 1 rank x C
threads, the same global batch: step time, samples/s, scaling efficiency, the allreduces' cost
and the share of it hidden behind the backward (minnet/bench/distributed.py).
epoch columns: median seconds per training epoch of the course models on Fashion-MNIST with the
lectures' hand-written loop (shuffle, gather each batch, forward, loss, backward, step; the test
accuracy after the last epoch is not timed), minnet's and torch's epochs taking turns.
--torch-nopf adds torch timed in a separate process started with GLIBC_TUNABLES raising glibc's
mmap and trim thresholds to 4 GiB (no page faults), taking its turns in the same rounds.
"""

import argparse
import contextlib
import json
import os
import platform
import sys
import time

import numpy as np

import minnet
from minnet._argparse import (
    ArgumentParser,
    names_in,
    nonnegative_int,
    output_file,
    positive_int,
    thread_counts,
)
from minnet.bench._torch_worker import describe, start_worker, worker_impl_name
from minnet.bench.roofline import percent_of_peak
from minnet.bench.suites import KERNEL_SELECTORS, KERNEL_SUITES, select_suites
from minnet.bench.timing import Timing, measure


def _timing_fields(rec, res, per):
    """JSON fields of one case: each implementation's median and min ms, page faults per
    call (or step), and its ratio to minnet's median."""
    mn = res["minnet"]
    for name, t in res.items():
        rec[f"{name}_ms"] = t.median_s * 1e3
        rec[f"{name}_min_ms"] = t.min_s * 1e3
        rec[f"{name}_faults_per_{per}"] = t.faults_per_call
        if name != "minnet":
            rec[f"ratio_{name}"] = t.median_s / mn.median_s


# What caps torch's kernels to the ISA level minnet runs at under MINNET_ISA, so that an
# `MINNET_ISA=avx2 minnet-bench ...` run compares like with like: ATen's own kernels, oneDNN
# (convolutions) and MKL (torch's GEMMs on x86). Set only where the user has not set them, and
# before torch is imported (each library reads its variable once); the torch-nopf worker
# inherits them.
_TORCH_ISA_ENV = {
    "avx2": {
        "ATEN_CPU_CAPABILITY": "avx2",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    },
    "generic": {
        "ATEN_CPU_CAPABILITY": "default",
        "ONEDNN_MAX_CPU_ISA": "SSE41",
        "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
    },
}


def cap_torch_isa():
    """When MINNET_ISA capped minnet below the CPU's level, set the torch variables of
    _TORCH_ISA_ENV the user left unset (before torch is imported); returns {name: value} of
    those set."""
    info = minnet.build_info()
    if "torch" in sys.modules or not info["isa_source"].startswith("MINNET_ISA="):
        return {}
    wanted = _TORCH_ISA_ENV.get(info["isa"], {})
    chosen = {k: v for k, v in wanted.items() if k not in os.environ}
    os.environ.update(chosen)
    return chosen


def _import_torch():
    try:
        import torch
    except Exception:  # not installed, or broken: the harness runs without it
        return None
    return torch


def _blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (pip install threadpoolctl to see it)"
    rows = [
        f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}, "
        f"{p.get('num_threads')} threads)"
        for p in threadpool_info()
        if p.get("user_api") == "blas"
    ]
    return "; ".join(rows) or "none found"


def machine_line():
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    env = ", ".join(
        f"{k}={os.environ[k]}"
        for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "MINNET_ISA")
        + tuple(_TORCH_ISA_ENV["avx2"])
        if k in os.environ
    )
    return (
        f"{cpu}, {os.cpu_count()} cpus, Python {sys.version.split()[0]}, NumPy "
        f"{np.__version__}, minnet {minnet.__version__} ({minnet.build_info()['isa']}), "
        f"env: {env or 'no OPENBLAS_*/OMP_* set'}"
    )


def print_info(torch):
    info = minnet.build_info()
    print(f"minnet {info['version']}")
    for key in (
        "python",
        "numpy",
        "platform",
        "compiler",
        "cflags",
        "native",
        "threads",
        "num_threads",
        "spin_us",
        "cpu_isa",
        "isa",
        "isa_source",
        "gemm_tile_f32",
        "gemm_tile_f64",
    ):
        print(f"  {key:16s} {info[key]}")
    print(f"  {'numpy blas':16s} {_blas_info()}")
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS"):
        print(f"  {k:16s} {os.environ.get(k, '(unset)')}")
    print(f"  {'torch':16s} {torch.__version__ if torch else 'not importable'}")
    print_roofline()
    print_pool_wake()


def print_pool_wake():
    """How fast the thread pool's worker starts on a job: while it spins (right after the
    previous job, as inside a training step) and after it fell asleep (5 ms idle)."""
    from minnet._kernels import _runtime

    spin, asleep = _runtime.pool_wake_us(0, 101), _runtime.pool_wake_us(5000, 31)
    print(
        f"thread pool wake-up (median): spinning {spin:.1f} us, asleep {asleep:.1f} us "
        f"(idle workers spin {_runtime.get_spin_us()} us, MINNET_SPIN_US)"
    )


def print_roofline(threads=None):
    """The machine's roofs, measured now: FMA peak per ISA level the CPU has, float32 and
    float64, per thread count, and the streaming-triad bandwidth (minnet.bench.roofline)."""
    from minnet.bench.roofline import machine_peak, triad_bandwidth

    threads = threads or sorted({1, minnet.get_num_threads()})
    levels = ["generic", "avx2", "avx512"]
    cpu = minnet.build_info()["cpu_isa"]
    levels = levels[: levels.index(cpu) + 1] if cpu in levels else ["generic"]
    print("roofline (measured now; % peak in kernels/train rows divides by the current ISA's)")
    for nt in threads:
        peaks = ", ".join(
            f"{isa} {machine_peak(nt, 'float32', isa) / 1e9:.0f}/"
            f"{machine_peak(nt, 'float64', isa) / 1e9:.0f}"
            for isa in levels
        )
        print(
            f"  {nt} thread{'s' if nt > 1 else ' '}  FMA peak GFLOP/s f32/f64: {peaks}; "
            f"triad {triad_bandwidth(nt) / 1e9:.1f} GB/s"
        )


@contextlib.contextmanager
def _all_threads(n, torch):
    """Give minnet, NumPy's BLAS and torch the same thread count for a fair comparison."""
    limits = None
    try:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(limits=n, user_api="blas")
    except ImportError:
        pass
    old_torch = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(n)
    try:
        with minnet.threads(n):
            yield
    finally:
        if torch:
            torch.set_num_threads(old_torch)
        if limits is not None:
            limits.restore_original_limits()


def _label(impl):
    return impl.replace("_", "-")


def _baselines(impl_lists):
    """The baselines (every implementation but minnet) in first-seen order, the torch-nopf
    worker's last: numpy, torch, torch_cl, torch_nopf, torch_cl_nopf."""
    seen = []
    for names in impl_lists:
        for n in names:
            if n != "minnet" and n not in seen:
                seen.append(n)
    return sorted(seen, key=lambda n: (n.endswith("_nopf"), seen.index(n)))


def _show_flt(name, args):
    # with --torch-nopf the page faults of torch in and out of process are the point
    return bool(getattr(args, "torch_nopf", False)) and name.startswith("torch")


def _kernel_columns(baselines, args):
    """(header, formatter) for the per-baseline columns of a kernels row."""
    cols = []
    for b in baselines:
        lab = _label(b)
        cols.append((b, max(9, len(lab) + 3), max(7, len(lab) + 2), _show_flt(b, args)))
    header = "".join(
        f" {_label(b) + ' ms':>{w1}s} {'x ' + _label(b):>{w2}s}" + (f" {'flt':>7s}" if flt else "")
        for b, w1, w2, flt in cols
    )

    def fmt(res):
        mn = res["minnet"].median_s
        out = []
        for b, w1, w2, flt in cols:
            if b not in res:
                out.append(f" {'-':>{w1}s} {'-':>{w2}s}" + (f" {'-':>7s}" if flt else ""))
                continue
            t = res[b]
            out.append(
                f" {t.median_s * 1e3:{w1}.4f} {t.median_s / mn:{w2}.2f}"
                + (f" {t.faults_per_call:7.1f}" if flt else "")
            )
        return "".join(out)

    return header, fmt


def _worker_kernel_impls(worker, op, quick, cases):
    """Per case, {impl name as shown: (worker key, worker impl)} for the worker's torch impls
    of `op`; the worker built the same cases with the same builder, checked by name."""
    if worker is None:
        return [{} for _ in cases]
    wcases = worker.kernel_cases(op, quick)
    if [c["name"] for c in wcases] != [c.name for c in cases]:
        raise SystemExit(
            f"minnet-bench: the torch-nopf worker built other {op} cases than this "
            f"process: {[c['name'] for c in wcases]} vs {[c.name for c in cases]}"
        )
    return [{worker_impl_name(i): (wc["key"], i) for i in wc["impls"]} for wc in wcases]


def _start_worker(args):
    if not getattr(args, "torch_nopf", False):
        return None
    worker = start_worker()
    if worker is not None:
        print(
            f"# {describe(worker)} (torch in a separate process; its time and page faults "
            f"are its own)"
        )
    return worker


def run_kernels(args, torch):
    ops = select_suites(args.op) if args.op else list(KERNEL_SUITES)
    threads = args.threads
    repeats = args.repeat or (5 if args.quick else 9)
    print(f"# {machine_line()}")
    torch_version = torch.__version__ if torch else "not importable"
    print(f"# numpy BLAS: {_blas_info()}; torch: {torch_version}")
    print(
        f"# median of {repeats} rounds taking turns; ratio = baseline time / minnet time "
        f"(>1: minnet faster)"
    )
    worker = _start_worker(args)
    records = []
    printed_header = False
    seen = []  # every case's name, for the message when --case matches none
    try:
        for op in ops:
            cases = KERNEL_SUITES[op](args.quick, torch)
            seen += [f"{op}: {c.name}" for c in cases]
            remote = _worker_kernel_impls(worker, op, args.quick, cases)
            if args.case:
                keep = [args.case in c.name for c in cases]
                cases = [c for c, k in zip(cases, keep) if k]
                remote = [r for r, k in zip(remote, keep) if k]
                if not cases:
                    continue
            baselines = _baselines([list(c.impls) + list(r) for c, r in zip(cases, remote)])
            cw = max([30] + [len(c.name) for c in cases])
            ow = max(7, len(op))
            cols_header, cols = _kernel_columns(baselines, args)
            header = (
                f"{'op':{ow}s} {'case':{cw}s} {'thr':>3s} {'minnet ms':>10s} "
                f"{'GFLOP/s':>8s} {'%peak':>6s} {'flt/call':>8s}{cols_header}"
            )
            if printed_header:
                print()
            printed_header = True
            print(header)
            print("-" * len(header))
            for case, rem in zip(cases, remote):
                for nt in threads:
                    impls = dict(case.impls)
                    impls.update(
                        {name: worker.remote(key, impl, nt) for name, (key, impl) in rem.items()}
                    )
                    with _all_threads(nt, torch):
                        res = _interleaved(impls, repeats)
                    mn = res["minnet"]
                    gflops = case.flops / mn.median_s / 1e9 if case.flops > 2 else float("nan")
                    peak = (
                        percent_of_peak(case.flops, mn.median_s, nt, case.dtype)
                        if case.flops > 2
                        else float("nan")
                    )
                    rec = {"op": op, "case": case.name, "threads": nt, "flops": case.flops}
                    rec["percent_of_peak"] = peak
                    if case.note:
                        rec["note"] = case.note
                    _timing_fields(rec, res, "call")
                    records.append(rec)
                    print(
                        f"{op:{ow}s} {case.name:{cw}s} {nt:3d} {mn.median_s * 1e3:10.4f} "
                        f"{gflops:8.1f} {peak:6.1f} {mn.faults_per_call:8.2f}{cols(res)}",
                        flush=True,
                    )
    finally:
        if worker is not None:
            worker.close()
    if not printed_header:  # --case matched no case of any --op
        raise _UsageError(
            "kernels",
            f"argument --case: no {'/'.join(ops)} case contains "
            f"{args.case!r}; the cases{' (--quick)' if args.quick else ''}: "
            f"{'; '.join(seen)}",
        )
    if args.json:
        _write_results(args.json, torch, records, torch_nopf=_worker_json(worker))
    return records


class _UsageError(Exception):
    """A wrong argument found only once the work started (e.g. a --case no case contains):
    main prints it as argparse would, one line, exit code 2."""

    def __init__(self, command, message):
        super().__init__(message)
        self.command = command


def _worker_json(worker):
    if worker is None:
        return None
    return dict(
        worker.info,
        env=worker.env,
        note="torch in a separate process started with env added; its _ms and "
        "_faults_per_call keys end in _nopf",
    )


def _write_results(path, torch, records, **extra):
    """--json: the records, after the machine, the build, the torch version and ``extra``
    (what else the command's records depend on)."""
    _write_json(
        path,
        {
            "machine": machine_line(),
            "build": minnet.build_info(),
            "torch": torch.__version__ if torch else None,
            **extra,
            "records": records,
        },
    )


def _write_json(path, payload):
    from minnet._atomic import atomic_write

    try:
        with atomic_write(path, "w") as f:
            json.dump(payload, f, indent=1, default=str)
    except OSError as e:  # checked when parsed; the folder went away or the disk is full
        raise SystemExit(f"minnet-bench: error: could not write --json {path}: {e}") from None
    print(f"# wrote {path}")


# Pause between turns so the previous implementation's idle threads stop spinning first. Measured
# here: after a NumPy matmul, OpenBLAS's worker busy-waits ~100 ms (10 scheduler ticks of CPU
# in the next 0.5 s, none after), and a 2-thread minnet GEMM in that window ran 2x slower; torch's
# bundled libgomp spins for milliseconds. On 2 cores one spinning thread halves the next team.
SETTLE_S = 0.15


def _interleaved(impls, repeats, settle=None):
    """Timing per implementation, the implementations taking turns: each round times one
    batch of each (``measure`` with one repeat), and the medians are over the rounds. On a
    shared machine the load drifts; taking turns exposes minnet and torch to the same drift,
    so their ratio holds better than when one is timed entirely before the other.

    An implementation with a ``measure_turn()`` method (the torch-nopf worker's, see
    ``_torch_worker.py``) times its own turn in its own process with the same ``measure``."""
    if settle is None:
        settle = SETTLE_S
    rounds = {impl: [] for impl in impls}
    for _ in range(repeats):
        for impl, fn in impls.items():
            if settle and len(impls) > 1:
                time.sleep(settle)
            turn = getattr(fn, "measure_turn", None)
            rounds[impl].append(turn() if turn is not None else measure(fn, repeats=1))
    res = {}
    for impl, ts in rounds.items():
        per_call = sorted(t.median_s for t in ts)
        calls = sum(t.calls for t in ts)
        res[impl] = Timing(
            median_s=per_call[len(per_call) // 2],
            min_s=per_call[0],
            faults_per_call=sum(t.faults_per_call * t.calls for t in ts) / calls,
            calls=calls,
        )
    return res


def run_train(args, torch):
    from minnet.bench.train import TRAIN_MODELS

    names = args.model or list(TRAIN_MODELS)
    if args.ranks is not None:
        return _run_train_ranks(args, names)
    if args.compare == "none":
        torch = None
    threads = args.threads
    repeats = args.repeat or 9
    print(f"# {machine_line()}")
    print(
        f"# torch: {torch.__version__ if torch else 'not compared'}; median of {repeats} "
        f"rounds taking turns; ratio = torch time / minnet time (>1: minnet faster)"
    )
    worker = _start_worker(args)
    try:
        # build every model first: the table's columns are the union of their baselines
        runs = []
        for name in names:
            model = TRAIN_MODELS[name]
            batch = args.batch if args.batch is not None else model.default_batch
            for nt in threads:
                with _all_threads(nt, torch):
                    impls = model.builder(batch if batch is not None else 1, torch)
                    if worker is not None:
                        w = worker.train_impls(name, batch if batch is not None else 1, nt)
                        impls.update(
                            {
                                worker_impl_name(i): worker.remote(w["key"], i, nt)
                                for i in w["impls"]
                            }
                        )
                runs.append((name, model, batch, nt, impls))
        baselines = _baselines([list(r[4]) for r in runs])
        widths = {b: (max(9, len(_label(b)) + 3), max(7, len(_label(b)) + 2)) for b in baselines}
        header = (
            f"{'model':9s} {'batch':>5s} {'thr':>3s} {'minnet ms':>10s} {'GFLOP':>7s} "
            f"{'%peak':>6s} {'flt/step':>8s}"
            + "".join(
                f" {_label(b) + ' ms':>{widths[b][0]}s} {'flt/step':>8s} "
                f"{'x ' + _label(b):>{widths[b][1]}s}"
                for b in baselines
            )
        )
        print(header)
        print("-" * len(header))
        records = []
        for name, model, batch, nt, impls in runs:
            with _all_threads(nt, torch):
                res = _interleaved(impls, repeats)
            mn = res["minnet"]
            shown_batch = batch if model.default_batch is not None else 1
            rec = {
                "model": name,
                "batch": shown_batch,
                "threads": nt,
                "description": model.description,
            }
            flops = _step_flops(impls["minnet"])
            peak = percent_of_peak(flops, mn.median_s, nt)
            rec.update(flops=flops, percent_of_peak=peak)
            _timing_fields(rec, res, "step")
            records.append(rec)
            tcols = ""
            for b in baselines:
                w1, w2 = widths[b]
                if b in res:
                    tt = res[b]
                    tcols += (
                        f" {tt.median_s * 1e3:{w1}.4f} {tt.faults_per_call:8.2f} "
                        f"{tt.median_s / mn.median_s:{w2}.2f}"
                    )
                else:
                    tcols += f" {'-':>{w1}s} {'-':>8s} {'-':>{w2}s}"
            print(
                f"{name:9s} {shown_batch:5d} {nt:3d} {mn.median_s * 1e3:10.4f} "
                f"{flops / 1e9:7.3f} {peak:6.1f} {mn.faults_per_call:8.2f}{tcols}",
                flush=True,
            )
        if getattr(args, "profile", False):
            _print_profile(runs, records, torch)
    finally:
        if worker is not None:
            worker.close()
    if args.json:
        _write_results(args.json, torch, records, torch_nopf=_worker_json(worker))
    return records


def _run_train_ranks(args, names):
    from minnet.bench.distributed import run_ranks

    if len(args.threads) != 1:
        raise _UsageError("train", "--ranks: give --threads one count, the total cores C")
    print(f"# {machine_line()}")
    try:
        records = run_ranks(
            names,
            args.ranks,
            args.threads[0],
            batch=args.batch,
            repeat=args.repeat or 9,
            alternations=args.alternations,
            bucket_cap_mb=args.bucket_cap_mb,
        )
    except (FileNotFoundError, ValueError) as e:
        raise _UsageError("train", str(e)) from None
    if args.json:
        _write_results(args.json, None, records, ranks=args.ranks)
    return records


def _step_flops(step):
    """FLOPs of one training step of a train builder's minnet step (its ``model`` and
    ``inputs``, see minnet.bench.train._loop), or nan when the builder did not attach them."""
    from minnet.bench.roofline import step_flops

    model, inputs = getattr(step, "model", None), getattr(step, "inputs", None)
    if model is None or inputs is None:
        return float("nan")
    return step_flops(model, inputs, call=lambda m, v: m(*v))[1]


def _print_profile(runs, records, torch):
    """--profile: where each minnet step's time goes (minnet.bench.profile), one row per
    model and thread count, shares of the profiled step's time."""
    from minnet.bench.profile import CATEGORIES, profile_step

    print()
    print(
        "# --profile: each kernel call timed (about 1 us of wrapper per call lands in python); "
        "shares of the profiled step"
    )
    header = f"{'model':9s} {'thr':>3s} {'step ms':>8s} {'calls':>6s}" + "".join(
        f" {c + ' ms':>13s} {'%':>5s}" for c in CATEGORIES
    )
    print(header)
    print("-" * len(header))
    for (name, model, batch, nt, impls), rec in zip(runs, records):
        with _all_threads(nt, torch):
            prof = profile_step(impls["minnet"])
        rec["profile"] = prof
        cells = "".join(
            f" {prof[c] * 1e3:13.4f} {100 * prof[c] / prof['step_s']:5.1f}" for c in CATEGORIES
        )
        print(f"{name:9s} {nt:3d} {prof['step_s'] * 1e3:8.4f} {prof['calls']:6.0f}{cells}")


def _cpu_counters():
    """(machine busy seconds, machine total seconds, this process's CPU seconds), or None
    where /proc/stat is missing: the difference of two tells how much CPU other processes
    took meanwhile."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    hz = os.sysconf("SC_CLK_TCK")
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    t = os.times()
    return (sum(ticks) - idle) / hz, sum(ticks) / hz, t.user + t.system


def _others_share(before, after):
    """Fraction of the machine's CPU time that other processes used between two
    _cpu_counters() readings (0 on a quiet machine; None when unknown)."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    busy = (after[0] - before[0]) - (after[2] - before[2])
    return max(0.0, busy / (after[1] - before[1]))


def _median(xs):
    xs = sorted(xs)
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2


def run_epoch(args, torch):
    """Whole epochs of the course models (minnet.bench.course), minnet's and torch's epochs
    taking turns; one row per model and thread count, after per-epoch progress lines."""
    from minnet.bench.course import EPOCH_MODELS, Trainer, load_images

    names = args.model or list(EPOCH_MODELS)
    if args.compare == "none":
        torch = None
    try:
        (xtr, ytr), (xte, yte), source = load_images(subset=args.subset, limit=args.limit)
    except FileNotFoundError:
        print(
            "minnet-bench epoch: error: the full Fashion-MNIST is not installed "
            "(`apt-get install dataset-fashion-mnist`), or pass --subset for the embedded "
            "6,500-image subset",
            file=sys.stderr,
        )
        return None
    data = ((xtr, ytr), (xte, yte))
    print(f"# {machine_line()}")
    print(f"# numpy BLAS: {_blas_info()}; torch: {torch.__version__ if torch else 'not compared'}")
    print(
        f"# data: Fashion-MNIST ({source}), {len(ytr)} training / {len(yte)} test images; "
        f"s/epoch = median over the epochs of the timed training loop (accuracy not timed); "
        f"x torch = torch time / minnet time (>1: minnet faster)",
        flush=True,
    )
    impls = ["minnet"] + (["torch"] if torch is not None else [])
    records = []
    for name in names:
        spec = EPOCH_MODELS[name]
        epochs = args.epochs or spec.epochs
        batch = args.batch or spec.batch
        for nt in args.threads:
            with _all_threads(nt, torch):
                trainers = {
                    i: Trainer(spec, i, data, batch=batch, seed=args.seed, torch=torch)
                    for i in impls
                }
                secs = {i: [] for i in impls}
                others = []  # per epoch: the CPU share other processes took (noise)
                for e in range(epochs):
                    # the same shuffle for both frameworks, a new one each epoch
                    perm = np.random.default_rng((args.seed, e)).permutation(len(ytr))
                    c0 = _cpu_counters()
                    for i, tr in trainers.items():
                        if len(trainers) > 1:
                            time.sleep(SETTLE_S)  # let the other side's threads go idle
                        secs[i].append(tr.epoch(perm))
                    others.append(_others_share(c0, _cpu_counters()))
                    noise = "" if others[-1] is None else f"; other processes {others[-1]:.0%}"
                    print(
                        f"# {name} thr {nt} epoch {e + 1}/{epochs}: "
                        + ", ".join(
                            f"{i} {secs[i][-1]:.2f} s (loss {trainers[i].losses[-1]:.3f})"
                            for i in impls
                        )
                        + noise,
                        flush=True,
                    )
                acc = {i: tr.accuracy() for i, tr in trainers.items()}
            rec = {
                "model": name,
                "description": spec.description,
                "epochs": epochs,
                "batch": batch,
                "threads": nt,
                "n_train": len(ytr),
                "n_test": len(yte),
                "data": source,
                "target_accuracy": spec.target,
                "others_cpu_share": others,
            }
            for i in impls:
                rec[f"{i}_epoch_s"] = secs[i]
                rec[f"{i}_s_per_epoch"] = _median(secs[i])
                rec[f"{i}_first_epoch_s"] = secs[i][0]
                rec[f"{i}_accuracy"] = acc[i]
                rec[f"{i}_final_loss"] = trainers[i].losses[-1]
            if torch is not None:
                rec["ratio_torch"] = rec["torch_s_per_epoch"] / rec["minnet_s_per_epoch"]
                rec["minnet_over_torch"] = 1 / rec["ratio_torch"]
            records.append(rec)
    _print_epoch_table(records)
    if args.json:
        _write_results(args.json, torch, records, data=source)
    return records


def _print_epoch_table(records):
    header = (
        f"{'model':10s} {'epochs':>6s} {'batch':>5s} {'thr':>3s} {'minnet s/ep':>11s} "
        f"{'torch s/ep':>10s} {'x torch':>7s} {'mn/torch':>8s} {'minnet acc':>10s} "
        f"{'torch acc':>9s} {'target':>6s}"
    )
    print(header)
    print("-" * len(header))
    notes = []
    for r in records:
        has_t = "torch_s_per_epoch" in r
        t_cols = (
            f"{r['torch_s_per_epoch']:10.3f} {r['ratio_torch']:7.2f} {r['minnet_over_torch']:8.2f}"
            if has_t
            else f"{'-':>10s} {'-':>7s} {'-':>8s}"
        )
        print(
            f"{r['model']:10s} {r['epochs']:6d} {r['batch']:5d} {r['threads']:3d} "
            f"{r['minnet_s_per_epoch']:11.3f} {t_cols} {r['minnet_accuracy']:10.4f} "
            f"{r['torch_accuracy'] if has_t else float('nan'):9.4f} "
            f"{r['target_accuracy']:6.3f}"
        )
        shares = [o for o in r["others_cpu_share"] if o is not None]
        if shares and max(shares) > 0.1:
            notes.append(
                f"# {r['model']} thr {r['threads']}: other processes took up to "
                f"{max(shares):.0%} of the CPUs during its epochs (median "
                f"{_median(shares):.0%}): noisy figures"
            )
        # a first epoch far from the median (warm-up, page faults) gets its own line
        for i in ("minnet", "torch") if has_t else ("minnet",):
            first, med = r[f"{i}_first_epoch_s"], r[f"{i}_s_per_epoch"]
            if r["epochs"] > 1 and abs(first - med) > 0.15 * med:
                notes.append(
                    f"# {r['model']} thr {r['threads']}: {i}'s first epoch "
                    f"{first:.3f} s (median {med:.3f} s)"
                )
    for n in notes:
        print(n)
    sys.stdout.flush()


def _model_option(p, registry):
    """train's and epoch's --model: names from their registry of models."""
    p.add_argument(
        "--model",
        type=names_in(registry, "model"),
        default=None,
        metavar="NAME,...",
        help=f"comma-separated, from: {_names(registry)} (default all)",
    )


def _compare_option(p):
    p.add_argument(
        "--compare",
        choices=("torch", "none"),
        default="torch",
        help="torch (when importable) or none",
    )


# The options more than one command takes; each may also come before the command. On a
# command they default to SUPPRESS so that a value written before the command survives.
def _shared_options(
    p, top, repeat="(default 9; kernels --quick: 5)", torch_nopf=True, unit="case"
):
    def default(value):
        return {"default": value if top else argparse.SUPPRESS}

    p.add_argument(
        "--threads",
        type=thread_counts,
        metavar="N,...",
        **default(None),
        help=f"comma-separated thread counts, e.g. 1,2 (default: minnet's, "
        f"{minnet.get_num_threads()} here)",
    )
    if repeat:
        p.add_argument(
            "--repeat",
            type=positive_int,
            metavar="N",
            **default(None),
            help=f"timed rounds per {unit} {repeat}",
        )
    p.add_argument(
        "--json",
        type=output_file("results.json"),
        metavar="FILE",
        **default(None),
        help="also write the records to FILE (its folder must exist)",
    )
    p.add_argument(
        "--no-torch", action="store_true", **default(False), help="do not compare with PyTorch"
    )
    if torch_nopf:
        p.add_argument(
            "--torch-nopf",
            action="store_true",
            **default(False),
            help="also time torch in a separate process started with "
            "GLIBC_TUNABLES mmap/trim thresholds at 4 GiB (no page faults; columns "
            "torch-nopf, torch-cl-nopf), taking turns with the others; works with "
            "--no-torch too",
        )


def _names(registry):
    return ", ".join(registry)


def _registered_names():
    """The end of the top-level help: every registered op and model, from the registries."""
    import textwrap

    from minnet.bench.course import EPOCH_MODELS
    from minnet.bench.train import TRAIN_MODELS

    rows = [
        ("kernels --op", KERNEL_SELECTORS),
        ("train --model", TRAIN_MODELS),
        ("epoch --model", EPOCH_MODELS),
    ]
    lines = ["registered names (comma-separated, or all; the default is all):"]
    for what, registry in rows:
        lines += textwrap.wrap(
            _names(registry), width=88, initial_indent=f"  {what:15s}", subsequent_indent=" " * 17
        )
    return "\n".join(lines)


def build_parser():
    from minnet.bench.course import EPOCH_MODELS
    from minnet.bench.train import TRAIN_MODELS

    parser = ArgumentParser(
        prog="minnet-bench",
        description=__doc__,
        epilog=_registered_names(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--info", action="store_true", help="print build and machine facts")
    _shared_options(parser, top=True, unit="case (kernels) or model (train)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    k = sub.add_parser("kernels", help="time kernels against NumPy / PyTorch")
    k.add_argument(
        "--op",
        type=names_in(KERNEL_SELECTORS, "op"),
        default=None,
        metavar="NAME,...",
        help=f"comma-separated kernel families or single suites, from: "
        f"{_names(KERNEL_SELECTORS)} (default all)",
    )
    k.add_argument("--quick", action="store_true", help="fewer, smaller cases and repeats")
    k.add_argument("--case", default=None, help="only the cases whose name contains this text")
    _shared_options(k, top=False, repeat="(default 9, 5 with --quick)", unit="case")
    t = sub.add_parser("train", help="time training steps of small models against PyTorch")
    _model_option(t, TRAIN_MODELS)
    t.add_argument(
        "--batch",
        type=positive_int,
        default=None,
        help="batch size (default: the model's, 128; tiny is always 1)",
    )
    _compare_option(t)
    t.add_argument(
        "--profile",
        action="store_true",
        help="after the table, split each minnet step's time into GEMM/conv kernels, "
        "elementwise kernels, optimizer kernels and Python/autograd",
    )
    t.add_argument(
        "--ranks",
        type=thread_counts,
        default=None,
        metavar="N,...",
        help="data-parallel: time each model on N MPI ranks (mpirun) x C/N threads against "
        "1 rank x C threads (C: --threads, one count), the same global batch",
    )
    t.add_argument(
        "--alternations",
        type=positive_int,
        default=3,
        help="with --ranks: jobs per rank count, taking turns (default 3)",
    )
    t.add_argument(
        "--bucket-cap-mb",
        type=float,
        default=25.0,
        dest="bucket_cap_mb",
        help="with --ranks: DistributedDataParallel's bucket size in MiB (default 25)",
    )
    _shared_options(t, top=False, repeat="(default 9)", unit="model")
    e = sub.add_parser(
        "epoch",
        help="time whole training epochs of the course models on Fashion-MNIST against PyTorch",
    )
    _model_option(e, EPOCH_MODELS)
    e.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help="epochs per model (default: the course recipe's)",
    )
    e.add_argument("--batch", type=positive_int, default=None, help="batch size (default 128)")
    _compare_option(e)
    e.add_argument(
        "--limit",
        type=positive_int,
        default=None,
        help="train on the first N training images only (quick runs)",
    )
    e.add_argument(
        "--subset",
        action="store_true",
        help="the embedded 6,500-image subset instead of the full Fashion-MNIST",
    )
    e.add_argument(
        "--seed", type=nonnegative_int, default=0, help="seed of inits and shuffles (default 0)"
    )
    _shared_options(e, top=False, repeat=None, torch_nopf=False)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        given = [
            o
            for o, v in (
                ("--threads", args.threads),
                ("--repeat", args.repeat),
                ("--json", args.json),
                ("--torch-nopf", args.torch_nopf),
            )
            if v not in (None, False)
        ]
        if given:
            parser.error(
                f"argument {given[0]}: an option of a command; add one: "
                f"minnet-bench kernels|train|epoch {given[0]} ..."
            )
    if args.threads is None:
        args.threads = [minnet.get_num_threads()]
    if not args.no_torch:
        cap_torch_isa()
    torch = None if args.no_torch else _import_torch()
    if args.info:
        print_info(torch)
        if args.command is None:
            return 0
    try:
        if args.command == "kernels":
            run_kernels(args, torch)
            return 0
        if args.command == "train":
            run_train(args, torch)
            return 0
        if args.command == "epoch":
            return 0 if run_epoch(args, torch) is not None else 1
    except _UsageError as e:
        sys.stdout.flush()
        parser._commands()[e.command].error(str(e))
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
