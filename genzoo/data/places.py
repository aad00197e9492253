"""Where a dataset's files are found: one search every file-backed dataset uses.

The places, in order:

1. the folder the user names with ``data_dir=``, and only it;
2. else the folder ``$GENZOO_DATA`` names, and only it;
3. else genzoo's cache (:func:`cache_root`, ``$GENZOO_CACHE`` or ``~/.cache/genzoo``), then any
   place a dataset adds (Debian's ``dataset-fashion-mnist`` folder for Fashion-MNIST);
4. else torchvision's download into genzoo's cache, where the dataset has one and the machine can.

A named place (1, 2) lacking the split's files is an error saying what is missing and where, never
a silent fall back to another copy. Below each place a dataset's files may lie in torchvision's
layout (``<place>/MNIST/raw/``, ``<place>/FashionMNIST/raw/``, ``<place>/cifar-10-batches-py/``,
``<place>/celeba/``) or directly in it (the flat layout): :class:`Layout`. MNIST and Fashion-MNIST
use the same file names, so a dataset may accept the flat layout only in the folder ``data_dir=``
names (MNIST does: a flat ``$GENZOO_DATA`` folder or cache keeps meaning Fashion-MNIST).

Each dataset's ``meta["source"]`` says where it was read (:func:`source`); a place nobody named is
announced in one line, once per process and folder (:func:`announce`).
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from ..errors import DataError

HOW_DATA_DIR, HOW_ENV = "data_dir", "GENZOO_DATA"
HOW_CACHE, HOW_DEBIAN, HOW_DOWNLOAD = "genzoo cache", "Debian package", "torchvision download"
_SAID = {HOW_CACHE: "genzoo's cache", HOW_DOWNLOAD: "torchvision's download into genzoo's cache"}
_log = logging.getLogger("genzoo.data")


class DataNotFoundError(FileNotFoundError, DataError):
    """The data is in none of the places genzoo looks, and could not be downloaded."""


class BadFile(DataError):
    """A data file that fails validation: ``path`` is the file, ``why`` what is wrong with it, and
    the message ends with ``fix`` (how to replace it)."""

    def __init__(self, path: Path, why: str, fix: str):
        self.path, self.why = Path(path), why
        super().__init__(f"{path} {why}: {fix}")


def cache_root() -> Path:
    """genzoo's own data folder (``$GENZOO_CACHE``, else ``~/.cache/genzoo``): torchvision's
    ``root`` for downloads, and where converted data (CelebA's HDF5 file) and trained evaluators
    are kept."""
    return Path(os.environ.get("GENZOO_CACHE", Path.home() / ".cache" / "genzoo"))


@dataclass(frozen=True)
class Place:
    """A folder searched for a dataset: how it was found (``HOW_*``) and, for a place a dataset
    adds, how the one-line announcement names it (``said``)."""

    folder: Path
    how: str
    said: str = ""

    @property
    def own(self) -> bool:
        """genzoo's own cache: a bad file there is removed, and the search goes on."""
        return self.how in (HOW_CACHE, HOW_DOWNLOAD)

    @property
    def named(self) -> bool:
        """Named by the user (``data_dir=`` or ``GENZOO_DATA``): the data must be there."""
        return self.how in (HOW_DATA_DIR, HOW_ENV)


def places(data_dir: str | os.PathLike | None = None, extra: Sequence[Place] = ()) -> list[Place]:
    """The folders searched, in order: the one the user named (``data_dir=``, else
    ``GENZOO_DATA``), alone; else genzoo's cache, then ``extra``."""
    if data_dir is not None:
        return [Place(Path(data_dir), HOW_DATA_DIR)]
    if os.environ.get("GENZOO_DATA"):
        return [Place(Path(os.environ["GENZOO_DATA"]), HOW_ENV)]
    return [Place(cache_root(), HOW_CACHE), *extra]


@dataclass(frozen=True)
class Layout:
    """Where a dataset's files lie below a searched folder: in one of ``subdirs`` (torchvision's
    layout first, e.g. ``("MNIST/raw", "mnist")``), or directly in it. ``flat`` False accepts the
    flat layout only in the folder ``data_dir=`` names (for MNIST, whose file names are
    Fashion-MNIST's)."""

    subdirs: tuple[str, ...]
    flat: bool = True

    def _flat_in(self, place: Place) -> bool:
        return self.flat or place.how == HOW_DATA_DIR

    def candidates(self, place: Place) -> list[Path]:
        """The folders that may hold the files, in the order they are tried."""
        return [place.folder / s for s in self.subdirs] + ([place.folder] if self._flat_in(place) else [])

    def looked_in(self, place: Place) -> str:
        """The candidate folders in words: ``"A, B and C"`` (the flat one first)."""
        folders = ([place.folder] if self._flat_in(place) else []) + [place.folder / s for s in self.subdirs]
        text = [str(f) for f in folders]
        return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]


@dataclass(frozen=True)
class DataFiles:
    """What the search needs to know about one dataset's files.

    - ``title``: its name in messages (``"MNIST"``); ``layout``: :class:`Layout`.
    - ``splits``: the splits its files hold; ``holds(folder, split)``: whether ``folder`` itself
      (not below it) holds that split's files; ``wanted(split)``: those files in words, for the
      messages (``"train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]"``).
    - ``how_to_get``: one sentence ending a not-found message.
    - ``fetch(root, split)``: torchvision's download of the split into ``root`` (None: none).
    """

    title: str
    layout: Layout
    splits: tuple[str, ...]
    holds: Callable[[Path, str], bool]
    wanted: Callable[[str], str]
    how_to_get: str
    fetch: Callable[[Path, str], None] | None = None

    def locate(self, place: Place, split: str) -> Path | None:
        """The first candidate folder of ``place`` that holds the split's files, or None."""
        return next((f for f in self.layout.candidates(place) if self.holds(f, split)), None)

    def not_there(self, place: Place, split: str) -> str:
        """Why a folder the user named holds no ``split``: what is missing, and where it was looked for."""
        folder = place.folder
        others = [s for s in self.splits if s != split and self.locate(place, s) is not None]
        if not folder.is_dir():
            state = f"{folder} is not a folder; "
        elif others:
            state = f"it holds the {' and '.join(others)} files only; "
        else:
            state = ""
        what = "files" if len({self.wanted(s) for s in self.splits}) == 1 else f"{split} files"  # one set: all splits
        return (f"{place.how}={folder}: no {self.title} {what} there ({state}looked for {self.wanted(split)} "
                f"in {self.layout.looked_in(place)})")


def source(how: str, folder: Path, files: Sequence[Path], **more) -> dict:
    """A dataset's ``meta["source"]``: how its folder was found, the folder, the files read, and
    anything else the loader records (``more``)."""
    return {"how": how, "folder": str(folder), "files": [str(f) for f in files], **more}


def announce(title: str, src: dict, seen: set, said: str = "") -> None:
    """One line, once per process and source (``seen``: the loader's set of those already said),
    when the data comes from a place nobody named."""
    said = said or _SAID.get(src["how"], "")
    key = (src["how"], src["folder"])
    if not said or key in seen:
        return
    seen.add(key)
    _log.warning("%s is read from %s, %s (no GENZOO_DATA or data_dir= given)", title, said, src["folder"])


def discard(path: Path, why: str) -> None:
    """Remove a bad file from genzoo's cache, with a warning saying why (nothing if it is gone)."""
    if not path.exists():
        return
    try:
        path.unlink(missing_ok=True)
        warnings.warn(f"removed {path} from genzoo's cache: it {why}", stacklevel=3)
    except OSError as exc:
        warnings.warn(f"{path} in genzoo's cache {why}, and could not be removed ({exc}); skipping it",
                      stacklevel=3)


Reader = Callable[[Path, Place], "tuple[Any, list[Path]]"]


def find(files: DataFiles, split: str, looked: Sequence[Place], read: Reader, *, download: bool = True,
         seen: set | None = None) -> tuple[Any, dict]:
    """Read ``split`` from the first place of ``looked`` (:func:`places`) that holds it: ``read(folder,
    place)`` returns what it read and the files it read; this returns that and the source
    (:func:`source`), announced when nobody named the place (``seen``: :func:`announce`).

    A named place is the only one: without the split's files there, :class:`DataNotFoundError` says
    what is missing and where; a bad file there (``read`` raises :class:`BadFile`) is the user's,
    reported and left alone. In genzoo's cache a bad file is removed (with a warning) and the search
    goes on. When no place holds it, torchvision's download into genzoo's cache (``download``
    False: never), then a :class:`DataNotFoundError` naming every place looked at and how to get it."""
    for place in looked:
        folder = files.locate(place, split)
        if folder is None:
            if place.named:
                raise DataNotFoundError(files.not_there(place, split))
            continue
        try:
            value, read_files = read(folder, place)
        except BadFile as err:
            if not place.own:
                raise
            discard(err.path, err.why)
            continue
        src = source(place.how, place.folder, read_files)
        if seen is not None:
            announce(files.title, src, seen, place.said)
        return value, src
    value, src = _download(files, split, [p.folder for p in looked], download, read)
    if seen is not None:
        announce(files.title, src, seen)
    return value, src


def _download(files: DataFiles, split: str, looked: list[Path], download: bool, read: Reader) -> tuple[Any, dict]:
    """The split from torchvision's download into genzoo's cache: the last resort."""
    where = "; ".join(str(p) for p in looked)
    if not download or files.fetch is None:
        raise DataNotFoundError(f"{files.title} not found (looked in: {where}). {files.how_to_get}")
    root = cache_root()
    try:  # no place has it: torchvision's own download, into genzoo's cache
        files.fetch(root, split)
    except Exception as exc:  # offline, the mirror is down, or (CelebA) Google Drive's quota
        raise DataNotFoundError(f"{files.title} not found (looked in: {where}) and the download failed "
                                f"({type(exc).__name__}: {' '.join(str(exc).split())}). {files.how_to_get}") from None
    place = Place(root, HOW_DOWNLOAD)
    folder = files.locate(place, split)
    if folder is None:
        raise DataNotFoundError(f"torchvision's download did not leave the {files.title} {split} files in "
                                f"{files.layout.looked_in(place)}. {files.how_to_get}")
    try:
        value, read_files = read(folder, place)
    except BadFile as err:           # a bad download: removed, and reported
        discard(err.path, err.why)
        raise
    return value, source(HOW_DOWNLOAD, folder, read_files)
