"""minnet.vision: a torchvision stand-in for the course datasets and transforms.

``import minnet.vision as torchvision`` or ``from minnet.vision import datasets, transforms``
ports torchvision-style code: ``datasets.MNIST/FashionMNIST/KMNIST/CIFAR10`` read local files
(:mod:`minnet.vision.datasets` says where), ``transforms`` has Compose, ToTensor, Normalize,
Lambda, the flips and crops, Resize and ToPILImage, and ``utils`` has make_grid and
save_image (PNG, no extra dependency).

What differs from torchvision: an untransformed image is a uint8 NumPy array, not a PIL
Image; random transforms draw from minnet's generator; and a composition of standard
transforms runs on whole batches inside a ``minnet.data.DataLoader`` (same results, much
faster: see :mod:`minnet.vision.transforms`).
"""

from minnet.vision import datasets, transforms, utils

__all__ = ["datasets", "transforms", "utils"]
