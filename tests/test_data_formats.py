"""The dataset loaders of the files as their owners distribute them (MNIST's IDX files, CIFAR-10's
python batches, CelebA's folder and its HDF5 conversion, a folder of your own images), on small
files written in each exact format (tests/formats.py); where each is looked for; uint8 images."""

from __future__ import annotations

import gzip
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from formats import (CELEBA_ATTRIBUTES, CIFAR_NAMES, IDX_FILES, py2_pickle, write_celeba, write_cifar10,
                     write_idx_dataset, write_image_folder)

import genzoo
from genzoo.data import DataNotFoundError, as_float, cache_root, dataset_info
from genzoo.data.celeba import cache_file
from genzoo.errors import DataError


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A private, empty genzoo cache and no GENZOO_DATA: each test sees only its own files."""
    monkeypatch.setenv("GENZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GENZOO_DATA", raising=False)
    return tmp_path / "cache"


def _one_line(err) -> str:
    msg = str(err.value)
    assert "\n" not in msg and isinstance(err.value, DataError)
    return msg


def _idx_payload(path: Path, header: int) -> np.ndarray:
    raw = path.read_bytes()
    return np.frombuffer(gzip.decompress(raw) if path.suffix == ".gz" else raw, dtype=np.uint8)[header:]


# --------------------------------------------------------------------------- MNIST

@pytest.mark.parametrize("layout,gz", [("flat", True), ("torchvision", False)])
def test_mnist_reads_the_idx_files_as_uint8(layout, gz, tmp_path, cache):
    root = write_idx_dataset(tmp_path / "mnist", 120, 40, seed=0, gz=gz, layout=layout)
    raw = root / "MNIST" / "raw" if layout == "torchvision" else root
    train = genzoo.data.load("mnist", "train", data_dir=root, download=False)
    test = genzoo.data.load("mnist", "test", data_dir=root, download=False)
    assert train.x.shape == (120, 1, 28, 28) and test.x.shape == (40, 1, 28, 28)
    assert train.x.dtype == torch.uint8 and train.y.dtype == torch.long and train.kind == "image"
    assert torch.bincount(train.y).tolist() == [12] * 10 and train.class_names == tuple("0123456789")
    suffix = ".gz" if gz else ""
    images, labels = (raw / f"{f}{suffix}" for f in IDX_FILES["test"])
    assert np.array_equal(test.x.numpy().reshape(-1), _idx_payload(images, 16))   # the bytes, as written
    assert np.array_equal(test.y.numpy(), _idx_payload(labels, 8))
    assert test.meta["source"] == {"how": "data_dir", "folder": str(root), "files": [str(images), str(labels)]}
    assert torch.equal(as_float(train.x), train.x.float() / 255)


def test_mnist_in_genzoo_data_and_the_cache_lies_in_its_own_folder(tmp_path, cache, monkeypatch, caplog):
    """MNIST and Fashion-MNIST share their file names: a flat GENZOO_DATA folder or cache is
    Fashion-MNIST's, never read as MNIST; MNIST is read from their MNIST/raw/ or mnist/."""
    env = write_idx_dataset(tmp_path / "env", 30, 20, seed=1, digits=False)       # flat: Fashion-MNIST's place
    monkeypatch.setenv("GENZOO_DATA", str(env))
    with pytest.raises(DataNotFoundError) as err:
        genzoo.data.load("mnist", "test", download=False)
    msg = _one_line(err)
    assert msg.startswith(f"GENZOO_DATA={env}: no MNIST test files there (looked for t10k-images-idx3-ubyte[.gz] "
                          f"and t10k-labels-idx1-ubyte[.gz] in {env / 'MNIST' / 'raw'} and {env / 'mnist'})")
    write_idx_dataset(env / "mnist", 30, 20, seed=2)
    ds = genzoo.data.load("mnist", "test", download=False)
    assert ds.meta["source"]["how"] == "GENZOO_DATA" and ds.meta["source"]["files"][0].startswith(str(env / "mnist"))
    # data_dir= also takes the flat layout, after the MNIST folders
    assert torch.equal(ds.x, genzoo.data.load("mnist", "test", data_dir=env, download=False).x)
    shutil.rmtree(env / "mnist")
    flat = genzoo.data.load("mnist", "test", data_dir=env, download=False)
    assert not torch.equal(ds.x, flat.x) and flat.meta["source"]["files"][0] == str(env / "t10k-images-idx3-ubyte.gz")

    monkeypatch.delenv("GENZOO_DATA")
    write_idx_dataset(cache, 30, 20, seed=3)                                        # flat in the cache: not MNIST
    with pytest.raises(DataNotFoundError) as err:
        genzoo.data.load("mnist", "test", download=False)
    msg = _one_line(err)
    assert f"MNIST not found (looked in: {cache})" in msg and "MNIST/raw/" in msg and "GENZOO_DATA" in msg
    write_idx_dataset(cache, 30, 20, seed=4, layout="torchvision")
    with caplog.at_level("WARNING", logger="genzoo.data"):
        for _ in range(2):
            ds = genzoo.data.load("mnist", "test", download=False)
    assert ds.meta["source"]["how"] == "genzoo cache" and "/MNIST/raw/" in ds.meta["source"]["files"][0]
    said = [r.getMessage() for r in caplog.records if r.name == "genzoo.data"]
    assert said == [f"MNIST is read from genzoo's cache, {cache} (no GENZOO_DATA or data_dir= given)"]


def test_mnist_missing_and_corrupt_files_are_one_line_naming_them(tmp_path, cache):
    root = write_idx_dataset(tmp_path / "m", 30, 20, seed=0)
    (root / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataNotFoundError) as err:
        genzoo.data.load("mnist", "test", data_dir=root, download=False)
    msg = _one_line(err)
    assert msg.startswith(f"data_dir={root}: no MNIST test files there (it holds the train files only; looked for")
    bad = root / "train-images-idx3-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:200])
    with pytest.raises(DataError) as err:
        genzoo.data.load("mnist", "train", data_dir=root, download=False)
    assert _one_line(err).startswith(f"{bad} is truncated") and not isinstance(err.value, DataNotFoundError)
    assert bad.exists()                                    # the user's file: reported, not removed
    write_idx_dataset(root, 30, 20, seed=0)
    labels = root / "train-labels-idx1-ubyte.gz"           # 29 labels for 30 images
    labels.write_bytes(gzip.compress(b"".join(v.to_bytes(4, "big") for v in (0x801, 29)) + bytes(29)))
    with pytest.raises(DataError) as err:
        genzoo.data.load("mnist", "train", data_dir=root, download=False)
    assert _one_line(err).startswith(f"{labels} holds 29 labels for the 30 images")


def test_stacked_mnist_stacks_three_independent_digits(tmp_path, cache):
    root = write_idx_dataset(tmp_path / "m", 100, 30, seed=0)
    base = genzoo.data.load("mnist", data_dir=root, download=False)
    st = genzoo.data.load("stacked-mnist", data_dir=root, n=300, seed=5, download=False)
    assert st.x.shape == (300, 3, 28, 28) and st.x.dtype == torch.uint8 and st.num_classes == 1000
    flat = base.x.flatten(1)
    for i in range(0, 300, 37):
        digits = []
        for c in range(3):
            match = (flat == st.x[i, c].flatten()).all(1).nonzero().flatten()
            digits.append(int(base.y[match[0]]))
        assert int(st.y[i]) == 100 * digits[0] + 10 * digits[1] + digits[2]
        assert st.class_names[int(st.y[i])] == "|".join(map(str, digits))
    assert len(st.y.unique()) > 200                        # 1,000 modes: 300 draws hit many
    assert torch.equal(st.x, genzoo.data.load("stacked-mnist", data_dir=root, n=300, seed=5, download=False).x)
    assert not torch.equal(st.x, genzoo.data.load("stacked-mnist", data_dir=root, n=300, seed=6, download=False).x)
    assert st.meta["source"]["stacked"] == {"n": 300, "seed": 5} and st.meta["channel_classes"] == 10
    assert len(genzoo.data.load("stacked-mnist", "test", data_dir=root, download=False)) == 30
    with pytest.raises(ValueError, match="at least 2 items"):
        genzoo.data.load("stacked-mnist", data_dir=root, n=1)
    info = dataset_info("stacked-mnist")
    assert (info.modes, info.mode_count, info.evaluator, info.n_samples, info.claims, info.literature) == (
        1000, "stacked", "mnist", 26_000, ("modes",), "stacked-mnist")


# --------------------------------------------------------------------------- CIFAR-10

@pytest.mark.parametrize("layout", ["torchvision", "flat"])
def test_cifar10_reads_the_python_batches(layout, tmp_path, cache):
    root = write_cifar10(tmp_path / "c", n_per_batch=20, n_test=30, seed=0, layout=layout)
    where = root / "cifar-10-batches-py" if layout == "torchvision" else root
    train = genzoo.data.load("cifar10", "train", data_dir=root, download=False)
    test = genzoo.data.load("cifar10", "test", data_dir=root, download=False)
    assert train.x.shape == (100, 3, 32, 32) and test.x.shape == (30, 3, 32, 32) and train.x.dtype == torch.uint8
    assert train.class_names == CIFAR_NAMES and train.num_classes == 10
    assert torch.bincount(test.y).tolist() == [3] * 10
    with open(where / "data_batch_2", "rb") as f:          # the owners' own recipe reads what genzoo read
        d = pickle.load(f, encoding="bytes")
    assert np.array_equal(train.x[20:40].numpy().reshape(20, 3072), d[b"data"])
    assert train.y[20:40].tolist() == d[b"labels"]
    assert np.array_equal(train.x[20, 0].numpy().reshape(-1), d[b"data"][0, :1024])   # the red plane first
    files = [str(where / f"data_batch_{i}") for i in range(1, 6)] + [str(where / "batches.meta")]
    assert train.meta["source"] == {"how": "data_dir", "folder": str(root), "files": files}
    meta = {b"num_cases_per_batch": 20, b"label_names": [f"thing {k}".encode() for k in range(10)], b"num_vis": 3072}
    (where / "batches.meta").write_bytes(py2_pickle(meta))
    assert genzoo.data.load("cifar10", "test", data_dir=root, download=False).class_names[3] == "thing 3"


def test_cifar10_missing_and_corrupt_files(tmp_path, cache):
    root = write_cifar10(tmp_path / "c", 10, 10, seed=0)
    where = root / "cifar-10-batches-py"
    (where / "data_batch_4").unlink()
    with pytest.raises(DataNotFoundError) as err:
        genzoo.data.load("cifar10", "train", data_dir=root, download=False)
    assert _one_line(err) == (f"data_dir={root}: no CIFAR-10 train files there (it holds the test files only; looked "
                              f"for data_batch_1 .. data_batch_5 and batches.meta in {root} and {where})")
    bad = where / "test_batch"
    bad.write_bytes(bad.read_bytes()[:5000])
    with pytest.raises(DataError) as err:
        genzoo.data.load("cifar10", "test", data_dir=root, download=False)
    assert _one_line(err).startswith(f"{bad} is truncated or corrupt (")
    d = {b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 10, 1]}
    bad.write_bytes(py2_pickle(d))
    with pytest.raises(DataError) as err:
        genzoo.data.load("cifar10", "test", data_dir=root, download=False)
    assert _one_line(err).startswith(f"{bad} holds label 10 at item 1, expected 0..9")
    bad.write_bytes(py2_pickle({b"data": np.zeros((3, 1024), np.uint8), b"labels": [0, 1, 2]}))
    with pytest.raises(DataError, match="expected a \\(N, 3072\\) uint8 array"):
        genzoo.data.load("cifar10", "test", data_dir=root, download=False)


class _Exploit:
    """What a malicious pickle holds: unpickling it calls ``os.system``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("protocol", [2, 4])
def test_a_pickle_holding_anything_else_is_refused_and_never_run(protocol, tmp_path, cache):
    root = write_cifar10(tmp_path / "c", 10, 10, seed=0)
    marker = tmp_path / "pwned"
    bad = root / "cifar-10-batches-py" / "test_batch"
    bad.write_bytes(pickle.dumps({"data": _Exploit(marker), "labels": [0]}, protocol=protocol))
    with pytest.raises(DataError) as err:
        genzoo.data.load("cifar10", "test", data_dir=root, download=False)
    msg = _one_line(err)
    assert msg.startswith(f"{bad} is not a CIFAR-10 python batch: it refers to {os.system.__module__}.system, "
                          f"which genzoo refuses to load")
    assert not marker.exists()                             # os.system never ran


# --------------------------------------------------------------------------- CelebA

def _stat(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns


def _celeba_rows(where: Path) -> dict[str, list[int]]:
    lines = (where / "list_attr_celeba.txt").read_text().splitlines()[2:]
    return {ln.split()[0]: [int(v) for v in ln.split()[1:]] for ln in lines}


def test_celeba64_splits_attributes_and_crop(tmp_path, cache):
    root = write_celeba(tmp_path / "celebA", 30, seed=0)
    where = root / "celeba"
    sizes = {s: len(genzoo.data.load("celeba64", s, data_dir=root, download=False)) for s in ("train", "valid", "test")}
    assert sizes == {"train": 24, "valid": 3, "test": 3}
    ds = genzoo.data.load("celeba64", "valid", data_dir=root, download=False)
    assert ds.x.shape == (3, 3, 64, 64) and ds.x.dtype == torch.uint8 and ds.num_classes == 1
    assert ds.y.tolist() == [0, 0, 0] and ds.meta["attribute_names"] == CELEBA_ATTRIBUTES
    rows = _celeba_rows(where)
    want = torch.tensor([[v > 0 for v in rows[f"{i:06d}.jpg"]] for i in (25, 26, 27)], dtype=torch.int8)
    assert ds.meta["attributes"].dtype == torch.int8 and torch.equal(ds.meta["attributes"], want)
    assert ds.meta["source"]["how"] == "data_dir" and ds.meta["source"]["cache"] == str(cache_file(where))
    assert dataset_info("celeba64").attributes == CELEBA_ATTRIBUTES
    assert dataset_info("celeba64").splits == ("train", "valid", "test")

    # the 108x108 center crop (from row 55, column 35 of 178x218) resized to 64: an image green
    # inside that box and red outside comes out green
    from PIL import Image
    img = np.zeros((218, 178, 3), np.uint8)
    img[..., 0] = 255
    img[55:163, 35:143] = (0, 255, 0)
    Image.fromarray(img).save(where / "img_align_celeba" / "000001.jpg", quality=95)
    x = genzoo.data.load("celeba64", "train", data_dir=root, download=False).x[0].int()    # (3, 64, 64)
    assert (x[1, 1:-1, 1:-1] > 200).all() and (x[0, 1:-1, 1:-1] < 60).all()


def test_celeba64_hdf5_cache_is_written_once_reused_and_rebuilt_when_the_source_changes(tmp_path, cache):
    from PIL import Image
    root = write_celeba(tmp_path / "celebA", 12, seed=1)
    where = root / "celeba"
    h5 = cache_file(where)
    first = genzoo.data.load("celeba64", "train", data_dir=root, download=False)
    assert h5.is_file() and list(h5.parent.iterdir()) == [h5]
    made = _stat(h5)
    again = genzoo.data.load("celeba64", "train", data_dir=root, download=False)
    genzoo.data.load("celeba64", "test", data_dir=root, download=False)
    assert _stat(h5) == made and torch.equal(again.x, first.x)           # reused, not rebuilt

    jpg = where / "img_align_celeba" / "000002.jpg"                         # one image replaced
    Image.new("RGB", (178, 218), (255, 255, 255)).save(jpg, quality=95)
    os.utime(jpg, ns=(10**18, 10**18))                                      # an mtime of its own, whatever the clock
    changed = genzoo.data.load("celeba64", "train", data_dir=root, download=False)
    assert _stat(h5) != made and (changed.x[1] > 250).all() and torch.equal(changed.x[2:], first.x[2:])
    made = _stat(h5)

    Image.new("RGB", (178, 218), (0, 0, 0)).save(where / "img_align_celeba" / "000013.jpg")   # one image added
    with open(where / "list_eval_partition.txt", "a") as f:
        f.write("000013.jpg 0\n")
    text = (where / "list_attr_celeba.txt").read_text().splitlines()
    text[0] = "13"
    text.append("000013.jpg " + " ".join([" 1"] * 40))
    (where / "list_attr_celeba.txt").write_text("\n".join(text) + "\n")
    grown = genzoo.data.load("celeba64", "train", data_dir=root, download=False)
    assert _stat(h5) != made and len(grown) == len(first) + 1 and (grown.x[-1] < 5).all()
    assert grown.meta["attributes"][-1].tolist() == [1] * 40

    h5.write_bytes(b"not an HDF5 file")                                     # a broken cache: converted again
    assert torch.equal(genzoo.data.load("celeba64", "train", data_dir=root, download=False).x, grown.x)


def test_celeba64_a_failed_conversion_leaves_no_file(tmp_path, cache):
    root = write_celeba(tmp_path / "celebA", 8, seed=2)
    where = root / "celeba"
    h5 = cache_file(where)
    h5.parent.mkdir(parents=True)
    stale = h5.parent / f".{h5.name}.4999999.0123abcd.tmp"                 # a killed conversion's leftover
    stale.write_bytes(b"half")
    bad = where / "img_align_celeba" / "000005.jpg"
    bad.write_bytes(bad.read_bytes()[:300])                                 # a truncated JPEG
    with pytest.raises(DataError) as err:
        genzoo.data.load("celeba64", "train", data_dir=root, download=False)
    assert _one_line(err).startswith(f"{bad} cannot be decoded as an image")
    assert list(h5.parent.iterdir()) == []                                  # no half file, no temporary file


def test_celeba64_missing_and_bad_text_files(tmp_path, cache):
    root = write_celeba(tmp_path / "celebA", 6, seed=3)
    where = root / "celeba"
    (where / "list_eval_partition.txt").rename(where / "partition.bak")
    with pytest.raises(DataNotFoundError) as err:
        genzoo.data.load("celeba64", "test", data_dir=root, download=False)
    assert _one_line(err) == (f"data_dir={root}: no CelebA files there (looked for img_align_celeba/, "
                              f"list_eval_partition.txt and list_attr_celeba.txt in {root} and {where})")
    (where / "partition.bak").rename(where / "list_eval_partition.txt")
    attr = where / "list_attr_celeba.txt"
    lines = attr.read_text().splitlines()
    attr.write_text("\n".join(lines[:3] + [lines[3].replace(" 1", " 2", 1).replace("-1", " 2", 1)] + lines[4:]) + "\n")
    with pytest.raises(DataError) as err:
        genzoo.data.load("celeba64", "test", data_dir=root, download=False)
    assert _one_line(err).startswith(f"{attr} line 4 is ") and "40 values of -1 or 1" in str(err.value)
    (where / "img_align_celeba" / "000003.jpg").unlink()
    attr.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as err:
        genzoo.data.load("celeba64", "test", data_dir=root, download=False)
    assert _one_line(err).startswith(f"{where / 'img_align_celeba' / '000003.jpg'} is missing")


def test_celeba64_in_the_cache_in_torchvisions_layout(tmp_path, cache):
    write_celeba(cache, 5, seed=4)
    ds = genzoo.data.load("celeba64", "train", download=False)
    assert ds.meta["source"]["how"] == "genzoo cache" and ds.meta["source"]["folder"] == str(cache)
    assert ds.meta["source"]["cache"].startswith(str(cache_root() / "celeba64"))


# --------------------------------------------------------------------------- a folder of images

@pytest.mark.parametrize("size,channels", [(28, 1), (32, 3), (64, 3), (64, 1)])
def test_image_folder_with_class_subfolders(size, channels, tmp_path):
    files = write_image_folder(tmp_path / "pics", ["dog", "cat", "bird"], per_class=7,
                               sizes=[(50, 40), 28, (100, 70), 64], formats=["png", "jpeg"])
    assert {f.suffix for f in files} == {".png", ".jpg"}
    (tmp_path / "pics" / "notes.txt").write_text("not an image")
    train = genzoo.data.load("image-folder", "train", folder=tmp_path / "pics", size=size, channels=channels)
    test = genzoo.data.load("image-folder", "test", folder=tmp_path / "pics", size=size, channels=channels)
    assert train.x.shape == (19, channels, size, size) and test.x.shape == (2, channels, size, size)
    assert train.x.dtype == torch.uint8 and train.class_names == ("bird", "cat", "dog") and train.num_classes == 3
    in_order = sorted(files)                               # every 10th in sorted path order is a test image
    assert test.y.tolist() == [("bird", "cat", "dog").index(in_order[i].parent.name) for i in (9, 19)]
    assert torch.bincount(torch.cat([train.y, test.y])).tolist() == [7, 7, 7]
    assert test.meta["source"] == {"how": "folder", "folder": str(tmp_path / "pics"), "images": 2, "of": 21,
                                   "size": size, "channels": channels}
    if channels == 3:                                      # each class its own colour (tests/formats.py)
        means = torch.stack([as_float(train.x[train.y == k]).mean((0, 2, 3)) for k in range(3)])
        assert torch.cdist(means, means)[~torch.eye(3, dtype=torch.bool)].min() > 0.1


def test_image_folder_without_subfolders_is_one_class_and_resizes_then_crops(tmp_path):
    from PIL import Image
    folder = tmp_path / "mine"
    write_image_folder(folder, None, per_class=9, sizes=[32], formats=["jpeg"])
    img = np.zeros((40, 120, 3), np.uint8)                 # 120 wide, 40 high: red sides, a green middle square
    img[..., 0] = 255
    img[:, 40:80] = (0, 255, 0)
    Image.fromarray(img).save(folder / "wide.png")
    ds = genzoo.data.load("image-folder", "train", folder=folder, size=20)
    assert ds.num_classes == 1 and ds.class_names == ("mine",) and len(ds) == 9
    test = genzoo.data.load("image-folder", "test", folder=folder, size=20)
    assert len(test) == 1                                  # the 10th file, in sorted order: wide.png
    x = test.x[0].int()                                    # short side 40 -> 20, then the center 20x20
    assert (x[1] > 200).all() and (x[0, :, 1:-1] < 50).all()


def test_image_folder_errors_are_one_line(tmp_path):
    folder = tmp_path / "pics"
    files = write_image_folder(folder, ["a", "b"], per_class=6, sizes=[32], formats=["png"])
    files[3].write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(DataError) as err:
        genzoo.data.load("image-folder", "train", folder=folder)
    assert _one_line(err).startswith(f"{files[3]} cannot be read as an image")
    (folder / "c").mkdir()
    with pytest.raises(DataError) as err:
        genzoo.data.load("image-folder", "train", folder=folder)
    assert _one_line(err).startswith(f"image-folder: the class folder {folder / 'c'} holds no images")
    with pytest.raises(DataNotFoundError) as err:
        genzoo.data.load("image-folder", "train", folder=tmp_path / "nowhere")
    assert _one_line(err).startswith(f"image-folder: {tmp_path / 'nowhere'} is not a folder")
    shutil.rmtree(folder)
    write_image_folder(folder, None, per_class=5, sizes=[32], formats=["png"])
    with pytest.raises(DataError, match="its test split .* is empty"):
        genzoo.data.load("image-folder", "test", folder=folder)
    for bad in ({"size": 0}, {"size": 2.5}, {"channels": 4}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            genzoo.data.load("image-folder", "train", folder=folder, **bad)
    with pytest.raises(ValueError, match="needs folder="):
        genzoo.data.load("image-folder")


# --------------------------------------------------------------------------- the registry, uint8

def test_list_datasets_lists_the_new_loaders_with_their_shapes():
    listed = genzoo.data.list_datasets()
    assert {k: listed[k] for k in ("mnist", "stacked-mnist", "cifar10", "celeba64", "image-folder")} == {
        "mnist": (1, 28, 28), "stacked-mnist": (3, 28, 28), "cifar10": (3, 32, 32), "celeba64": (3, 64, 64),
        "image-folder": None}
    assert list(listed) == sorted(listed)
    for name, evaluator, literature in (("mnist", "mnist", "lucic-mnist"), ("cifar10", "cifar10", "lucic-cifar10"),
                                        ("celeba64", "celeba64", "lucic-celeba"), ("image-folder", "", "")):
        info = dataset_info(name)
        assert (info.evaluator, info.literature, info.claims) == (evaluator, literature, ("images",))
    assert dataset_info("celeba64").num_classes == 1 and dataset_info("image-folder").shape_text().startswith("(C,")


def test_a_dataset_of_uint8_images_works_as_a_float_one():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (20, 3, 8, 8), generator=g, dtype=torch.uint8)
    y = torch.arange(20) % 4
    ds = genzoo.data.Dataset("u8", x, y, 4, tuple("abcd"))
    assert ds.kind == "image" and ds.shape == (3, 8, 8) and ds.value_range() == (float(x.min()), float(x.max()))
    sub = ds.subset(5, seed=1)
    assert sub.x.dtype == torch.uint8 and len(sub) == 5
    assert torch.equal(ds.of_class(2).x, x[y == 2])
    f = as_float(ds.x)
    assert f.dtype == torch.float32 and torch.equal(f, x.float() / 255) and torch.equal(as_float(f), f)
    assert torch.equal(as_float(ds.x[:7]), f[:7])          # a batch converted alone: the same bits


def test_a_bad_file_in_genzoos_cache_is_removed_not_read(tmp_path, cache):
    write_cifar10(cache, 10, 10, seed=0)
    bad = cache / "cifar-10-batches-py" / "test_batch"
    bad.write_bytes(b"\x80\x02garbage")
    with pytest.warns(UserWarning, match="removed .*test_batch from genzoo's cache: it is truncated or corrupt"):
        with pytest.raises(DataNotFoundError) as err:
            genzoo.data.load("cifar10", "test", download=False)
    assert _one_line(err).startswith(f"CIFAR-10 not found (looked in: {cache}). Download and unpack")
    assert not bad.exists() and (cache / "cifar-10-batches-py" / "data_batch_1").exists()


@pytest.mark.parametrize("kind", ["digits", "shapes", "colour"])
def test_the_written_classes_can_be_learned(kind, tmp_path):
    """tests/formats.py's images carry their class: a linear classifier trained for 100 steps on
    400 of them tells the classes of 100 others (so an evaluator has something to learn)."""
    if kind == "colour":
        root = write_cifar10(tmp_path, 80, 100, seed=0)
        train, test = (genzoo.data.load("cifar10", s, data_dir=root, download=False) for s in ("train", "test"))
    else:
        root = write_idx_dataset(tmp_path, 400, 100, seed=0, digits=kind == "digits")
        train, test = (genzoo.data.load("mnist", s, data_dir=root, download=False) for s in ("train", "test"))
    torch.manual_seed(0)
    x = as_float(train.x).flatten(1)                                          # (400, D)
    lin = torch.nn.Linear(x.shape[1], 10)
    opt = torch.optim.Adam(lin.parameters(), lr=1e-2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)                  # a tiny model: threads would only wait on each other
    try:
        for _ in range(100):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(lin(x), train.y).backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    with torch.no_grad():
        guess = lin(as_float(test.x).flatten(1)).argmax(1)
    assert (guess == test.y).float().mean() > 0.9
