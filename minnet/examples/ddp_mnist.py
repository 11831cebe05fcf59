"""The lecture CNN trained data-parallel on several processes (mpirun + DistributedDataParallel).

Start it with MPI's launcher, one process (rank) per core or per machine::

    mpirun -n 2 python -m minnet.examples.ddp_mnist --quick
    minnet run ddp_mnist --ranks 2 --quick        # the same: calls mpirun for you

Every rank runs this same file. ``dist.init()`` finds the rank and the number of ranks;
``DistributedDataParallel`` copies rank 0's weights to all and averages the gradients over
the ranks during the backward pass; ``DistributedSampler`` gives each rank its own share of
the images. The global batch stays 128 (64 per rank on 2 ranks), so the training is the
single-process one of ``minnet.examples.cnn``, split over the ranks. Only rank 0 prints.
Started without mpirun it is a world of one rank and trains alone.
"""

import contextlib
import io
import sys
import time

import numpy as np

import minnet
import minnet.distributed as dist
from minnet import nn
from minnet.examples import _common
from minnet.examples.cnn import lecture_cnn, to_nchw
from minnet.nn.parallel import DistributedDataParallel


def evaluate(model, x, y, rank, world):
    """Test accuracy over every rank: each counts its share (every world-th image), one
    all_reduce adds the counts."""
    model.eval()
    counts = np.zeros(2)
    with minnet.no_grad():
        mine = np.arange(rank, len(y), world)
        for start in range(0, len(mine), 500):
            idx = mine[start : start + 500]
            pred = model(minnet.tensor(x[idx])).argmax(dim=1).numpy()
            counts += [(pred == y[idx]).sum(), len(idx)]
    dist.all_reduce(counts)  # the sums over the ranks
    return float(counts[0] / counts[1])


def run(quick=False, epochs=None, threads=None, seed=0, out_dir=".", verbose=1):
    # %% [markdown]
    # ## Joining the job
    # `dist.init()` reads the rank and world size MPI gave this process and sets minnet's
    # threads to this rank's share of the cores. Only rank 0 prints.
    # %%
    dist.init()
    rank, world = dist.get_rank(), dist.get_world_size()
    _common.setup(threads, seed)
    quiet = contextlib.redirect_stdout(io.StringIO()) if rank else contextlib.nullcontext()
    with quiet:
        print(f"ranks: {world}, threads per rank: {minnet.get_num_threads()}")
        (x_train, y_train), (x_test, y_test), data = _common.image_data(quick, prefer_mnist=True)
    epochs = epochs or (2 if quick else 8)

    # %% [markdown]
    # ## Each rank's share of the data
    # The same `DistributedSampler` on every rank draws the same permutation each epoch
    # (`set_epoch`) and gives rank r every world-th image of it, so the shards are
    # disjoint and all ranks run the same number of batches.
    # %%
    train_set = minnet.data.TensorDataset(to_nchw(x_train), y_train.astype(np.int64))
    sampler = minnet.data.DistributedSampler(train_set, shuffle=True, seed=seed)
    batch = 128 // world  # the global batch stays 128
    loader = minnet.data.DataLoader(train_set, batch_size=batch, sampler=sampler)

    # %% [markdown]
    # ## The model, wrapped
    # `DistributedDataParallel` broadcasts rank 0's weights, then averages every gradient
    # over the ranks while `backward` runs (bucketed allreduces), so `step` sees the
    # gradient of the global batch.
    # %%
    model = DistributedDataParallel(lecture_cnn())
    loss_fn = nn.CrossEntropyLoss()
    optimizer = minnet.optim.Adam(model.parameters(), lr=1e-3)

    # %% [markdown]
    # ## The training loop: PyTorch's, plus `set_epoch`
    # %%
    x_eval, y_eval = to_nchw(x_test), y_test.astype(np.int64)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        model.train()
        start, running, seen = time.perf_counter(), 0.0, 0
        for x, y in loader:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()  # gradients averaged over the ranks here
            optimizer.step()
            running += loss.item() * len(y)
            seen += len(y)
        totals = np.array([running, seen])
        dist.all_reduce(totals)
        test_acc = evaluate(model, x_eval, y_eval, rank, world)
        if verbose and rank == 0:
            print(
                f"epoch {epoch + 1}/{epochs}: train loss {totals[0] / totals[1]:.4f}, "
                f"test accuracy {test_acc:.4f} ({time.perf_counter() - start:.1f} s)",
                flush=True,
            )
    figures = dict(accuracy=test_acc, epochs=epochs, ranks=world, data=data)
    return _common.report("ddp_mnist", **figures) if rank == 0 else figures


main = _common.main_for("ddp_mnist", run)

if __name__ == "__main__":
    sys.exit(main())
