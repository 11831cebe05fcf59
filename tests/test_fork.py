"""fork() after minnet ran multi-threaded: the child must finish with the right answer, with
the parent's thread count (the pool's workers are the parent's, and do not exist in the child:
the child starts its own when it first needs them). Every case runs in a fresh interpreter under
a timeout, so a hang fails the test instead of the suite."""

import textwrap

from tests_helpers_run import run_python

TIMEOUT = 120

PRELUDE = textwrap.dedent("""
    import os, sys, warnings
    import numpy as np
    import minnet
    from minnet import kernels as K
    minnet.set_num_threads(2)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 300)).astype(np.float32)
    b = rng.standard_normal((300, 300)).astype(np.float32)
    want = (a.astype(np.float64) @ b.astype(np.float64))

    def work():
        # a GEMM big enough to use both threads, and a conv: kernels that take the pool
        got = K.gemm(a, b)
        x = rng.standard_normal((8, 3, 16, 16)).astype(np.float32)
        w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
        K.conv2d_forward(x, w, padding=1)
        return float(np.abs(got - want).max())

    assert work() < 1e-2
""")


def _run(body):
    return run_python("-c", PRELUDE + textwrap.dedent(body), timeout=TIMEOUT).stdout


def test_bare_fork_child_restarts_the_pool_and_keeps_its_threads():
    out = _run("""
        from minnet._kernels import _runtime
        assert _runtime.pool_workers() == 1
        pid = os.fork()
        if pid == 0:
            fresh = _runtime.pool_workers() == 0           # the parent's worker is not here
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                minnet.set_num_threads(2)                 # no warning: it works
            err = work()
            ok = (fresh and err < 1e-2 and minnet.get_num_threads() == 2
                  and _runtime.pool_workers() == 1)
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status))
        print("parent threads", minnet.get_num_threads(), work() < 1e-2)
    """)
    assert "child 0" in out and "parent threads 2 True" in out


def test_fork_while_another_thread_runs_kernels():
    """The atfork handler takes the pool's submit lock, so a fork never catches a job
    half-published; the child's pool starts clean."""
    out = _run("""
        import threading
        stop = False
        def loop():
            while not stop:
                K.gemm(a, b)
        t = threading.Thread(target=loop)
        t.start()
        codes = []
        for _ in range(5):
            pid = os.fork()
            if pid == 0:
                os._exit(0 if work() < 1e-2 else 3)
            codes.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
        stop = True
        t.join()
        print("children", codes)
    """)
    assert "children [0, 0, 0, 0, 0]" in out


def test_fork_before_any_parallel_kernel_keeps_the_threads():
    code = textwrap.dedent("""
        import os, minnet
        minnet.set_num_threads(2)
        pid = os.fork()
        if pid == 0:
            os._exit(0 if minnet.get_num_threads() == 2 else 3)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
    """)
    p = run_python("-c", code, timeout=TIMEOUT)
    assert p.stdout.strip() == "0", p.stderr


def test_multiprocessing_fork_pool():
    out = _run("""
        import multiprocessing as mp

        def task(i):
            return work(), minnet.get_num_threads()

        with mp.get_context("fork").Pool(2) as pool:
            res = pool.map(task, range(4), chunksize=1)
        print("results", all(e < 1e-2 for e, _ in res), sorted({n for _, n in res}))
    """)
    assert "results True [2]" in out


def test_spawned_children_keep_their_threads():
    out = _run("""
        import multiprocessing as mp
        if __name__ == "__main__":
            with mp.get_context("forkserver").Pool(1) as pool:
                print("threads", pool.apply(minnet.get_num_threads))
    """)
    # a fresh interpreter: minnet's default (the cores it may use)
    import os

    assert f"threads {len(os.sched_getaffinity(0))}" in out


def test_dataloader_workers_after_parallel_kernels():
    out = _run("""
        from minnet.utils.data import DataLoader, Dataset

        class Items(Dataset):
            def __len__(self):
                return 12

            def __getitem__(self, i):
                return np.float32(work()), i

        loader = DataLoader(Items(), batch_size=3, num_workers=2, timeout=60)
        errs, idx = [], []
        for e, i in loader:
            errs += list(e.numpy()); idx += list(i.numpy())
        print("loader", max(errs) < 1e-2, sorted(idx) == list(range(12)))
    """)
    assert "loader True True" in out
