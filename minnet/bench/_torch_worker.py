"""PyTorch timed in a separate process started with extra environment: the "no-page-fault" figure.

PyTorch's CPU allocator is glibc malloc; tensors above glibc's mmap threshold are fresh pages on
every call (a minor page fault per 4 KiB, ~3 us each here). Started with

    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295

glibc keeps and reuses freed memory instead, and torch's time is free of page faults. glibc reads
GLIBC_TUNABLES once, at process start, so this figure needs its own process, and the variable
must not reach minnet's process (it would change NumPy's and minnet's allocations too).

``minnet-bench kernels|train --torch-nopf`` starts one :class:`TorchWorker` for the run
(``python -m minnet.bench._torch_worker`` with the parent's environment plus ``NOPF_ENV``). The
worker builds the same cases with the same builders (same shapes, same seeds) and, on request,
times one turn of one of its torch implementations with :func:`minnet.bench.timing.measure`,
the harness's own clock, so its turns take their place in the parent's rounds like any other
implementation (see ``_interleaved`` in ``__main__.py``). It imports minnet before torch, as the
parent does, so both processes load their libraries in the same order; only GLIBC_TUNABLES
differs.

Protocol: one JSON object per line on the worker's stdin, one JSON reply per line on its stdout
(anything else the worker or its libraries print goes to stderr). Requests:

    {"cmd": "hello"}                     -> {"pid", "torch", "python", "glibc_tunables"}
    {"cmd": "kernels", "op": OP, "quick": BOOL}
                                         -> {"cases": [{"key", "name", "impls"}]}
    {"cmd": "train", "model": NAME, "batch": N, "threads": T}
                                         -> {"key", "impls"}
    {"cmd": "time", "key": K, "impl": I, "threads": T}
                                         -> {"median_s", "min_s", "faults_per_call", "calls"}
    {"cmd": "call", "key": K, "impl": I, "threads": T}
                                         -> {"ok": true}   (one untimed call)
    {"cmd": "quit"}                      (the worker exits)

``key`` names one built case; ``impl`` one of its torch implementations ("torch", "torch_cl");
the worker's "torch" appears in the parent's tables as "torch_nopf" (``worker_impl_name``).

A failed request answers {"error": "..."} and the worker carries on.
"""

import contextlib
import json
import os
import subprocess
import sys

from minnet.bench.timing import Timing

NOPF_TUNABLES = "glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295"
NOPF_ENV = {"GLIBC_TUNABLES": NOPF_TUNABLES}


def worker_impl_name(impl):
    """The name a worker implementation gets in the parent's tables: torch -> torch_nopf."""
    return f"{impl}_nopf"


# ---------------------------------------------------------------------------------- client side


class WorkerError(RuntimeError):
    pass


class TorchWorker:
    """A persistent ``python -m minnet.bench._torch_worker`` process with ``env`` added to this
    process's environment (this process's own environment is not changed)."""

    def __init__(self, env=None, python=None):
        extra = dict(NOPF_ENV if env is None else env)
        child_env = dict(os.environ)
        for k, v in extra.items():
            # keep tunables the user set for this process; ours come last, and the last wins
            if k == "GLIBC_TUNABLES" and child_env.get(k):
                v = f"{child_env[k]}:{v}"
            child_env[k] = v
        self.env = extra
        # `python -m` puts the working directory first on sys.path. Run the child from the folder
        # that holds this process's own minnet, so it imports the same (built) package even when
        # the caller stands in a source checkout whose minnet/ has no compiled kernels.
        import minnet

        home = os.path.dirname(os.path.dirname(os.path.abspath(minnet.__file__)))
        cmd = [python or sys.executable, "-m", "minnet.bench._torch_worker"]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=child_env,
            cwd=home,
            text=True,
            bufsize=1,
        )
        try:
            self.info = self.request(cmd="hello")
        except Exception:
            self.close()
            raise

    def request(self, **req):
        if self.proc.poll() is not None:
            raise WorkerError(f"torch worker exited with status {self.proc.returncode}")
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise WorkerError(
                f"torch worker exited with status {self.proc.returncode} "
                f"(request {req.get('cmd')!r}; its stderr has the reason)"
            )
        reply = json.loads(line)
        if "error" in reply:
            raise WorkerError(f"torch worker: {reply['error']}")
        return reply

    def kernel_cases(self, op, quick):
        """The worker's cases of `op`: [{"key", "name", "impls": [torch impl names]}]."""
        return self.request(cmd="kernels", op=op, quick=bool(quick))["cases"]

    def train_impls(self, model, batch, threads):
        """Build `model`'s training step in the worker; returns {"key", "impls"}."""
        return self.request(cmd="train", model=model, batch=int(batch), threads=int(threads))

    def remote(self, key, impl, threads):
        return RemoteImpl(self, key, impl, threads)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError, ValueError):
                f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RemoteImpl:
    """An implementation that lives in the worker. ``_interleaved`` times a turn of it with
    :meth:`measure_turn` (the worker runs ``measure(fn, repeats=1)``, exactly what the parent
    runs for its own implementations); calling it runs one untimed call there."""

    def __init__(self, worker, key, impl, threads):
        self.worker, self.key, self.impl, self.threads = worker, key, impl, int(threads)

    def measure_turn(self):
        r = self.worker.request(cmd="time", key=self.key, impl=self.impl, threads=self.threads)
        return Timing(
            median_s=r["median_s"],
            min_s=r["min_s"],
            faults_per_call=r["faults_per_call"],
            calls=r["calls"],
        )

    def __call__(self):
        self.worker.request(cmd="call", key=self.key, impl=self.impl, threads=self.threads)

    def __repr__(self):
        return f"RemoteImpl({self.key!r}, {self.impl!r}, threads={self.threads})"


def start_worker(log=print):
    """Start the no-page-fault worker, or return None (and say why) when it cannot run."""
    try:
        return TorchWorker()
    except Exception as e:  # torch not importable there, or the process failed to start
        log(f"# torch-nopf: worker not available ({e})")
        return None


def describe(worker):
    i = worker.info
    return (
        f"torch-nopf: worker pid {i['pid']}, torch {i['torch']}, "
        f"GLIBC_TUNABLES={i['glibc_tunables']}"
    )


# ---------------------------------------------------------------------------------- worker side


def _is_torch_impl(name):
    return name.startswith("torch")


def _serve(proto_in, proto_out):
    # minnet first, as in the parent (minnet.bench.__main__ imports it before torch), so that
    # both processes load their libraries in the same order
    import minnet  # noqa: F401
    from minnet.bench.__main__ import _all_threads
    from minnet.bench.suites import KERNEL_SUITES
    from minnet.bench.timing import measure
    from minnet.bench.train import TRAIN_MODELS

    torch_err = None
    try:
        import torch
    except Exception as e:  # reported to the parent by "hello"
        torch, torch_err = None, f"{type(e).__name__}: {e}"

    impls = {}  # key -> {impl name: callable}
    state = {"threads": None, "stack": contextlib.ExitStack()}

    def set_threads(n):
        n = int(n)
        if state["threads"] != n:
            state["stack"].close()
            state["stack"] = contextlib.ExitStack()
            state["stack"].enter_context(_all_threads(n, torch))
            state["threads"] = n

    def need_torch():
        if torch is None:
            raise RuntimeError(f"cannot import torch: {torch_err}")

    def handle(req):
        cmd = req.get("cmd")
        if cmd == "hello":
            need_torch()
            return {
                "pid": os.getpid(),
                "torch": torch.__version__,
                "python": sys.version.split()[0],
                "glibc_tunables": os.environ.get("GLIBC_TUNABLES"),
            }
        if cmd == "kernels":
            need_torch()
            op, quick = req["op"], bool(req.get("quick"))
            if op not in KERNEL_SUITES:
                raise KeyError(f"unknown op {op!r}")
            cases = []
            for i, case in enumerate(KERNEL_SUITES[op](quick, torch)):
                key = f"k:{op}:{int(quick)}:{i}"
                impls[key] = {n: f for n, f in case.impls.items() if _is_torch_impl(n)}
                cases.append({"key": key, "name": case.name, "impls": list(impls[key])})
            return {"cases": cases}
        if cmd == "train":
            need_torch()
            name, batch = req["model"], int(req["batch"])
            if name not in TRAIN_MODELS:
                raise KeyError(f"unknown model {name!r}")
            set_threads(req.get("threads", 1))
            built = TRAIN_MODELS[name].builder(batch, torch)
            key = f"t:{name}:{batch}:{state['threads']}"
            impls[key] = {n: f for n, f in built.items() if n != "minnet"}
            return {"key": key, "impls": list(impls[key])}
        if cmd in ("time", "call"):
            fn = impls[req["key"]][req["impl"]]
            set_threads(req.get("threads", 1))
            if cmd == "call":
                fn()
                return {"ok": True}
            t = measure(fn, repeats=1)
            return {
                "median_s": t.median_s,
                "min_s": t.min_s,
                "faults_per_call": t.faults_per_call,
                "calls": t.calls,
            }
        raise ValueError(f"unknown request {cmd!r}")

    try:
        for line in proto_in:
            if not line.strip():
                continue
            try:
                req = json.loads(line)
                if req.get("cmd") == "quit":
                    break
                reply = handle(req)
            except Exception as e:
                reply = {"error": f"{type(e).__name__}: {e}"}
            proto_out.write(json.dumps(reply, allow_nan=True) + "\n")
            proto_out.flush()
    finally:
        state["stack"].close()


def main():
    # the protocol gets a private copy of stdout; fd 1 then points at stderr, so whatever torch,
    # minnet or C code prints cannot corrupt a reply
    proto_out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    _serve(sys.stdin, proto_out)
    proto_out.flush()
    # skip interpreter teardown (torch's takes ~0.5 s): the replies are flushed, nothing to save
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
