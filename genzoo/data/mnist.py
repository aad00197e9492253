"""MNIST (LeCun et al. 1998) from its four IDX files, and Stacked MNIST (VEEGAN / PacGAN's 1,000
modes), as uint8 images.

Where (:mod:`genzoo.data.places`): the folder ``data_dir=`` names, alone (the files in its
``MNIST/raw/``, its ``mnist/`` or directly in it); else the folder ``$GENZOO_DATA`` names, alone,
or genzoo's cache, in their ``MNIST/raw/`` (torchvision's layout) or ``mnist/`` only -- MNIST's
files have Fashion-MNIST's names, and a flat ``$GENZOO_DATA`` folder means Fashion-MNIST, so MNIST is
never read from there; else torchvision's download into genzoo's cache. The files are read with
Fashion-MNIST's strict IDX reader (:mod:`genzoo.data.idx`), of any number of items (the images'
and labels' counts agreeing), plain or ``.gz``.
"""

from __future__ import annotations

from pathlib import Path

from ..limits import check_seed
from ._api import IMAGE_METRICS, DatasetInfo, register_dataset
from .dataset import Dataset
from .idx import IdxSet, load_idx
from .places import Layout
from .stacked import STACKED_METRICS, STACKED_NAMES, stack_channels
from .toy import check_size

DIGITS = tuple(str(d) for d in range(10))
_ANNOUNCED: set = set()          # (how, folder) already announced by this process


def _fetch(root: Path, split: str) -> None:
    from torchvision.datasets import MNIST

    MNIST(str(root), train=split == "train", download=True)


MNIST_FILES = IdxSet(
    "MNIST", Layout(("MNIST/raw", "mnist"), flat=False),
    fix="replace it (the four files of https://yann.lecun.com/exdb/mnist/, or torchvision's MNIST download) "
        "or point GENZOO_DATA (or data_dir=) elsewhere",
    how_to_get=("Put the four MNIST idx files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) in the MNIST/raw/ (or mnist/) folder of a "
                "folder and set GENZOO_DATA to that folder, or pass data_dir= (the files may lie directly in it); "
                "where the network allows, genzoo downloads them with torchvision."),
    fetch=_fetch)


@register_dataset(DatasetInfo(
    name="mnist", kind="image", shape=(1, 28, 28), num_classes=10, class_names=DIGITS,
    title="MNIST",
    description="MNIST (LeCun et al. 1998): 60,000 + 10,000 grayscale 28x28 handwritten digits, 10 classes",
    modes=10, mode_count="classes", evaluator="mnist", metrics=IMAGE_METRICS, n_samples=10_000,
    options=("data_dir", "download"), claims=("images",), literature="lucic-mnist"))
def load_mnist(split: str = "train", data_dir=None, download: bool = True) -> Dataset:
    """MNIST as uint8 images ``(N, 1, 28, 28)`` (0..255; :func:`genzoo.data.as_float` converts a
    batch) and digit labels; ``download=False`` never touches the network. ``meta["source"]`` says
    where it was read (``how``, ``folder``, ``files``)."""
    images, labels, source = load_idx(MNIST_FILES, split, data_dir, download, seen=_ANNOUNCED)
    return Dataset("mnist", images.unsqueeze(1), labels.long(), 10, DIGITS, split,   # x: (N, 1, 28, 28) uint8
                   meta={"source": source})


@register_dataset(DatasetInfo(
    name="stacked-mnist", kind="image", shape=(3, 28, 28), num_classes=1000, class_names=STACKED_NAMES,
    title="Stacked MNIST",
    description="three random MNIST digits as the channels of one item: 1,000 modes (VEEGAN / PacGAN's Stacked MNIST)",
    modes=1000, mode_count="stacked", evaluator="mnist", metrics=STACKED_METRICS, n_samples=26_000,
    options=("data_dir", "n", "seed", "download"), claims=("modes",), literature="stacked-mnist"))
def load_stacked_mnist(split: str = "train", data_dir=None, n: int | None = None, seed: int = 0,
                       download: bool = True) -> Dataset:
    """Each item stacks three independent random MNIST digits as its channels (uint8
    ``(n, 3, 28, 28)``): 1,000 modes, label ``100*a + 10*b + c`` (:func:`stack_channels`); ``n``
    items (default: as many as the split holds) drawn with ``seed`` (the test split with ``seed + 1``)."""
    n = None if n is None else check_size(n)
    seed = check_seed(seed)
    return stack_channels(load_mnist(split, data_dir, download), "stacked-mnist", n, seed)
