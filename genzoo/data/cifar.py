"""CIFAR-10 (Krizhevsky 2009) from ``cifar-10-batches-py/``, its owners' "python version", as uint8
images (N, 3, 32, 32).

The folder holds ``data_batch_1`` .. ``data_batch_5`` (the 50,000 training images), ``test_batch``
(10,000) and ``batches.meta``: Python 2 pickles of dicts, ``b"data"`` a (N, 3072) uint8 numpy array
(each row the 1,024 red, then green, then blue values of a 32x32 image, row-major) and
``b"labels"`` a list of N ints in 0..9; ``batches.meta`` holds ``b"label_names"``. A pickle can run
any code while it loads, so genzoo reads them with :class:`RestrictedUnpickler`, which builds only
what these files hold (numpy arrays and dtypes, dicts, lists, bytes, str, int) and refuses any other
reference with a one-line :class:`~genzoo.errors.DataError`.

torchvision's ``CIFAR10`` class checks each file's md5 sum against the real set's (so it refuses the
small files in the real format that the tests write) and unpickles with the unrestricted
``pickle.load``: genzoo reads the files itself and uses torchvision only to download them.

Where (:mod:`genzoo.data.places`): ``data_dir=`` alone, else ``$GENZOO_DATA`` alone, else genzoo's
cache, each in ``cifar-10-batches-py/`` (torchvision's layout) or with the files directly in it;
else torchvision's download into genzoo's cache.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from ._api import IMAGE_METRICS, DatasetInfo, register_dataset
from .dataset import Dataset
from .places import BadFile, DataFiles, Layout, Place, find, places

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
BATCHES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
META = "batches.meta"
_FIX = ("replace it (the CIFAR-10 python version: https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz, "
        "unpacked) or point GENZOO_DATA (or data_dir=) elsewhere")
_HOW = ("Download and unpack https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz (the python version) and set "
        "GENZOO_DATA (or pass data_dir=) to the folder holding its cifar-10-batches-py/; where the network allows, "
        "genzoo downloads it with torchvision.")
_ANNOUNCED: set = set()          # (how, folder) already announced by this process


def _numpy_allowed() -> dict:
    """The only globals a CIFAR-10 pickle refers to: numpy's array reconstruction (under its
    numpy 1 and numpy 2 module names), ``numpy.ndarray`` and ``numpy.dtype``."""
    import numpy as np

    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    return {("numpy.core.multiarray", "_reconstruct"): _reconstruct,
            ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
            ("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}


class RefusedPickle(pickle.UnpicklingError):
    """A pickle referring to something a CIFAR-10 batch never holds (and might run code)."""


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only numpy's array reconstruction, ``numpy.ndarray`` and
    ``numpy.dtype``; dicts, lists, bytes, str and ints need no lookup. Any other global (a
    function a malicious file would call, such as ``os.system``) raises :class:`RefusedPickle`
    before anything runs; persistent ids are refused too (the base class has no loader for them)."""

    def __init__(self, file):
        super().__init__(file, encoding="bytes")   # Python 2 strs as bytes: the keys are b"data", ...
        self._allowed = _numpy_allowed()

    def find_class(self, module: str, name: str):
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise RefusedPickle(f"{module}.{name}") from None


def read_pickle(path: Path) -> dict:
    """One CIFAR-10 pickle as a dict with str keys (:class:`RestrictedUnpickler`); a file that is
    not one raises :class:`~genzoo.data.places.BadFile` naming it."""
    try:
        with open(path, "rb") as f:
            obj = RestrictedUnpickler(f).load()
    except RefusedPickle as exc:
        raise BadFile(path, f"is not a CIFAR-10 python batch: it refers to {exc}, which genzoo refuses to load "
                            f"(it unpickles only numpy arrays, dicts, lists, bytes, str and int)", _FIX) from None
    except OSError as exc:
        raise BadFile(path, f"cannot be read ({exc.strerror or exc})", _FIX) from None
    except Exception as exc:  # a truncated or garbled pickle raises any of a dozen types
        raise BadFile(path, f"is truncated or corrupt ({type(exc).__name__}: {' '.join(str(exc).split())})",
                      _FIX) from None
    if not isinstance(obj, dict):
        raise BadFile(path, f"holds a {type(obj).__name__}, expected a dict", _FIX)
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _text(v) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def read_batch(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 3, 32, 32) uint8 and labels (N,) int64 of one batch file, checked: ``data`` a
    (N, 3072) uint8 array, ``labels`` N ints in 0..9."""
    import numpy as np

    d = read_pickle(path)
    data, labels = d.get("data"), d.get("labels")
    if data is None or labels is None:
        raise BadFile(path, f"has no {'data' if data is None else 'labels'} entry (keys: {sorted(d)})", _FIX)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        what = (f"a {data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray)
                else f"a {type(data).__name__}")
        raise BadFile(path, f"holds {what} as data, expected a (N, 3072) uint8 array", _FIX)
    try:
        y = torch.as_tensor(np.asarray(labels, dtype=np.int64).reshape(-1))
    except (TypeError, ValueError):
        raise BadFile(path, "holds labels that are not integers", _FIX) from None
    if len(y) != len(data):
        raise BadFile(path, f"holds {len(y)} labels for {len(data)} images", _FIX)
    if len(y) and not (0 <= int(y.min()) and int(y.max()) <= 9):
        at = int(((y < 0) | (y > 9)).nonzero()[0, 0])
        raise BadFile(path, f"holds label {int(y[at])} at item {at}, expected 0..9", _FIX)
    x = torch.from_numpy(np.ascontiguousarray(data)).view(len(data), 3, 32, 32)   # (N, 3, 32, 32): R, G, B planes
    return x, y


def read_names(path: Path) -> tuple[str, ...]:
    """The 10 class names of ``batches.meta`` (``label_names``)."""
    names = read_pickle(path).get("label_names")
    if not isinstance(names, list) or len(names) != 10 or not all(isinstance(n, (bytes, str)) for n in names):
        raise BadFile(path, f"holds label_names {names!r:.80}, expected a list of 10 names", _FIX)
    return tuple(_text(n) for n in names)


def _holds(folder: Path, split: str) -> bool:
    return all((folder / f).is_file() for f in (*BATCHES[split], META))


def _wanted(split: str) -> str:
    files = BATCHES[split]
    return (f"{files[0]} .. {files[-1]}" if len(files) > 1 else files[0]) + f" and {META}"


def _fetch(root: Path, split: str) -> None:
    from torchvision.datasets import CIFAR10

    CIFAR10(str(root), train=split == "train", download=True)


CIFAR_FILES = DataFiles("CIFAR-10", Layout(("cifar-10-batches-py",), flat=True), tuple(BATCHES), _holds, _wanted,
                        _HOW, _fetch)


@register_dataset(DatasetInfo(
    name="cifar10", kind="image", shape=(3, 32, 32), num_classes=10, class_names=CLASS_NAMES,
    title="CIFAR-10",
    description="CIFAR-10 (Krizhevsky 2009): 50,000 + 10,000 colour 32x32 images, 10 classes",
    modes=10, mode_count="classes", evaluator="cifar10", metrics=IMAGE_METRICS, n_samples=10_000,
    options=("data_dir", "download"), claims=("images",), literature="lucic-cifar10"))
def load_cifar10(split: str = "train", data_dir=None, download: bool = True) -> Dataset:
    """CIFAR-10 as uint8 images ``(N, 3, 32, 32)`` (0..255; :func:`genzoo.data.as_float` converts
    a batch), labels 0..9 and the class names of ``batches.meta``; ``download=False`` never
    touches the network. ``meta["source"]`` says where it was read (``how``, ``folder``, ``files``)."""

    def read(folder: Path, place: Place):
        files = [folder / f for f in BATCHES[split]]
        names = read_names(folder / META)
        parts = [read_batch(f) for f in files]
        x = torch.cat([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        y = torch.cat([p[1] for p in parts])
        return (x, y, names), [*files, folder / META]

    (x, y, names), source = find(CIFAR_FILES, split, places(data_dir), read, download=download, seen=_ANNOUNCED)
    return Dataset("cifar10", x, y, 10, names, split, meta={"source": source})
