"""init() gives each rank its share of the cores it may use, so ranks on one node do not
oversubscribe it: bound to their own cores (mpirun's default for a few ranks) each keeps its
cores; unbound, the ranks of a node split the cores they share; OMP_NUM_THREADS wins."""

import os

import pytest
from tests_helpers_mpi import requires_mpi, run_mpi

pytestmark = requires_mpi

CHILD = r"""
import os
import minnet
import minnet.distributed as dist

dist.init()
report({
    "threads": minnet.get_num_threads(),
    "affinity": len(os.sched_getaffinity(0)),
    "local_rank": dist.get_local_rank(),
    "local_size": dist.get_local_world_size(),
    "rank": dist.get_rank(),
    "size": dist.get_world_size(),
})
"""


def test_unbound_ranks_split_the_cores():
    p = run_mpi(CHILD, n=2, env_extra={"OMP_NUM_THREADS": None}, mpi_args=["--bind-to", "none"])
    for r, res in enumerate(p.results):
        assert (res["rank"], res["size"], res["local_rank"], res["local_size"]) == (r, 2, r, 2)
        assert res["threads"] == max(1, res["affinity"] // 2)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="binding 2 ranks needs 2 cores")
def test_bound_ranks_keep_their_cores_and_omp_num_threads_wins():
    p = run_mpi(CHILD, n=2, env_extra={"OMP_NUM_THREADS": None}, mpi_args=["--bind-to", "core"])
    for res in p.results:
        assert res["threads"] == res["affinity"]
    p = run_mpi(CHILD, n=2, env_extra={"OMP_NUM_THREADS": "3"})
    assert [res["threads"] for res in p.results] == [3, 3]
