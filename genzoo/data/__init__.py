"""Datasets: ``genzoo.data.load(name, split)`` returns a :class:`Dataset` held in memory.

Each dataset module registers its loader with a :class:`DatasetInfo` declaring what the rest of
genzoo needs (kind, item shape, classes, modes, evaluator, default metrics and sample count,
splits): ``list_datasets()`` lists them with their shapes, ``dataset_info(name)`` returns one."""

from __future__ import annotations

from ._api import DatasetInfo, dataset_info, find_info, list_datasets, register_dataset
from .dataset import Dataset, as_float
from .celeba import load_celeba64
from .cifar import load_cifar10
from .fashion import CLASS_NAMES, load_fashion_mnist, load_stacked_fashion_mnist, search_dirs
from .folder import load_image_folder
from .mnist import load_mnist, load_stacked_mnist
from .places import DataNotFoundError, cache_root
from .toy import load_mixture, load_pattern


def load(name: str, split: str = "train", **options) -> Dataset:
    """Load a dataset by name. ``split`` is one its declaration lists (``"train"`` or ``"test"``;
    CelebA also ``"valid"``); ``options`` are the keyword options it declares (e.g. ``data_dir``,
    ``n``, ``seed``; ``folder``, ``size`` and ``channels`` for ``image-folder``)."""
    info = dataset_info(name)
    if split not in info.splits:
        raise ValueError(f"split must be {' or '.join(map(repr, info.splits))}, got {split!r}")
    return info.loader(split=split, **options)


__all__ = ["Dataset", "as_float", "DatasetInfo", "DataNotFoundError", "CLASS_NAMES", "cache_root", "dataset_info",
           "find_info", "load", "list_datasets", "register_dataset", "search_dirs"]
