"""``minnet-bench train --model NAME --ranks 1,2``: data-parallel training steps on MPI ranks
against one process with the same total cores and the same global batch.

For each model and each rank count R (C = the cores given, ``--threads`` or minnet's
default): ``mpirun -n R`` runs :func:`worker` with C / R threads per rank and a per-rank
batch of G / R (G the global batch), the model wrapped in DistributedDataParallel. The
reference is R = 1 (a world of one: no communication, C threads). The jobs take turns
(R = 1, R = 2, R = 1, ...) ``--alternations`` times, since the load of a shared machine
drifts, and each job times ``--repeat`` rounds of a few steps; the figures are medians.

Columns:

* step ms: the slowest rank's time per training step (forward, loss, backward with the
  bucketed allreduces, optimizer step), barrier-aligned rounds;
* samples/s: G / step time; efficiency: samples/s over R = 1's (same cores, same G);
* comm ms: the same buckets' allreduces run blocking, with nothing else to do (what the
  communication costs when nothing hides it);
* wait ms: what a step waited at the end of backward: for its allreduces, and for the
  slowest rank to get there (on a shared machine mostly the latter);
* overlap: the share of the allreduced bytes whose (non-blocking) allreduce had finished
  before the backward ended, i.e. hidden behind it. The last bucket (the first layers'
  gradients) is reduced after the backward, so a model whose gradients fit one bucket
  (every model here under the default 25 MiB, first bucket 1 MiB) shows 0%.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

__all__ = ["run_ranks", "worker"]


def _median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def worker(model_name, batch, threads, repeat, out, bucket_cap_mb=25.0, steps=None):
    """One job's measurement (every rank runs it); rank 0 writes the JSON figures to out."""
    import minnet
    import minnet.distributed as dist
    from minnet.bench.train import TRAIN_MODELS
    from minnet.distributed import _comm
    from minnet.nn.parallel import DistributedDataParallel

    dist.init(set_threads=False)
    minnet.set_num_threads(threads)
    comm = _comm._group.comm
    MPI = _comm._mpi()
    rank, world = dist.get_rank(), dist.get_world_size()
    step = TRAIN_MODELS[model_name].builder(batch, None)["minnet"]
    ddp = DistributedDataParallel(step.model, bucket_cap_mb=bucket_cap_mb)
    for _ in range(3):  # warm up: the arena, the kernels' workspaces, the MPI connections
        step()
    # steps per round: about 50 ms of work, the same on every rank (rank 0 decides)
    t0 = time.perf_counter()
    step()
    one = np.array([time.perf_counter() - t0])
    comm.Bcast(one, root=0)
    k = steps or max(1, min(50, int(0.05 / max(one[0], 1e-6))))
    per_step, waits, comms = [], [], []
    reduced = hidden = 0
    for _ in range(repeat):  # each round: k steps, then k rounds of the allreduces alone
        comm.Barrier()
        w0, r0, o0 = ddp.comm_wait_seconds, ddp.reduced_bytes, ddp.overlapped_bytes
        t0 = time.perf_counter()
        for _ in range(k):
            step()
        t1 = time.perf_counter()
        comm.Barrier()
        t2 = time.perf_counter()
        if world > 1:
            for _ in range(k):
                for b in ddp._buckets:
                    comm.Allreduce(MPI.IN_PLACE, b.flat, MPI.SUM)
        t3 = time.perf_counter()
        dt = np.array([(t1 - t0) / k, (ddp.comm_wait_seconds - w0) / k, (t3 - t2) / k])
        comm.Allreduce(MPI.IN_PLACE, dt, MPI.MAX)  # the job goes at its slowest rank's pace
        per_step.append(dt[0])
        waits.append(dt[1])
        comms.append(dt[2])
        reduced += ddp.reduced_bytes - r0
        hidden += ddp.overlapped_bytes - o0
    if rank == 0:
        grad_bytes = sum(b.flat.nbytes for b in ddp._buckets)
        rec = {
            "model": model_name,
            "ranks": world,
            "threads_per_rank": threads,
            "batch_per_rank": batch,
            "steps_per_round": k,
            "step_s": _median(per_step),
            "wait_s": _median(waits),
            "comm_s": _median(comms) if world > 1 else 0.0,
            "overlap": hidden / reduced if reduced else None,
            "buckets": len(ddp._buckets),
            "grad_bytes": grad_bytes,
        }
        tmp = out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(rec, f)
        os.replace(tmp, out)


def _binding(ranks, threads):
    """Each rank bound to its own ``threads`` cores when they fit (HPC practice; measured
    here: 2 ranks x 1 thread step ~10% faster bound than left to the scheduler), else no
    binding. Open MPI's default would bind one rank of C threads to one core."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    if ranks * threads <= cores:
        return ["--map-by", f"slot:PE={threads}", "--bind-to", "core"]
    return ["--bind-to", "none"]


def _job(model, ranks, threads, batch, repeat, bucket_cap_mb, timeout=600):
    from minnet.distributed.launch import module_args, mpirun_command

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        args = module_args("minnet.bench.distributed", [
            "--model", model, "--batch", str(batch),
            "--threads", str(threads), "--repeat", str(repeat), "--out", out,
            "--bucket-cap-mb", str(bucket_cap_mb),
        ])  # fmt: skip
        env = dict(os.environ)
        env["OMP_NUM_THREADS"] = str(threads)
        cmd = mpirun_command(ranks, args, extra=_binding(ranks, threads))
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0 or not os.path.exists(out):
            raise RuntimeError(
                f"minnet-bench train --ranks: the {ranks}-rank job of {model} failed "
                f"(exit {p.returncode}):\n{p.stdout}{p.stderr}"
            )
        with open(out) as f:
            return json.load(f)


def run_ranks(models, ranks, cores, batch=None, repeat=9, alternations=3, bucket_cap_mb=25.0):
    """Print the table (see the module docstring) and return its records."""
    from minnet.bench.train import TRAIN_MODELS

    if 1 not in ranks:
        ranks = [1] + list(ranks)  # the reference
    print(
        f"# data-parallel steps: R ranks x {cores}/R threads vs 1 rank x {cores} threads, "
        f"the same global batch; {alternations} alternating jobs x {repeat} rounds, medians; "
        f"each rank bound to its cores (mpirun --map-by slot:PE=threads --bind-to core); "
        f"bucket_cap_mb={bucket_cap_mb}"
    )
    header = (
        f"{'model':9s} {'batch':>5s} {'ranks':>5s} {'thr/r':>5s} {'step ms':>9s} "
        f"{'samples/s':>10s} {'effic.':>7s} {'comm ms':>8s} {'wait ms':>8s} {'overlap':>8s} "
        f"{'buckets':>7s} {'grad MB':>8s}"
    )
    print(header)
    print("-" * len(header))
    records = []
    for name in models:
        model = TRAIN_MODELS[name]
        g = batch or model.default_batch or 1
        runs = {r: [] for r in ranks}
        for _ in range(alternations):
            for r in ranks:
                if g % r:
                    raise ValueError(
                        f"minnet-bench train --ranks: the global batch {g} of {name} does "
                        f"not divide over {r} ranks"
                    )
                runs[r].append(_job(name, r, max(1, cores // r), g // r, repeat, bucket_cap_mb))
        base = None
        for r in ranks:
            jobs = runs[r]
            rec = dict(jobs[0])
            for key in ("step_s", "wait_s", "comm_s"):
                rec[key] = _median([j[key] for j in jobs])
            rec["batch"] = g
            rec["samples_per_s"] = g / rec["step_s"]
            if r == 1:
                base = rec["samples_per_s"]
            rec["efficiency"] = rec["samples_per_s"] / base
            if r > 1:
                rec["overlap"] = _median([j["overlap"] for j in jobs])
            rec["step_s_all"] = [j["step_s"] for j in jobs]
            records.append(rec)
            ov = "-" if rec["overlap"] is None else f"{rec['overlap'] * 100:7.0f}%"
            print(
                f"{name:9s} {g:5d} {r:5d} {rec['threads_per_rank']:5d} "
                f"{rec['step_s'] * 1e3:9.3f} {rec['samples_per_s']:10.0f} "
                f"{rec['efficiency'] * 100:6.1f}% {rec['comm_s'] * 1e3:8.3f} "
                f"{rec['wait_s'] * 1e3:8.3f} {ov:>8s} {rec['buckets']:7d} "
                f"{rec['grad_bytes'] / 1e6:8.3f}",
                flush=True,
            )
    return records


def main(argv=None):
    """The worker's command line (what ``run_ranks`` starts under mpirun)."""
    p = argparse.ArgumentParser(prog="python -m minnet.bench.distributed")
    p.add_argument("--model", required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--repeat", type=int, default=9)
    p.add_argument("--bucket-cap-mb", type=float, default=25.0)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    worker(a.model, a.batch, a.threads, a.repeat, a.out, a.bucket_cap_mb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
