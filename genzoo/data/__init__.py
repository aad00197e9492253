"""Datasets: ``genzoo.data.load(name, split)`` returns a :class:`Dataset` held in memory."""

from __future__ import annotations

from .dataset import Dataset
from .fashion import CLASS_NAMES, DataNotFoundError, load_fashion_mnist, load_stacked_fashion_mnist, search_dirs
from .toy import load_mixture, load_pattern

_LOADERS = {
    "fashion-mnist": load_fashion_mnist,
    "stacked-fashion-mnist": load_stacked_fashion_mnist,
    "ring": lambda split="train", **kw: load_mixture("ring", split, **kw),
    "grid": lambda split="train", **kw: load_mixture("grid", split, **kw),
    "pattern-1010": load_pattern,
}


def list_datasets() -> list[str]:
    return list(_LOADERS)


def load(name: str, split: str = "train", **options) -> Dataset:
    """Load a dataset by name. ``split`` is ``"train"`` or ``"test"``.

    Options: ``data_dir`` (Fashion-MNIST folder), ``n`` and ``seed`` (stacked, 2-D mixtures, pattern-1010).
    """
    if name not in _LOADERS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {list_datasets()}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return _LOADERS[name](split=split, **options)


__all__ = ["Dataset", "DataNotFoundError", "CLASS_NAMES", "load", "list_datasets", "search_dirs"]
