"""Small data files in each owner's exact format, for the tests of every area (plain functions, no
fixtures): MNIST / Fashion-MNIST's IDX files (:func:`write_idx_dataset`), CIFAR-10's python
batches (:func:`write_cifar10`), a CelebA folder with its partition and attribute files
(:func:`write_celeba`) and a folder of PNGs and JPEGs (:func:`write_image_folder`).

The content depends on the class (a seven-segment digit, a shape, a colour, a face's features), so
that a classifier trained on a few hundred items for a few epochs learns the classes, and a
conditional model has something to condition on. Every writer is seeded and deterministic.
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
from pathlib import Path
from typing import Sequence

import numpy as np

IDX_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
CIFAR_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# CelebA's 40 attribute names as list_attr_celeba.txt holds them: written out here, not imported from
# genzoo.data.celeba, so that the loader is checked against the owners' format rather than against itself
CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips", "Big_Nose",
    "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses",
    "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache",
    "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks",
    "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick",
    "Wearing_Necklace", "Wearing_Necktie", "Young")
# one colour a class (RGB), far apart
PALETTE = np.array([(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
                    (145, 30, 180), (70, 240, 240), (240, 50, 230), (128, 128, 0), (0, 0, 128)], dtype=np.uint8)

# --------------------------------------------------------------------------- class-shaped images

# which of the seven segments (a top, b top right, c bottom right, d bottom, e bottom left,
# f top left, g middle) each digit lights
_SEGMENTS = {0: "abcdef", 1: "bc", 2: "abged", 3: "abgcd", 4: "fgbc", 5: "afgcd", 6: "afgedc", 7: "abc",
             8: "abcdefg", 9: "abcdfg"}


def _digit_template(k: int, side: int, thick: int) -> np.ndarray:
    """Digit ``k`` as a seven-segment figure, (side, side) float in {0, 1}, centered."""
    img = np.zeros((side, side), dtype=np.float32)
    x0, x1 = round(side * 0.32), round(side * 0.68)          # left and right edges
    y0, y1, y2 = round(side * 0.18), round(side * 0.5), round(side * 0.82)
    t = thick
    spans = {"a": (y0, y0 + t, x0, x1 + t), "g": (y1, y1 + t, x0, x1 + t), "d": (y2, y2 + t, x0, x1 + t),
             "f": (y0, y1 + t, x0, x0 + t), "b": (y0, y1 + t, x1, x1 + t),
             "e": (y1, y2 + t, x0, x0 + t), "c": (y1, y2 + t, x1, x1 + t)}
    for s in _SEGMENTS[k]:
        r0, r1, c0, c1 = spans[s]
        img[r0:r1, c0:c1] = 1.0
    return img


def _shape_template(k: int, side: int) -> np.ndarray:
    """Shape ``k`` of ten (disc, square, triangle, bars, cross, ring, diamond, two blobs, an L),
    (side, side) float in {0, 1}: the "garments" of the Fashion-MNIST-like files."""
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / (side - 1) * 2 - 1     # [-1, 1]
    r = np.sqrt(xx ** 2 + yy ** 2)
    masks = [r < 0.6, (abs(xx) < 0.5) & (abs(yy) < 0.5), (yy > -0.5) & (yy < 0.6) & (abs(xx) < (yy + 0.5) * 0.6),
             abs(yy) < 0.2, abs(xx) < 0.2, (abs(xx) < 0.15) | (abs(yy) < 0.15), (r > 0.4) & (r < 0.7),
             abs(xx) + abs(yy) < 0.7, (np.sqrt((xx + 0.4) ** 2 + yy ** 2) < 0.3) | (np.sqrt((xx - 0.4) ** 2 + yy ** 2) < 0.3),
             ((abs(xx + 0.3) < 0.15) & (abs(yy) < 0.6)) | ((abs(yy - 0.45) < 0.15) & (xx > -0.45) & (xx < 0.5))]
    return masks[k].astype(np.float32)


def class_images(labels: np.ndarray, side: int, seed: int, digits: bool = True) -> np.ndarray:
    """Grayscale images (N, side, side) uint8, each its class's figure (a seven-segment digit, or
    a shape) shifted by up to 2 pixels, at a random brightness, over faint noise."""
    rng = np.random.default_rng(seed)
    templates = {t: np.stack([_digit_template(k, side, t) if digits else _shape_template(k, side) for k in range(10)])
                 for t in (2, 3)}                                                   # thickness -> (10, side, side)
    n = len(labels)
    thick = rng.integers(2, 4, n)
    shift = rng.integers(-2, 3, (n, 2))
    bright = rng.uniform(170, 255, n).astype(np.float32)
    out = rng.uniform(0, 30, (n, side, side)).astype(np.float32)                   # faint background noise
    for i in range(n):
        fig = np.roll(templates[int(thick[i])][labels[i]], tuple(shift[i]), axis=(0, 1))
        out[i] = np.maximum(out[i], fig * bright[i])
    return out.clip(0, 255).astype(np.uint8)


def colour_images(labels: np.ndarray, side: int, seed: int) -> np.ndarray:
    """Colour images (N, 3, side, side) uint8: a background in the class's colour of
    :data:`PALETTE`, the class's shape in its complement, and noise."""
    rng = np.random.default_rng(seed)
    shapes = np.stack([_shape_template(k, side) for k in range(10)])               # (10, side, side)
    n = len(labels)
    colour = PALETTE[labels].astype(np.float32)                                    # (N, 3)
    shade = rng.uniform(0.7, 1.0, (n, 1)).astype(np.float32)
    bg = (colour * shade)[:, :, None, None]                                        # (N, 3, 1, 1)
    fg = (255 - colour)[:, :, None, None]
    mask = shapes[labels][:, None]                                                 # (N, 1, side, side)
    img = bg * (1 - mask) + fg * mask + rng.normal(0, 12, (n, 3, side, side)).astype(np.float32)
    return img.clip(0, 255).astype(np.uint8)


def balanced_labels(n: int, seed: int, classes: int = 10) -> np.ndarray:
    """``n`` labels, every class as often as possible, in a random order."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(n) % classes).astype(np.uint8)


# --------------------------------------------------------------------------- MNIST / Fashion-MNIST

def _idx_bytes(magic: int, data: np.ndarray) -> bytes:
    return b"".join(v.to_bytes(4, "big") for v in (magic, *data.shape)) + data.astype(np.uint8).tobytes()


def write_idx_dataset(folder, n_train: int, n_test: int, seed: int, gz: bool = True, layout: str = "flat",
                      digits: bool = True) -> Path:
    """The four IDX files (LeCun's format: magic ``0x803`` / ``0x801``, big-endian dims, bytes) of
    ``n_train`` and ``n_test`` 28x28 images with balanced labels, ``.gz`` or plain, and returns
    ``folder`` (what ``data_dir=`` takes). ``digits``: seven-segment digits (MNIST), else ten
    shapes (Fashion-MNIST). ``layout``: ``"flat"`` (the files in ``folder``) or ``"torchvision"``
    (in ``folder/MNIST/raw`` or, digits False, ``folder/FashionMNIST/raw``)."""
    folder = Path(folder)
    if layout not in ("flat", "torchvision"):
        raise ValueError(f"layout must be 'flat' or 'torchvision', got {layout!r}")
    where = folder / ("MNIST" if digits else "FashionMNIST") / "raw" if layout == "torchvision" else folder
    where.mkdir(parents=True, exist_ok=True)
    for split, n, s in (("train", n_train, seed), ("test", n_test, seed + 1_000_003)):
        labels = balanced_labels(n, s)
        images = class_images(labels, 28, s + 1, digits)
        for name, blob in zip(IDX_FILES[split], (_idx_bytes(0x803, images), _idx_bytes(0x801, labels))):
            if gz:
                (where / f"{name}.gz").write_bytes(gzip.compress(blob, compresslevel=1, mtime=0))
            else:
                (where / name).write_bytes(blob)
    return folder


# --------------------------------------------------------------------------- CIFAR-10

class Py2Pickler(pickle._Pickler):
    """Writes what Python 2's cPickle wrote at protocol 2 for the CIFAR-10 batches (writing a
    pickle here reproduces the owners' format; genzoo itself never writes one): Python 2 strs as
    SHORT_BINSTRING / BINSTRING (Python 3 would write its bytes as ``_codecs.encode`` calls, which
    the real files never hold) and numpy arrays through ``numpy.core.multiarray._reconstruct`` with
    the Python 2 state tuples (numpy 2 would name ``numpy._core``)."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj: bytes) -> None:
        n = len(obj)
        self.write((pickle.SHORT_BINSTRING + bytes([n]) if n < 256 else pickle.BINSTRING + struct.pack("<i", n)) + obj)
        self.memoize(obj)

    def _global(self, module: str, name: str) -> None:
        self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode("ascii"))

    def _save_dtype(self, dt: np.dtype) -> None:
        self._global("numpy", "dtype")
        for v in (dt.str[1:].encode(), 0, 1):                # dtype('u1', 0, 1)
            self.save(v)
        self.write(pickle.TUPLE3 + pickle.REDUCE + pickle.MARK)
        for v in (3, b"|", None, None, None, -1, -1, 0):      # its __setstate__ tuple
            self.save(v)
        self.write(pickle.TUPLE + pickle.BUILD)

    def save_ndarray(self, arr: np.ndarray) -> None:
        self._global("numpy.core.multiarray", "_reconstruct")
        self._global("numpy", "ndarray")
        self.save((0,))
        self.save(b"b")
        self.write(pickle.TUPLE3 + pickle.REDUCE + pickle.MARK)  # _reconstruct(ndarray, (0,), 'b'), then its state:
        self.save(1)
        self.save(tuple(int(d) for d in arr.shape))
        self._save_dtype(arr.dtype)
        self.save(False)
        self.save(np.ascontiguousarray(arr).tobytes())
        self.write(pickle.TUPLE + pickle.BUILD)
        self.memoize(arr)

    dispatch[bytes] = save_py2_str
    dispatch[np.ndarray] = save_ndarray


def py2_pickle(obj) -> bytes:
    """``obj`` (dicts, lists, ints, bytes as Python 2 strs, uint8 numpy arrays) pickled as Python 2 did."""
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def write_cifar10(folder, n_per_batch: int, n_test: int, seed: int, layout: str = "torchvision") -> Path:
    """CIFAR-10's python version: ``data_batch_1`` .. ``data_batch_5`` of ``n_per_batch`` images
    each, ``test_batch`` of ``n_test`` and ``batches.meta``, each a Python 2 protocol-2 pickle of
    the owners' dict (``data`` a (N, 3072) uint8 array of R, G, B planes, ``labels`` a list of
    ints, ``batch_label``, ``filenames``; the meta's ``label_names``, ``num_cases_per_batch``,
    ``num_vis``). In ``folder/cifar-10-batches-py`` (``layout="torchvision"``, the tarball's) or
    ``folder`` (``"flat"``); returns ``folder``."""
    folder = Path(folder)
    where = folder / "cifar-10-batches-py" if layout == "torchvision" else folder
    where.mkdir(parents=True, exist_ok=True)
    batches = [(f"data_batch_{i}", n_per_batch, f"training batch {i} of 5") for i in range(1, 6)]
    for b, (name, n, label) in enumerate(batches + [("test_batch", n_test, "testing batch 1 of 1")]):
        labels = balanced_labels(n, seed + 7 * b)
        images = colour_images(labels.astype(np.int64), 32, seed + 7 * b + 1)                # (n, 3, 32, 32)
        d = {b"batch_label": label.encode(), b"labels": [int(v) for v in labels],
             b"data": images.reshape(n, 3072),
             b"filenames": [f"{CIFAR_NAMES[v]}_s_{b:01d}{i:05d}.png".encode() for i, v in enumerate(labels)]}
        (where / name).write_bytes(py2_pickle(d))
    meta = {b"num_cases_per_batch": n_per_batch, b"label_names": [c.encode() for c in CIFAR_NAMES], b"num_vis": 3072}
    (where / "batches.meta").write_bytes(py2_pickle(meta))
    return folder


# --------------------------------------------------------------------------- CelebA

def _face(draw_size: tuple[int, int], attrs: dict[str, int], rng) -> "object":
    """A 178x218 RGB "aligned face" whose look follows some of its attributes (hair colour, pale
    skin, eyeglasses, smiling, male, hat); the face lies in the 108x108 center crop."""
    from PIL import Image, ImageDraw

    w, h = draw_size
    bg = tuple(int(v) for v in rng.integers(60, 200, 3))
    img = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(img)
    cx, cy = w // 2 + int(rng.integers(-3, 4)), h // 2 + int(rng.integers(-3, 4))
    hair = ((20, 20, 20) if attrs["Black_Hair"] > 0 else (240, 220, 120) if attrs["Blond_Hair"] > 0
            else (170, 170, 170) if attrs["Gray_Hair"] > 0 else (110, 70, 40))
    d.ellipse((cx - 52, cy - 62, cx + 52, cy + 40), fill=hair)                             # hair
    skin = (250, 230, 215) if attrs["Pale_Skin"] > 0 else (200, 150, 110)
    d.ellipse((cx - 40, cy - 48, cx + 40, cy + 52), fill=skin)                             # face
    for ex in (cx - 17, cx + 17):                                                          # eyes
        d.ellipse((ex - 6, cy - 14, ex + 6, cy - 6), fill=(30, 30, 60))
    if attrs["Eyeglasses"] > 0:
        d.rectangle((cx - 30, cy - 18, cx + 30, cy - 2), outline=(0, 0, 0), width=3)
    if attrs["Smiling"] > 0:
        d.arc((cx - 20, cy + 8, cx + 20, cy + 34), 0, 180, fill=(150, 20, 40), width=4)
    else:
        d.line((cx - 16, cy + 24, cx + 16, cy + 24), fill=(150, 20, 40), width=4)
    if attrs["Male"] > 0:
        d.rectangle((cx - 22, cy + 36, cx + 22, cy + 48), fill=(70, 50, 40))               # a beard
    if attrs["Wearing_Hat"] > 0:
        d.rectangle((cx - 56, cy - 70, cx + 56, cy - 44), fill=(30, 60, 160))
    return img


def write_celeba(folder, n: int, seed: int, layout: str = "torchvision") -> Path:
    """A CelebA folder of ``n`` (at least 3) images: ``img_align_celeba/000001.jpg`` ... (JPEGs of
    178x218), ``list_eval_partition.txt`` (80% train, 10% valid, the rest test, at least one each,
    in file order as the real one) and ``list_attr_celeba.txt`` (the count, the 40 names, then each
    file with 40 values of -1 / 1, aligned as in the real file). In ``folder/celeba``
    (``layout="torchvision"``) or ``folder`` (``"flat"``); returns ``folder``."""
    if n < 3:
        raise ValueError("write_celeba needs n >= 3 (one image a split)")
    folder = Path(folder)
    where = folder / "celeba" if layout == "torchvision" else folder
    (where / "img_align_celeba").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    values = rng.choice(np.array([-1, 1]), (n, 40))
    n_valid = max(1, n // 10)
    n_train = min(max(1, int(n * 0.8)), n - n_valid - 1)
    names, parts, rows = [], [], []
    for i in range(n):
        name = f"{i + 1:06d}.jpg"
        attrs = dict(zip(CELEBA_ATTRIBUTES, (int(v) for v in values[i])))
        _face((178, 218), attrs, rng).save(where / "img_align_celeba" / name, format="JPEG", quality=90)
        names.append(name)
        parts.append(f"{name} {0 if i < n_train else 1 if i < n_train + n_valid else 2}")
        rows.append(f"{name} " + " ".join(f"{int(v):2d}" for v in values[i]))
    (where / "list_eval_partition.txt").write_text("\n".join(parts) + "\n")
    (where / "list_attr_celeba.txt").write_text(f"{n}\n" + " ".join(CELEBA_ATTRIBUTES) + " \n" + "\n".join(rows) + "\n")
    return folder


# --------------------------------------------------------------------------- a folder of images

def write_image_folder(folder, classes: Sequence[str] | None, per_class: int,
                       sizes: Sequence[int | tuple[int, int]] = (64,), formats: Sequence[str] = ("png",),
                       seed: int = 0) -> list[Path]:
    """``per_class`` images of each class in ``folder/<class>/`` (``classes`` empty or None: all in
    ``folder`` itself, one class), their sizes (``w`` or ``(w, h)``) and formats (``"png"``,
    ``"jpeg"``, or any PIL writes) taken in turn; each a background in its class's colour of
    :data:`PALETTE` with its class's shape in the complement. Returns the files written, sorted."""
    from PIL import Image

    folder = Path(folder)
    rng = np.random.default_rng(seed)
    written = []
    for k, cls in enumerate(classes or [None]):
        where = folder / cls if cls else folder
        where.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            j = k * per_class + i
            size = sizes[j % len(sizes)]
            w, h = (size, size) if isinstance(size, int) else size
            fmt = formats[j % len(formats)].lower()
            side = max(w, h)
            img = colour_images(np.array([k % 10]), side, int(rng.integers(1 << 31)))[0]     # (3, side, side)
            top, left = (side - h) // 2, (side - w) // 2
            pil = Image.fromarray(np.ascontiguousarray(img.transpose(1, 2, 0)[top:top + h, left:left + w]))
            ext = {"jpeg": "jpg"}.get(fmt, fmt)
            path = where / f"img{j:04d}.{ext}"
            pil.save(path, format="JPEG" if fmt in ("jpg", "jpeg") else fmt.upper())
            written.append(path)
    return sorted(written)
