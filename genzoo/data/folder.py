"""A folder of your own images (``image-folder``): any size, any format PIL reads (PNG, JPEG, ...),
as uint8 images (N, C, size, size).

Each image is resized so that its short side is ``size`` (PIL's bilinear, antialiased) and
center-cropped to ``size`` x ``size``, as torchvision's ``Resize(size)`` then ``CenterCrop(size)``
do; ``channels`` 3 converts it to RGB, 1 to grayscale. When the folder has subfolders, each is a
class (sorted names; the images anywhere below it; images lying directly in the folder are then
not used); without any, the images anywhere below the folder are one class named after it.

The split is deterministic: the images in sorted path order (relative to the folder), the 10th,
20th, 30th, ... (every 10th) are ``"test"``, the others ``"train"``.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from ..errors import DataError
from ._api import DatasetInfo, register_dataset
from .dataset import Dataset
from .places import DataNotFoundError

TEST_EVERY = 10             # every 10th image (in sorted path order) is a test image
MAX_SIZE = 4096
_log = logging.getLogger("genzoo.data")


def _image_suffixes() -> set[str]:
    """The file name suffixes PIL opens (``.png``, ``.jpg``, ``.jpeg``, ``.bmp``, ``.webp``, ...)."""
    from PIL import Image

    return {s.lower() for s in Image.registered_extensions()}


def _images_below(folder: Path, suffixes: set[str]) -> list[Path]:
    """The image files anywhere below ``folder`` (hidden files and folders skipped), sorted."""
    return sorted(p for p in folder.rglob("*")
                  if p.suffix.lower() in suffixes and p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def find_images(folder: Path) -> tuple[list[Path], list[int], tuple[str, ...]]:
    """The images of ``folder`` in sorted path order, the class of each, and the class names
    (the sorted subfolders, or the folder's own name when it has none)."""
    if not folder.is_dir():
        raise DataNotFoundError(f"image-folder: {folder} is not a folder (pass folder= the folder of your images, "
                                f"or of one subfolder of images per class)")
    suffixes = _image_suffixes()
    subdirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not subdirs:
        paths = _images_below(folder, suffixes)
        if not paths:
            raise DataNotFoundError(f"image-folder: no images in {folder} (looked for the files PIL reads: "
                                    f"{', '.join(sorted(s for s in suffixes if s in ('.png', '.jpg', '.jpeg', '.bmp')))}, ...)")
        return paths, [0] * len(paths), (folder.resolve().name or "images",)
    per_class = []
    for d in subdirs:
        found = _images_below(d, suffixes)
        if not found:
            raise DataNotFoundError(f"image-folder: the class folder {d} holds no images (remove it, or add images: "
                                    f"each subfolder of {folder} is a class)")
        per_class.append(found)
    loose = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes]
    if loose:
        _log.warning("image-folder: %d images lie directly in %s, beside its class subfolders: not used",
                     len(loose), folder)
    pairs = sorted((p, k) for k, found in enumerate(per_class) for p in found)
    return [p for p, _ in pairs], [k for _, k in pairs], tuple(d.name for d in subdirs)


def resize_crop(path: Path, size: int, channels: int):
    """One image as (C, size, size) uint8: its short side resized to ``size``, then center-cropped."""
    import numpy as np
    from PIL import Image

    try:
        with Image.open(path) as img:
            img = img.convert("RGB" if channels == 3 else "L")
    except (OSError, ValueError) as exc:   # PIL's UnidentifiedImageError and truncated files are OSErrors
        raise DataError(f"{path} cannot be read as an image ({' '.join(str(exc).split())}): "
                        f"replace or remove it") from None
    w, h = img.size
    # torchvision's Resize(size): the short side becomes size, the long one int(size * long / short)
    nw, nh = (size, int(size * h / w)) if w <= h else (int(size * w / h), size)
    if (nw, nh) != (w, h):
        img = img.resize((nw, nh), Image.BILINEAR)
    left, top = int(round((nw - size) / 2.0)), int(round((nh - size) / 2.0))   # torchvision's CenterCrop
    img = img.crop((left, top, left + size, top + size))
    arr = np.array(img, dtype=np.uint8)
    return arr[None] if channels == 1 else arr.transpose(2, 0, 1)           # (size, size[, 3]) -> (C, size, size)


def _check_options(size, channels) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
        raise ValueError(f"image-folder: size must be an integer from 1 to {MAX_SIZE} (pixels of the square "
                         f"images), got {size!r}")
    if isinstance(channels, bool) or channels not in (1, 3):
        raise ValueError(f"image-folder: channels must be 3 (RGB) or 1 (grayscale), got {channels!r}")


@register_dataset(DatasetInfo(
    name="image-folder", kind="image", shape=None, num_classes=None,
    description="a folder of your own images (PNG, JPEG, ...), resized and center-cropped to size x size; "
                "classes from its subfolders",
    metrics=("sharpness", "fid_inception", "kid_inception", "is_inception"), n_samples=10_000,
    options=("folder", "size", "channels"), claims=("images",)))
def load_image_folder(split: str = "train", folder=None, size: int = 64, channels: int = 3) -> Dataset:
    """The images of ``folder`` as uint8 ``(N, channels, size, size)`` (see the module docstring:
    resizing, classes, the every-10th test split). An unreadable image is a one-line
    :class:`~genzoo.errors.DataError` naming it. ``meta["source"]`` says where and how it was read."""
    from tqdm.auto import tqdm

    if folder is None:
        raise ValueError("image-folder needs folder= (the folder of your images)")
    _check_options(size, channels)
    folder = Path(folder)
    paths, labels, names = find_images(folder)
    keep = [i for i in range(len(paths)) if (i % TEST_EVERY == TEST_EVERY - 1) == (split == "test")]
    if not keep:
        raise DataError(f"image-folder: {folder} holds {len(paths)} images, and its {split} split (every "
                        f"{TEST_EVERY}th image is a test image) is empty: add images")
    x = torch.empty(len(keep), channels, size, size, dtype=torch.uint8)      # (N, C, size, size)
    with ThreadPoolExecutor(max_workers=4) as pool, \
            tqdm(total=len(keep), desc=f"image-folder {split}", unit="image", disable=None, leave=False) as bar:
        for j, arr in enumerate(pool.map(lambda i: resize_crop(paths[i], size, channels), keep)):
            x[j] = torch.from_numpy(arr)
            bar.update(1)
    y = torch.tensor([labels[i] for i in keep], dtype=torch.long)
    source = {"how": "folder", "folder": str(folder), "images": len(keep), "of": len(paths),
              "size": size, "channels": channels}
    return Dataset("image-folder", x, y, len(names), names, split, meta={"source": source})
