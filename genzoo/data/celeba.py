"""CelebA at 64x64 (Liu et al. 2015), the face set of the DCGAN era, converted once into an HDF5
file and read from it afterwards.

The owners' files: ``img_align_celeba/`` (202,599 aligned JPEGs of 178x218), ``list_eval_partition.txt``
(each file and its split: 0 train, 1 valid, 2 test) and ``list_attr_celeba.txt`` (the number of
images, the 40 attribute names, then each file with its 40 values of -1 / 1). Each image is
center-cropped to 108x108 and resized to 64x64 (PIL's bilinear), as DCGAN-era code does
(carpedm20/DCGAN-tensorflow's ``center_crop``).

The conversion (a progress bar; several threads decode) writes one HDF5 file in genzoo's cache,
``<cache>/celeba64/<hash of the source folder>.h5``, holding ``images`` (N, 3, 64, 64) uint8,
``attributes`` (N, 40) int8 in {0, 1}, ``split`` (N,) int8, ``files`` (N,) and, as attributes of
the file, the attribute names and a fingerprint of the source (the name, size and mtime of every
JPEG of the folder and of the two text files). A load whose source has the same fingerprint reads
the file; a changed source (an image added, replaced or touched, a text file edited) converts it
again. The file is written to a temporary file beside it and renamed, so a killed conversion leaves
no half file (and its temporary file is swept by the next load).

Where (:mod:`genzoo.data.places`): ``data_dir=`` alone, else ``$GENZOO_DATA`` alone, else genzoo's
cache, each in ``celeba/`` (torchvision's layout) or with ``img_align_celeba/`` and the text files
directly in it; else torchvision's download (Google Drive's quota usually refuses it).
"""

from __future__ import annotations

import hashlib
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from .._io import atomic_path, sweep_stale_tmp
from ..errors import DataError
from ._api import DatasetInfo, register_dataset
from .dataset import Dataset
from .places import BadFile, DataFiles, Layout, Place, cache_root, find, places

ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips", "Big_Nose",
    "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses",
    "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache",
    "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks",
    "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick",
    "Wearing_Necklace", "Wearing_Necktie", "Young")
SPLITS = ("train", "valid", "test")            # list_eval_partition.txt's 0, 1, 2
IMAGES, PARTITION, ATTR_FILE = "img_align_celeba", "list_eval_partition.txt", "list_attr_celeba.txt"
CROP, SIZE = 108, 64
FORMAT = 1                                     # the HDF5 file's layout; another value is converted again
_CHUNK = 512                                   # images decoded, then written, at a time
_FIX = ("replace it (the Align&Cropped images and the two text files of "
        "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html) or point GENZOO_DATA (or data_dir=) elsewhere")
_HOW = ("Download img_align_celeba.zip, list_eval_partition.txt and list_attr_celeba.txt from "
        "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (its Google Drive), unpack the zip beside the text "
        "files in a folder celeba/, and set GENZOO_DATA (or pass data_dir=) to the folder holding celeba/.")
_ANNOUNCED: set = set()          # (how, folder) already announced by this process


def _holds(folder: Path, split: str) -> bool:
    return (folder / IMAGES).is_dir() and (folder / PARTITION).is_file() and (folder / ATTR_FILE).is_file()


def _fetch(root: Path, split: str) -> None:
    from torchvision.datasets import CelebA

    CelebA(str(root), split="all", target_type="attr", download=True)


CELEBA_FILES = DataFiles("CelebA", Layout(("celeba",), flat=True), SPLITS, _holds,
                         lambda split: f"{IMAGES}/, {PARTITION} and {ATTR_FILE}", _HOW, _fetch)


def _is_jpeg(name: str) -> bool:
    return name.lower().endswith((".jpg", ".jpeg"))


def fingerprint(folder: Path) -> str:
    """sha256 of the name, size and mtime (ns) of every JPEG of ``folder/img_align_celeba`` and of
    the two text files: it changes when an image is added, removed, replaced or touched."""
    lines = []
    with os.scandir(folder / IMAGES) as it:
        for e in it:
            if _is_jpeg(e.name) and e.is_file():
                st = e.stat()
                lines.append(f"{IMAGES}/{e.name}\t{st.st_size}\t{st.st_mtime_ns}")
    lines.sort()
    for name in (PARTITION, ATTR_FILE):
        st = (folder / name).stat()
        lines.append(f"{name}\t{st.st_size}\t{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def read_partition(path: Path) -> list[tuple[str, int]]:
    """``list_eval_partition.txt``: (file, split) pairs in the file's order, split 0 / 1 / 2."""
    out, seen = [], set()
    for i, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
            raise BadFile(path, f"line {i} is {line.strip()!r:.60}, expected '<image file> <0, 1 or 2>'", _FIX)
        if parts[0] in seen:
            raise BadFile(path, f"lists {parts[0]} twice (line {i})", _FIX)
        seen.add(parts[0])
        out.append((parts[0], int(parts[1])))
    if not out:
        raise BadFile(path, "lists no image", _FIX)
    return out


def read_attributes(path: Path):
    """``list_attr_celeba.txt``: ``{file: row}`` and the (M, 40) int8 matrix of -1 / 1 values,
    checked: the count on line 1, :data:`ATTRIBUTES` on line 2, 40 values of -1 or 1 a file."""
    import numpy as np

    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise BadFile(path, "does not start with the number of images on its first line", _FIX)
    names = tuple(lines[1].split())
    if names != ATTRIBUTES:
        raise BadFile(path, f"names {len(names)} attributes on line 2 ({' '.join(names)[:60]}...), "
                            f"expected CelebA's 40 ({ATTRIBUTES[0]} ... {ATTRIBUTES[-1]})", _FIX)
    rows: dict[str, int] = {}
    values = np.empty((len(lines) - 2, 40), dtype=np.int8)                # (M, 40), filled row by row
    for i, line in enumerate(lines[2:], 3):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 41 or any(v not in ("1", "-1") for v in parts[1:]):
            raise BadFile(path, f"line {i} is {line.strip()!r:.60}, expected an image file and 40 values of -1 or 1",
                          _FIX)
        if parts[0] in rows:
            raise BadFile(path, f"lists {parts[0]} twice (line {i})", _FIX)
        values[len(rows)] = [1 if v == "1" else -1 for v in parts[1:]]
        rows[parts[0]] = len(rows)
    if len(rows) != int(lines[0]):
        raise BadFile(path, f"lists {len(rows)} images, but its first line says {int(lines[0])}", _FIX)
    return rows, values[:len(rows)]


def crop64(path: Path):
    """One image as (3, 64, 64) uint8: the 108x108 center crop (the top-left corner rounded half
    up, as Python 2's ``round`` did in DCGAN-tensorflow), resized to 64x64 with PIL's bilinear."""
    import numpy as np
    from PIL import Image

    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
    except OSError as exc:   # PIL's UnidentifiedImageError and truncated files are OSErrors
        raise BadFile(path, f"cannot be decoded as an image ({' '.join(str(exc).split())})", _FIX) from None
    w, h = img.size
    if w < CROP or h < CROP:
        raise BadFile(path, f"is {w}x{h}, smaller than the {CROP}x{CROP} center crop", _FIX)
    top, left = math.floor((h - CROP) / 2 + 0.5), math.floor((w - CROP) / 2 + 0.5)
    small = img.crop((left, top, left + CROP, top + CROP)).resize((SIZE, SIZE), Image.BILINEAR)
    return np.asarray(small, dtype=np.uint8).transpose(2, 0, 1)          # (64, 64, 3) -> (3, 64, 64)


def cache_file(folder: Path) -> Path:
    """The HDF5 file that holds ``folder``'s conversion (one per source folder)."""
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    return cache_root() / "celeba64" / f"{key}.h5"


def _up_to_date(path: Path, fp: str) -> bool:
    """Whether ``path`` is a complete conversion of the source of fingerprint ``fp``."""
    import h5py

    if not path.is_file():
        return False
    try:
        with h5py.File(path, "r") as f:
            return (f.attrs.get("format") == FORMAT and f.attrs.get("fingerprint") == fp
                    and all(k in f for k in ("images", "attributes", "split", "files")))
    except (OSError, ValueError):      # not an HDF5 file (a disk error, another program's): converted again
        return False


def convert(folder: Path, target: Path, fp: str) -> None:
    """Convert the CelebA folder ``folder`` into the HDF5 file ``target`` (atomically)."""
    import h5py
    import numpy as np
    from tqdm.auto import tqdm

    items = read_partition(folder / PARTITION)
    rows, values = read_attributes(folder / ATTR_FILE)
    missing = [name for name, _ in items if name not in rows]
    if missing:
        raise BadFile(folder / ATTR_FILE, f"has no attributes for {missing[0]} ({len(missing)} images of "
                                          f"{PARTITION} lack them)", _FIX)
    paths = [folder / IMAGES / name for name, _ in items]
    for p in paths:
        if not p.is_file():
            raise BadFile(p, f"is missing ({PARTITION} lists it)", _FIX)
    n = len(items)
    attrs = (values[[rows[name] for name, _ in items]] > 0).astype(np.int8)         # (N, 40) in {0, 1}
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_tmp(target.parent)
    with atomic_path(target) as tmp, h5py.File(tmp, "w") as f, \
            ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        images = f.create_dataset("images", shape=(n, 3, SIZE, SIZE), dtype=np.uint8)
        f.create_dataset("attributes", data=attrs)
        f.create_dataset("split", data=np.array([s for _, s in items], dtype=np.int8))
        f.create_dataset("files", data=np.array([name.encode() for name, _ in items]))
        f.attrs.update({"format": FORMAT, "fingerprint": fp, "attribute_names": list(ATTRIBUTES),
                        "crop": CROP, "size": SIZE, "source": str(folder)})
        with tqdm(total=n, desc="celeba64 -> HDF5", unit="image", disable=None, leave=False) as bar:
            for a in range(0, n, _CHUNK):
                chunk = paths[a:a + _CHUNK]
                images[a:a + len(chunk)] = np.stack(list(pool.map(crop64, chunk)))   # (chunk, 3, 64, 64)
                bar.update(len(chunk))


def read_split(path: Path, split: str):
    """Images (M, 3, 64, 64) uint8 and attributes (M, 40) int8 of one split of a converted file,
    read run by run (a split is one run in the real partition): no copy of the other splits."""
    import h5py
    import numpy as np

    k = SPLITS.index(split)
    with h5py.File(path, "r") as f:
        idx = np.flatnonzero(f["split"][:] == k)
        if not len(idx):
            raise DataError(f"{f.attrs.get('source', path)}/{PARTITION} puts no image in the {split} split "
                            f"({split} is {k} there); add some, or load another split")
        out = np.empty((len(idx), 3, SIZE, SIZE), dtype=np.uint8)
        breaks = np.flatnonzero(np.diff(idx) != 1) + 1
        at = 0
        for run in np.split(idx, breaks):
            lo, hi = int(run[0]), int(run[-1]) + 1
            f["images"].read_direct(out, np.s_[lo:hi], np.s_[at:at + hi - lo])
            at += hi - lo
        attrs = f["attributes"][:][idx]
    return torch.from_numpy(out), torch.from_numpy(attrs)


@register_dataset(DatasetInfo(
    name="celeba64", kind="image", shape=(3, SIZE, SIZE), num_classes=1, class_names=("face",),
    title="CelebA 64x64",
    description="CelebA (Liu et al. 2015): 202,599 aligned faces, center-cropped to 108 and resized to 64x64, "
                "40 binary attributes",
    attributes=ATTRIBUTES, evaluator="celeba64",
    metrics=("fid", "kid", "precision", "recall", "density", "coverage", "sharpness", "fid_inception",
             "kid_inception", "is_inception"),
    n_samples=10_000, splits=SPLITS, options=("data_dir", "download"), claims=("images",),
    literature="lucic-celeba"))
def load_celeba64(split: str = "train", data_dir=None, download: bool = True) -> Dataset:
    """CelebA as uint8 images ``(N, 3, 64, 64)`` of one class (unconditional), from genzoo's HDF5
    conversion of the source folder (made on first use and whenever the source changes);
    ``meta["attributes"]`` the (N, 40) int8 attributes in {0, 1} (:data:`ATTRIBUTES`, also
    ``meta["attribute_names"]``), ``meta["source"]`` where it was read (``how``, ``folder``,
    ``files``) and the HDF5 file (``cache``)."""

    def read(folder: Path, place: Place):
        target = cache_file(folder)
        fp = fingerprint(folder)
        if not _up_to_date(target, fp):
            convert(folder, target, fp)
        x, attrs = read_split(target, split)
        return (x, attrs, target), [folder / IMAGES, folder / PARTITION, folder / ATTR_FILE]

    (x, attrs, target), source = find(CELEBA_FILES, split, places(data_dir), read, download=download,
                                      seen=_ANNOUNCED)
    return Dataset("celeba64", x, torch.zeros(len(x), dtype=torch.long), 1, ("face",), split,
                   meta={"attributes": attrs, "attribute_names": ATTRIBUTES, "source": {**source, "cache": str(target)}})
