"""Fashion-MNIST read straight from its idx files where they already lie (torchvision's download
only as the last resort), and its stacked variant.

Where: the folder the user names (``data_dir=``, else ``$GENZOO_DATA``) and only it (without the
split's files there it is an error saying what is missing and where, never a silent fall back to
another copy); when none is named, genzoo's cache, then Debian's ``dataset-fashion-mnist``, then
torchvision's download, the one used announced in one line (once per process and source). Each
dataset's ``meta["source"]`` says which files were read and how their folder was found.
"""

from __future__ import annotations

import gzip
import logging
import math
import os
import re
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import torch

from .._io import pid_alive
from ..errors import DataError
from ..limits import check_seed
from ._api import DatasetInfo, register_dataset
from .dataset import Dataset
from .toy import check_size

CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_SPLIT = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60_000),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10_000)}
_MAGIC_IMAGES, _MAGIC_LABELS = 0x00000803, 0x00000801
_FIX = ("replace it (apt-get install --reinstall dataset-fashion-mnist) "
        "or point GENZOO_DATA (or data_dir=) elsewhere")
_OLD_TMP = re.compile(r"^(?:%s)\.tmp(\d+)$" % "|".join(_FILES))  # unpack leftovers of older genzoo


class DataNotFoundError(FileNotFoundError, DataError):
    """The data is in none of the places genzoo looks, and could not be downloaded."""


class _BadFile(DataError):
    """An idx file that fails validation; ``path`` is the file."""

    def __init__(self, path: Path, why: str):
        self.path, self.why = path, why
        super().__init__(f"{path} {why}: {_FIX}")


def cache_root() -> Path:
    """genzoo's own data folder: torchvision's ``root`` for downloads."""
    return Path(os.environ.get("GENZOO_CACHE", Path.home() / ".cache" / "genzoo"))


_HOW_DATA_DIR, _HOW_ENV = "data_dir", "GENZOO_DATA"
_HOW_CACHE, _HOW_DEBIAN, _HOW_DOWNLOAD = "genzoo cache", "Debian package", "torchvision download"
_log = logging.getLogger("genzoo.data")
_ANNOUNCED: set = set()          # (how, folder) already announced by this process


@dataclass(frozen=True)
class _Place:
    """A folder searched for Fashion-MNIST: how it was found, and whether it is genzoo's own cache
    (a bad file there is removed, and the search goes on)."""

    folder: Path
    how: str

    @property
    def own(self) -> bool:
        return self.how == _HOW_CACHE

    @property
    def named(self) -> bool:
        """Named by the user (``data_dir=`` or ``GENZOO_DATA``): the data must be there."""
        return self.how in (_HOW_DATA_DIR, _HOW_ENV)


def _places(data_dir) -> list[_Place]:
    """The folders searched, in order: the one the user named (``data_dir=``, else
    ``GENZOO_DATA``), alone; else genzoo's cache, then Debian's package."""
    if data_dir is not None:
        return [_Place(Path(data_dir), _HOW_DATA_DIR)]
    if os.environ.get("GENZOO_DATA"):
        return [_Place(Path(os.environ["GENZOO_DATA"]), _HOW_ENV)]
    return [_Place(cache_root(), _HOW_CACHE), _Place(DEBIAN_DIR, _HOW_DEBIAN)]


def search_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Every folder searched for Fashion-MNIST, in order."""
    return [p.folder for p in _places(data_dir)]


def _split_files_in(folder: Path, split: str) -> list[list[Path]] | None:
    """For the split's images and labels files, the existing candidates (the plain idx file first,
    then the ``.gz``) in ``folder``, in torchvision's ``<root>/FashionMNIST/raw`` layout or the flat
    one (Debian's); None if neither layout holds both files of the split."""
    for cand in (folder / "FashionMNIST" / "raw", folder):
        found = [[p for p in (cand / f, cand / f"{f}.gz") if p.is_file()] for f in _SPLIT[split][:2]]
        if all(found):
            return found
    return None


def _read_exact(f, buf, path: Path) -> None:
    view, got = memoryview(buf), 0
    while got < len(buf):
        n = f.readinto(view[got:])
        if not n:
            raise _BadFile(path, f"is truncated ({got} bytes of data after the header, expected {len(buf)})")
        got += n


def _read_idx(path: Path, magic: int, count: int, item_shape: tuple[int, ...]) -> torch.Tensor:
    """A strict reader of one idx file (plain or ``.gz``) of unsigned bytes: the magic number, the
    big-endian dims ``(count, *item_shape)``, then exactly that many bytes (labels: each in 0..9).
    A uint8 tensor; anything else raises :class:`_BadFile`."""
    kind = "images" if magic == _MAGIC_IMAGES else "labels"
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
            head = f.read(4 * (1 + 1 + len(item_shape)))
            if len(head) < 4:
                raise _BadFile(path, f"is truncated ({len(head)} bytes)")
            got_magic = int.from_bytes(head[:4], "big")
            if got_magic != magic:
                raise _BadFile(path, f"is not a Fashion-MNIST {kind} idx file "
                                     f"(magic number 0x{got_magic:08x}, expected 0x{magic:08x})")
            if len(head) < 4 * (2 + len(item_shape)):
                raise _BadFile(path, f"is truncated ({len(head)} bytes)")
            dims = tuple(int.from_bytes(head[i:i + 4], "big") for i in range(4, len(head), 4))
            if dims[1:] != item_shape:
                raise _BadFile(path, f"holds {kind} of shape {dims[1:]}, expected {item_shape}")
            if dims[0] != count:
                raise _BadFile(path, f"holds {dims[0]} {kind}, expected {count}")
            buf = bytearray(count * math.prod(item_shape))
            _read_exact(f, buf, path)
            extra = len(f.read(1 << 20))
            if extra:
                raise _BadFile(path, f"has {extra}{'+' if extra == 1 << 20 else ''} bytes after its "
                                     f"{count} {kind}")
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _BadFile(path, f"is truncated or corrupt ({exc})") from None
    except _BadFile:
        raise
    except OSError as exc:
        raise _BadFile(path, f"cannot be read ({exc.strerror or exc})") from None
    data = torch.frombuffer(buf, dtype=torch.uint8).view(count, *item_shape)
    if magic == _MAGIC_LABELS and count and int(data.max()) > 9:
        bad = int((data > 9).nonzero()[0, 0])
        raise _BadFile(path, f"holds label {int(data[bad])} at item {bad}, expected 0..9")
    return data


def _read_split(files: list[list[Path]], split: str, own: bool) -> tuple[torch.Tensor, torch.Tensor, list[Path]]:
    """Images (N, 28, 28) and labels (N,) as uint8 from the first valid candidate of each file,
    and the two files read. Outside genzoo's cache (``own`` False) the first candidate is read and
    a bad file raises; in the cache a bad file is deleted with a warning and the next candidate
    tried (none left: :class:`_BadFile`, with the file already removed)."""
    count = _SPLIT[split][2]
    out, read = [], []
    for cands, magic, shape in zip(files, (_MAGIC_IMAGES, _MAGIC_LABELS), ((28, 28), ())):
        for i, path in enumerate(cands if own else cands[:1]):
            try:
                out.append(_read_idx(path, magic, count, shape))
                read.append(path)
                break
            except _BadFile as err:
                if not own:
                    raise
                _remove_from_cache(path, err.why)
                if i == len(cands) - 1:
                    raise
    images, labels = out
    if len(images) != len(labels):  # cannot happen once both counts are checked; a guard
        raise _BadFile(files[1][0], f"holds {len(labels)} labels for {len(images)} images")
    return images, labels, read


def _remove_from_cache(path: Path, why: str) -> None:
    try:
        path.unlink(missing_ok=True)
        warnings.warn(f"removed {path} from genzoo's cache: it {why}", stacklevel=2)
    except OSError as exc:
        warnings.warn(f"{path} in genzoo's cache {why}, and could not be removed ({exc}); skipping it",
                      stacklevel=2)


def _sweep_old_tmp(folder: Path) -> None:
    """Remove the ``<file>.tmp<pid>`` files that older genzoo versions' failed unpacks left."""
    for sub in (folder / "FashionMNIST" / "raw", folder):
        if not sub.is_dir():
            continue
        for p in sub.glob("*.tmp*"):
            m = _OLD_TMP.match(p.name)
            if m and not pid_alive(int(m.group(1))):
                p.unlink(missing_ok=True)


def _not_there(place: _Place, split: str) -> str:
    """Why a folder the user named holds no ``split``: what is missing, and where it was looked for."""
    folder = place.folder
    images, labels = _SPLIT[split][:2]
    other = "test" if split == "train" else "train"
    if not folder.is_dir():
        state = f"{folder} is not a folder; "
    elif _split_files_in(folder, other) is not None:
        state = f"it holds the {other} files only; "
    else:
        state = ""
    return (f"{place.how}={folder}: no Fashion-MNIST {split} files there ({state}looked for {images}[.gz] and "
            f"{labels}[.gz] in {folder} and {folder / 'FashionMNIST' / 'raw'})")


def _source(how: str, folder: Path, files: list[Path]) -> dict:
    """A dataset's ``meta["source"]``: how its folder was found and the files read."""
    return {"how": how, "folder": str(folder), "files": [str(f) for f in files]}


_SAID = {_HOW_CACHE: "genzoo's cache", _HOW_DEBIAN: "Debian's dataset-fashion-mnist package",
         _HOW_DOWNLOAD: "torchvision's download into genzoo's cache"}


def _announce(source: dict) -> None:
    """One line, once per process and source, when the data comes from a place nobody named."""
    key = (source["how"], source["folder"])
    if source["how"] not in _SAID or key in _ANNOUNCED:
        return
    _ANNOUNCED.add(key)
    _log.warning("Fashion-MNIST is read from %s, %s (no GENZOO_DATA or data_dir= given)",
                 _SAID[source["how"]], source["folder"])


def _find_fashion(split: str, data_dir=None, download: bool = True) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Images (N, 28, 28) and labels (N,) as uint8 of the split, and where they were read
    (:func:`_source`). A folder the user named (``data_dir=``, else ``GENZOO_DATA``) is the only
    place looked at: without both idx files of the split (plain or ``.gz``) there, a
    :class:`DataNotFoundError` says what is missing and where. Otherwise genzoo's cache, then
    Debian's folder, then torchvision's download into the cache (the source used is announced
    once, :func:`_announce`). Files are read where they lie and checked strictly: a bad file
    outside genzoo's cache raises :class:`~genzoo.errors.DataError` naming it; a bad file in the
    cache is removed (with a warning) and the search goes on."""
    looked = _places(data_dir)
    for place in looked:
        if place.own:
            _sweep_old_tmp(place.folder)
        files = _split_files_in(place.folder, split)
        if files is None:
            if place.named:
                raise DataNotFoundError(_not_there(place, split))
            continue
        try:
            images, labels, read = _read_split(files, split, place.own)
        except _BadFile:
            if not place.own:
                raise
            continue
        return images, labels, _source(place.how, place.folder, read)
    return _download(split, [p.folder for p in looked], download)


def _download(split: str, looked: list[Path], download: bool) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """The split from torchvision's download into genzoo's cache: the last resort."""
    places = "; ".join(str(p) for p in looked)
    how = ("Install it with `apt-get install dataset-fashion-mnist`, or put the four idx .gz files "
           "in a folder and set GENZOO_DATA to it (or pass data_dir=).")
    if not download:
        raise DataNotFoundError(f"Fashion-MNIST not found (looked in: {places}). {how}")
    try:  # none has it: torchvision's own download, into genzoo's cache
        from torchvision.datasets import FashionMNIST

        FashionMNIST(str(cache_root()), train=split == "train", download=True)
    except Exception as exc:  # offline, or the mirror is down
        raise DataNotFoundError(f"Fashion-MNIST not found (looked in: {places}) and the download failed "
                                f"({type(exc).__name__}: {' '.join(str(exc).split())}). {how}") from None
    raw = cache_root() / "FashionMNIST" / "raw"
    files = _split_files_in(cache_root(), split)
    if files is None:
        raise DataNotFoundError(f"torchvision's download did not leave the Fashion-MNIST {split} files "
                                f"in {raw}. {how}")
    images, labels, read = _read_split(files, split, own=True)  # a bad download is removed, and raises
    return images, labels, _source(_HOW_DOWNLOAD, raw, read)


# the metrics genzoo.metrics.score computes for a 1-channel image set by default
IMAGE_METRICS = ("fid", "kid", "is", "precision", "recall", "density", "coverage", "classes_covered", "mode_kl",
                 "low_confidence", "class_frac", "sharpness", "fid_inception", "kid_inception", "is_inception")


@register_dataset(DatasetInfo(
    name="fashion-mnist", kind="image", shape=(1, 28, 28), num_classes=10, class_names=CLASS_NAMES,
    description="Fashion-MNIST (Xiao et al. 2017): 60,000 + 10,000 grayscale 28x28 garments, 10 classes",
    modes=10, mode_count="classes", evaluator="fashion-mnist", metrics=IMAGE_METRICS, n_samples=10_000,
    options=("data_dir", "download"), claims=("images",), literature="lucic-fashion"))
def load_fashion_mnist(split: str = "train", data_dir=None, download: bool = True) -> Dataset:
    """Fashion-MNIST as (N, 1, 28, 28) floats in [0, 1]; ``download=False`` never touches the network.
    Where it is looked for, and how bad files are handled: :func:`_find_fashion`; where it was
    read is ``meta["source"]`` (``how``: data_dir, GENZOO_DATA, genzoo cache, Debian package or
    torchvision download; ``folder``; ``files``)."""
    images, labels, source = _find_fashion(split, data_dir, download)
    _announce(source)
    x = images.unsqueeze(1).float().div_(255.0)  # (N, 1, 28, 28) in [0, 1]
    return Dataset("fashion-mnist", x, labels.long(), 10, CLASS_NAMES, split, meta={"source": source})


@register_dataset(DatasetInfo(
    name="stacked-fashion-mnist", kind="image", shape=(3, 28, 28), num_classes=1000,
    class_names=tuple(f"{a}|{b}|{c}" for a in range(10) for b in range(10) for c in range(10)),
    description="three random Fashion-MNIST images as the channels of one item: 1,000 modes (Stacked MNIST's protocol)",
    modes=1000, mode_count="stacked", evaluator="fashion-mnist",
    metrics=("modes_covered", "mode_kl", "fid", "kid", "sharpness"), n_samples=26_000,
    options=("data_dir", "n", "seed", "download"), claims=("modes",), literature="stacked"))
def load_stacked_fashion_mnist(split: str = "train", data_dir=None, n: int | None = None,
                               seed: int = 0, download: bool = True) -> Dataset:
    """Each item stacks three independent random Fashion-MNIST images as its channels:
    1000 modes, label ``100*c0 + 10*c1 + c2`` (Stacked-MNIST of VEEGAN / PacGAN)."""
    n = None if n is None else check_size(n)
    seed = check_seed(seed)
    base = load_fashion_mnist(split, data_dir, download)
    n = len(base) if n is None else n
    g = torch.Generator().manual_seed(seed + (0 if split == "train" else 1))
    idx = torch.randint(len(base), (n, 3), generator=g)                  # (n, 3)
    x = base.x[idx.flatten(), 0].view(n, 3, *base.shape[1:])           # (n, 3, 28, 28)
    yc = base.y[idx]                                                   # (n, 3)
    y = 100 * yc[:, 0] + 10 * yc[:, 1] + yc[:, 2]
    names = tuple(f"{a}|{b}|{c}" for a in range(10) for b in range(10) for c in range(10))
    return Dataset("stacked-fashion-mnist", x.contiguous(), y, 1000, names, split,
                   meta={"channel_classes": 10,
                         "source": {**base.meta["source"], "stacked": {"n": n, "seed": seed}}})
