"""Fashion-MNIST read straight from its idx files where they already lie (torchvision's download
only as the last resort), and its stacked variant.

Where: the folder the user names (``data_dir=``, else ``$GENZOO_DATA``) and only it (without the
split's files there it is an error saying what is missing and where, never a silent fall back to
another copy); when none is named, genzoo's cache, then Debian's ``dataset-fashion-mnist``, then
torchvision's download, the one used announced in one line (once per process and source). In each
place the files lie in torchvision's ``FashionMNIST/raw/`` or directly in the folder. Each
dataset's ``meta["source"]`` says which files were read and how their folder was found. The search
is :mod:`genzoo.data.places`'s and the reader :mod:`genzoo.data.idx`'s, shared with MNIST.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..limits import check_seed
from ._api import IMAGE_METRICS, DatasetInfo, register_dataset
from .dataset import Dataset
from .idx import IdxSet, load_idx
from .places import HOW_DEBIAN, DataNotFoundError, Layout, Place, cache_root, places  # noqa: F401 (their old home)
from .stacked import STACKED_METRICS, STACKED_NAMES, stack_channels
from .toy import check_size

CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
_ANNOUNCED: set = set()          # (how, folder) already announced by this process


def _fetch(root: Path, split: str) -> None:
    from torchvision.datasets import FashionMNIST

    FashionMNIST(str(root), train=split == "train", download=True)


FASHION = IdxSet(
    "Fashion-MNIST", Layout(("FashionMNIST/raw",), flat=True),
    fix="replace it (apt-get install --reinstall dataset-fashion-mnist) or point GENZOO_DATA (or data_dir=) elsewhere",
    how_to_get=("Install it with `apt-get install dataset-fashion-mnist`, or put the four idx .gz files "
                "in a folder and set GENZOO_DATA to it (or pass data_dir=)."),
    counts={"train": 60_000, "test": 10_000}, fetch=_fetch)


def _debian() -> list[Place]:
    return [Place(DEBIAN_DIR, HOW_DEBIAN, said="Debian's dataset-fashion-mnist package")]


def search_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Every folder searched for Fashion-MNIST, in order."""
    return [p.folder for p in places(data_dir, _debian())]


@register_dataset(DatasetInfo(
    name="fashion-mnist", kind="image", shape=(1, 28, 28), num_classes=10, class_names=CLASS_NAMES,
    description="Fashion-MNIST (Xiao et al. 2017): 60,000 + 10,000 grayscale 28x28 garments, 10 classes",
    title="Fashion-MNIST",
    modes=10, mode_count="classes", evaluator="fashion-mnist", metrics=IMAGE_METRICS, n_samples=10_000,
    options=("data_dir", "download"), claims=("images",), literature="lucic-fashion"))
def load_fashion_mnist(split: str = "train", data_dir=None, download: bool = True) -> Dataset:
    """Fashion-MNIST as uint8 images ``(N, 1, 28, 28)`` (0..255, as stored: :func:`genzoo.data.as_float`
    converts a batch to floats in [0, 1]); ``download=False`` never touches the network.
    Where it is looked for, and how bad files are handled: :func:`genzoo.data.places.find`; where
    it was read is ``meta["source"]`` (``how``: data_dir, GENZOO_DATA, genzoo cache, Debian package
    or torchvision download; ``folder``; ``files``)."""
    images, labels, source = load_idx(FASHION, split, data_dir, download, extra=_debian(), seen=_ANNOUNCED)
    x = images.unsqueeze(1)                      # (N, 1, 28, 28) uint8, 0..255
    return Dataset("fashion-mnist", x, labels.long(), 10, CLASS_NAMES, split, meta={"source": source})


@register_dataset(DatasetInfo(
    name="stacked-fashion-mnist", kind="image", shape=(3, 28, 28), num_classes=1000, class_names=STACKED_NAMES,
    description="three random Fashion-MNIST images as the channels of one item: 1,000 modes (Stacked MNIST's protocol)",
    title="Stacked Fashion-MNIST",
    modes=1000, mode_count="stacked", evaluator="fashion-mnist", metrics=STACKED_METRICS, n_samples=26_000,
    options=("data_dir", "n", "seed", "download"), claims=("modes",), literature="stacked"))
def load_stacked_fashion_mnist(split: str = "train", data_dir=None, n: int | None = None,
                               seed: int = 0, download: bool = True) -> Dataset:
    """Each item stacks three independent random Fashion-MNIST images as its channels:
    1000 modes, label ``100*c0 + 10*c1 + c2`` (Stacked-MNIST of VEEGAN / PacGAN): :func:`stack_channels`."""
    n = None if n is None else check_size(n)
    seed = check_seed(seed)
    return stack_channels(load_fashion_mnist(split, data_dir, download), "stacked-fashion-mnist", n, seed)

