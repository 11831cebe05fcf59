"""minnet.data: datasets, samplers and the DataLoader (PyTorch's ``torch.utils.data`` names;
also importable as ``minnet.utils.data``)."""

from minnet.data._worker import WorkerInfo, get_worker_info
from minnet.data.dataloader import DataLoader, default_collate, default_convert
from minnet.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from minnet.data.distributed import DistributedSampler
from minnet.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "Dataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "DataLoader",
    "default_collate",
    "default_convert",
    "random_split",
    "get_worker_info",
    "WorkerInfo",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
    "DistributedSampler",
]
