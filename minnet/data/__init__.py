"""minnet.data: datasets and the DataLoader (PyTorch's ``torch.utils.data`` names)."""
from minnet.data.dataloader import DataLoader, default_collate
from minnet.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "DataLoader",
           "default_collate", "random_split"]
