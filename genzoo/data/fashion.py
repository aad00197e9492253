"""Fashion-MNIST through torchvision, found offline where it already lies, and its stacked variant."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import torch

from .dataset import Dataset

CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


class DataNotFoundError(FileNotFoundError):
    """The data is in none of the places genzoo looks, and could not be downloaded."""


def cache_root() -> Path:
    """genzoo's own data folder: torchvision's ``root`` for downloads and unpacked copies."""
    return Path(os.environ.get("GENZOO_CACHE", Path.home() / ".cache" / "genzoo"))


def search_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Every folder searched for Fashion-MNIST, in order."""
    dirs = []
    if data_dir is not None:
        dirs.append(Path(data_dir))
    if os.environ.get("GENZOO_DATA"):
        dirs.append(Path(os.environ["GENZOO_DATA"]))
    dirs += [cache_root(), DEBIAN_DIR]
    return dirs


def _raw_files_in(folder: Path) -> Path | None:
    """The folder holding the four idx files (plain or .gz), in either the flat layout (Debian's)
    or torchvision's ``<root>/FashionMNIST/raw`` layout; None if neither is complete."""
    for cand in (folder / "FashionMNIST" / "raw", folder):
        if all((cand / f).is_file() or (cand / f"{f}.gz").is_file() for f in _FILES):
            return cand
    return None


def _as_torchvision_root(raw: Path) -> Path:
    """A torchvision root whose ``FashionMNIST/raw`` holds the unpacked idx files from ``raw``."""
    if raw.name == "raw" and raw.parent.name == "FashionMNIST" and all((raw / f).is_file() for f in _FILES):
        return raw.parent.parent
    root = cache_root()
    dest = root / "FashionMNIST" / "raw"
    dest.mkdir(parents=True, exist_ok=True)
    for f in _FILES:
        if (dest / f).is_file():
            continue
        tmp = dest / f"{f}.tmp{os.getpid()}"
        if (raw / f).is_file():
            shutil.copyfile(raw / f, tmp)
        else:
            with gzip.open(raw / f"{f}.gz", "rb") as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out)
        os.replace(tmp, dest / f)  # atomic: a killed unpack never leaves a truncated file
    return root


def _torchvision_fashion(split: str, data_dir=None, download: bool = True):
    from torchvision.datasets import FashionMNIST

    train = split == "train"
    looked = search_dirs(data_dir)
    for folder in looked:
        raw = _raw_files_in(folder)
        if raw is not None:
            return FashionMNIST(str(_as_torchvision_root(raw)), train=train, download=False)
    places = "; ".join(str(p) for p in looked)
    how = ("Install it with `apt-get install dataset-fashion-mnist`, or put the four idx .gz files "
           "in a folder and set GENZOO_DATA to it (or pass data_dir=).")
    if not download:
        raise DataNotFoundError(f"Fashion-MNIST not found (looked in: {places}). {how}")
    try:  # none has it: torchvision's own download, into genzoo's cache
        return FashionMNIST(str(cache_root()), train=train, download=True)
    except Exception as exc:  # offline, or the mirror is down
        raise DataNotFoundError(f"Fashion-MNIST not found (looked in: {places}) and the download failed "
                                f"({type(exc).__name__}: {exc}). {how}") from None


def load_fashion_mnist(split: str = "train", data_dir=None, download: bool = True) -> Dataset:
    """Fashion-MNIST as (N, 1, 28, 28) floats in [0, 1]; ``download=False`` never touches the network."""
    tv = _torchvision_fashion(split, data_dir, download)
    x = tv.data.unsqueeze(1).float().div_(255.0)  # (N, 1, 28, 28) in [0, 1]
    return Dataset("fashion-mnist", x, tv.targets.long(), 10, CLASS_NAMES, split)


def load_stacked_fashion_mnist(split: str = "train", data_dir=None, n: int | None = None,
                               seed: int = 0, download: bool = True) -> Dataset:
    """Each item stacks three independent random Fashion-MNIST images as its channels:
    1000 modes, label ``100*c0 + 10*c1 + c2`` (Stacked-MNIST of VEEGAN / PacGAN)."""
    base = load_fashion_mnist(split, data_dir, download)
    n = len(base) if n is None else n
    g = torch.Generator().manual_seed(seed + (0 if split == "train" else 1))
    idx = torch.randint(len(base), (n, 3), generator=g)                  # (n, 3)
    x = base.x[idx.flatten(), 0].view(n, 3, *base.shape[1:])           # (n, 3, 28, 28)
    yc = base.y[idx]                                                   # (n, 3)
    y = 100 * yc[:, 0] + 10 * yc[:, 1] + yc[:, 2]
    names = tuple(f"{a}|{b}|{c}" for a in range(10) for b in range(10) for c in range(10))
    return Dataset("stacked-fashion-mnist", x.contiguous(), y, 1000, names, split,
                   meta={"channel_classes": 10})
