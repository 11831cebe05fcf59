"""minnet.distributed: data-parallel training across processes and machines on MPI
(``torch.distributed``'s names over mpi4py and the system's Open MPI).

Start the processes with MPI's launcher, one per rank::

    mpirun -n 2 python train.py          # (as root: --allow-run-as-root; more ranks than
                                         # cores: --oversubscribe)

and in ``train.py``::

    import minnet.distributed as dist
    from minnet.nn.parallel import DistributedDataParallel as DDP

    dist.init()                          # rank, world size, local rank; threads per rank
    model = DDP(make_model())            # rank 0's parameters on every rank
    sampler = minnet.data.DistributedSampler(train_set)   # a disjoint shard per rank

Importing minnet (and this module) never needs MPI. Calling these functions without mpi4py
raises an ImportError that says what to install: ``pip install "minnet-nn[mpi]"`` after
``apt-get install openmpi-bin libopenmpi-dev`` (mpi4py compiles against the system MPI).

The collectives work in place on a :class:`minnet.Tensor` or a NumPy array, like
``torch.distributed``'s; each first checks, with one small allgather, that every rank passes
the same shape and dtype (a mismatch would otherwise corrupt memory or hang).
"""

from minnet.distributed._comm import (
    ReduceOp,
    Work,
    abort,
    all_gather,
    all_reduce,
    barrier,
    broadcast,
    destroy_process_group,
    get_local_rank,
    get_local_world_size,
    get_rank,
    get_world_size,
    init,
    init_process_group,
    is_available,
    is_initialized,
    threads_per_rank,
)

__all__ = [
    "ReduceOp",
    "Work",
    "abort",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_local_rank",
    "get_local_world_size",
    "get_rank",
    "get_world_size",
    "init",
    "init_process_group",
    "is_available",
    "is_initialized",
    "threads_per_rank",
]
