"""The IDX files of MNIST and Fashion-MNIST (LeCun's format, the same four file names for both),
read strictly: one reader for both datasets, each described by an :class:`IdxSet`.

An IDX file of unsigned bytes is a big-endian header (the magic number ``0x00000803`` for images,
``0x00000801`` for labels, then each dimension as 4 bytes) followed by exactly that many bytes;
genzoo reads them plain or ``.gz``, where they lie (:mod:`genzoo.data.places`).
"""

from __future__ import annotations

import gzip
import math
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch

from .._io import pid_alive
from .places import BadFile, DataFiles, Layout, Place, discard, find, places

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
SPLIT_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
MAGIC_IMAGES, MAGIC_LABELS = 0x00000803, 0x00000801
_OLD_TMP = re.compile(r"^(?:%s)\.tmp(\d+)$" % "|".join(FILES))  # unpack leftovers of older genzoo


@dataclass(frozen=True)
class IdxSet:
    """One dataset stored as the four IDX files.

    - ``title``: its name in messages; ``layout``: where its files lie below a searched folder.
    - ``counts``: the number of items each split must hold (None: any, the images' and labels'
      counts agreeing); ``item_shape``: one image's (28, 28); ``num_classes``: labels are 0..k-1.
    - ``fix``: how to replace a bad file (ends a bad-file message); ``how_to_get``: how to get the
      data (ends a not-found message); ``fetch(root, split)``: torchvision's download.
    """

    title: str
    layout: Layout
    fix: str
    how_to_get: str
    counts: dict[str, int] | None = None
    item_shape: tuple[int, ...] = (28, 28)
    num_classes: int = 10
    fetch: Callable[[Path, str], None] | None = None

    def files(self) -> DataFiles:
        return DataFiles(self.title, self.layout, tuple(SPLIT_FILES), lambda f, s: split_files_in(f, s) is not None,
                         lambda s: " and ".join(f"{f}[.gz]" for f in SPLIT_FILES[s]), self.how_to_get, self.fetch)


def split_files_in(folder: Path, split: str) -> list[list[Path]] | None:
    """For the split's images and labels files, the existing candidates in ``folder`` itself (the
    plain IDX file first, then the ``.gz``); None unless both files of the split are there."""
    found = [[p for p in (folder / f, folder / f"{f}.gz") if p.is_file()] for f in SPLIT_FILES[split]]
    return found if all(found) else None


def _read_exact(f, buf, path: Path, fix: str) -> None:
    view, got = memoryview(buf), 0
    while got < len(buf):
        n = f.readinto(view[got:])
        if not n:
            raise BadFile(path, f"is truncated ({got} bytes of data after the header, expected {len(buf)})", fix)
        got += n


def read_idx(path: Path, magic: int, item_shape: tuple[int, ...], *, count: int | None = None,
             title: str = "IDX", fix: str = "replace it", num_classes: int = 10) -> torch.Tensor:
    """A strict reader of one IDX file (plain or ``.gz``) of unsigned bytes: the magic number, the
    big-endian dims ``(count, *item_shape)`` (``count`` None: any), then exactly that many bytes
    (labels: each in ``0..num_classes-1``). A uint8 tensor ``(count, *item_shape)``; anything else
    raises :class:`~genzoo.data.places.BadFile` naming the file, what is wrong, and ``fix``."""
    kind = "images" if magic == MAGIC_IMAGES else "labels"

    def bad(why: str) -> BadFile:
        return BadFile(path, why, fix)

    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
            head = f.read(4 * (1 + 1 + len(item_shape)))
            if len(head) < 4:
                raise bad(f"is truncated ({len(head)} bytes)")
            got_magic = int.from_bytes(head[:4], "big")
            if got_magic != magic:
                article = "an" if title[:1].upper() in "AEIOU" or title.startswith("MNIST") else "a"
                raise bad(f"is not {article} {title} {kind} idx file "
                          f"(magic number 0x{got_magic:08x}, expected 0x{magic:08x})")
            if len(head) < 4 * (2 + len(item_shape)):
                raise bad(f"is truncated ({len(head)} bytes)")
            dims = tuple(int.from_bytes(head[i:i + 4], "big") for i in range(4, len(head), 4))
            if dims[1:] != item_shape:
                raise bad(f"holds {kind} of shape {dims[1:]}, expected {item_shape}")
            n = dims[0]
            if count is not None and n != count:
                raise bad(f"holds {n} {kind}, expected {count}")
            buf = bytearray(n * math.prod(item_shape))
            _read_exact(f, buf, path, fix)
            extra = len(f.read(1 << 20))
            if extra:
                raise bad(f"has {extra}{'+' if extra == 1 << 20 else ''} bytes after its {n} {kind}")
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise bad(f"is truncated or corrupt ({exc})") from None
    except BadFile:
        raise
    except OSError as exc:
        raise bad(f"cannot be read ({exc.strerror or exc})") from None
    data = torch.frombuffer(buf, dtype=torch.uint8).view(n, *item_shape) if buf else torch.zeros(
        0, *item_shape, dtype=torch.uint8)
    if magic == MAGIC_LABELS and n and int(data.max()) >= num_classes:
        at = int((data >= num_classes).nonzero()[0, 0])
        raise bad(f"holds label {int(data[at])} at item {at}, expected 0..{num_classes - 1}")
    return data


def read_split(idx: IdxSet, files: list[list[Path]], split: str, own: bool
               ) -> tuple[torch.Tensor, torch.Tensor, list[Path]]:
    """Images ``(N, *item_shape)`` and labels ``(N,)`` as uint8 from the first valid candidate of
    each file (:func:`split_files_in`), and the two files read. Outside genzoo's cache (``own``
    False) the first candidate is read and a bad file raises; in the cache a bad file is deleted
    with a warning and the next candidate tried (none left: :class:`BadFile`, the file removed)."""
    count = None if idx.counts is None else idx.counts[split]
    out, read = [], []
    for cands, magic, shape in zip(files, (MAGIC_IMAGES, MAGIC_LABELS), (idx.item_shape, ())):
        for i, path in enumerate(cands if own else cands[:1]):
            try:
                out.append(read_idx(path, magic, shape, count=count, title=idx.title, fix=idx.fix,
                                    num_classes=idx.num_classes))
                read.append(path)
                break
            except BadFile as err:
                if not own:
                    raise
                discard(path, err.why)
                if i == len(cands) - 1:
                    raise
    images, labels = out
    if len(images) != len(labels):
        raise BadFile(read[1], f"holds {len(labels)} labels for the {len(images)} images of {read[0].name}", idx.fix)
    return images, labels, read


def sweep_old_tmp(idx: IdxSet, place: Place) -> None:
    """Remove the ``<file>.tmp<pid>`` files that older genzoo versions' failed unpacks left in the cache."""
    for sub in idx.layout.candidates(place):
        if not sub.is_dir():
            continue
        for p in sub.glob("*.tmp*"):
            m = _OLD_TMP.match(p.name)
            if m and not pid_alive(int(m.group(1))):
                p.unlink(missing_ok=True)


def load_idx(idx: IdxSet, split: str, data_dir=None, download: bool = True, *, extra: Sequence[Place] = (),
             seen: set | None = None) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Images ``(N, 28, 28)`` and labels ``(N,)`` as uint8 of the split, and where they were read
    (``meta["source"]``), from the places :func:`genzoo.data.places.find` searches (``extra``:
    places a dataset adds after genzoo's cache; ``seen``: its set of announced sources)."""
    looked = places(data_dir, extra)
    for place in looked:
        if place.own:
            sweep_old_tmp(idx, place)

    def read(folder: Path, place: Place):
        images, labels, files = read_split(idx, split_files_in(folder, split), split, place.own)
        return (images, labels), files

    (images, labels), src = find(idx.files(), split, looked, read, download=download, seen=seen)
    return images, labels, src
