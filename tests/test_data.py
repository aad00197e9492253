"""Datasets: real Fashion-MNIST found offline, its stacked variant, the 2-D mixtures."""

from __future__ import annotations

import functools
import gzip
import shutil

import pytest
import torch

import genzoo
from genzoo.data import fashion
from genzoo.data.fashion import DEBIAN_DIR
from genzoo.errors import DataError, UserError


@functools.lru_cache(maxsize=None)
def _real(name: str) -> bytes:
    """The unpacked bytes of one of Debian's idx files (e.g. ``t10k-labels-idx1-ubyte``)."""
    return gzip.decompress((DEBIAN_DIR / f"{name}.gz").read_bytes())


def _temp_files(*folders) -> list:
    return [p for f in folders if f.exists() for p in f.rglob("*") if "tmp" in p.name]


def test_fashion_mnist_from_the_debian_folder(fashion_train):
    test = genzoo.data.load("fashion-mnist", split="test")
    assert fashion_train.x.shape == (60_000, 1, 28, 28) and test.x.shape == (10_000, 1, 28, 28)
    assert fashion_train.x.dtype == torch.uint8 and fashion_train.x.max() == 255      # as stored: 0..255
    assert torch.equal(genzoo.data.as_float(test.x[:100]), test.x[:100].float() / 255)   # the one conversion
    assert torch.bincount(fashion_train.y).tolist() == [6000] * 10   # the real split is balanced
    assert fashion_train.class_names[9] == "Ankle boot" and fashion_train.num_classes == 10
    assert fashion_train.kind == "image" and fashion_train.shape == (1, 28, 28)


def test_data_dir_option_and_env_var(tmp_path, monkeypatch, fashion_train):
    folder = tmp_path / "fm"
    shutil.copytree(DEBIAN_DIR, folder)
    monkeypatch.setattr(fashion, "DEBIAN_DIR", tmp_path / "nowhere")
    monkeypatch.setenv("GENZOO_CACHE", str(tmp_path / "cache"))
    a = genzoo.data.load("fashion-mnist", split="test", data_dir=folder, download=False)
    monkeypatch.setenv("GENZOO_DATA", str(folder))
    b = genzoo.data.load("fashion-mnist", split="test", download=False)
    assert torch.equal(a.x, b.x) and len(a) == 10_000


def test_missing_data_names_every_place_looked(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion, "DEBIAN_DIR", tmp_path / "debian")
    monkeypatch.setenv("GENZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GENZOO_DATA", raising=False)
    with pytest.raises(genzoo.data.DataNotFoundError) as err:
        genzoo.data.load("fashion-mnist", download=False)
    msg = str(err.value)
    for place in ("cache", "debian"):
        assert str(tmp_path / place) in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "GENZOO_DATA" in msg
    assert isinstance(err.value, DataError) and isinstance(err.value, FileNotFoundError)


def _idx_folder(folder, *splits, gz: bool = True):
    """``folder`` holding the real idx files of ``splits`` (test: Debian's; train: a header and
    60,000 items cut from the test files, in the real IDX format), plain or ``.gz``."""
    folder.mkdir(parents=True, exist_ok=True)
    for split in splits:
        for kind, magic, item in (("images", 0x803, 784), ("labels", 0x801, 1)):
            real = _real(f"t10k-{kind}-idx{3 if kind == 'images' else 1}-ubyte")
            body = real[16 if kind == "images" else 8:]
            if split == "train":
                body = (body * 6)[:60_000 * item]
            dims = (60_000 if split == "train" else 10_000,) + ((28, 28) if kind == "images" else ())
            data = _header(magic, *dims) + body
            name = f"{'train' if split == 'train' else 't10k'}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
            if gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(data, compresslevel=1))
            else:
                (folder / name).write_bytes(data)
    return folder


@pytest.mark.parametrize("how", ["GENZOO_DATA", "data_dir"])
@pytest.mark.parametrize("case", ["missing", "empty", "test-only"])
def test_a_named_folder_without_the_split_is_an_error_not_another_copy(how, case, tmp_path, monkeypatch):
    """GENZOO_DATA (or data_dir=) naming a folder that lacks the split never falls back to the
    cache or Debian's copy (both hold it here): a one-line error says what is missing and where."""
    cache = _idx_folder(tmp_path / "cache" / "FashionMNIST" / "raw", "train", "test")
    monkeypatch.setenv("GENZOO_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "mine"
    if case == "empty":
        folder.mkdir()
    elif case == "test-only":
        _idx_folder(folder, "test")
    kw = {"data_dir": folder} if how == "data_dir" else {}
    if how == "GENZOO_DATA":
        monkeypatch.setenv("GENZOO_DATA", str(folder))
    else:
        monkeypatch.setenv("GENZOO_DATA", str(cache))     # data_dir= wins over it, and alone
    with pytest.raises(genzoo.data.DataNotFoundError) as err:
        genzoo.data.load("fashion-mnist", split="train", download=False, **kw)
    msg = str(err.value)
    assert msg.startswith(f"{how}={folder}: no Fashion-MNIST train files there (") and "\n" not in msg
    assert (f"looked for train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] in {folder} and "
            f"{folder / 'FashionMNIST' / 'raw'})") in msg
    assert {"missing": f"{folder} is not a folder", "empty": "(looked for",
            "test-only": "it holds the test files only"}[case] in msg
    assert isinstance(err.value, DataError)
    if case == "test-only":                                 # the split it has loads, from there
        ds = genzoo.data.load("fashion-mnist", split="test", download=False, **kw)
        assert ds.meta["source"] == {"how": how, "folder": str(folder),
                                     "files": [str(folder / f"{f}.gz") for f in (_IMG, _LAB)]}


def test_the_source_is_recorded_and_an_unnamed_one_announced_once(tmp_path, monkeypatch, caplog):
    """Without GENZOO_DATA or data_dir=: genzoo's cache, then Debian's copy, each announced in one
    line the first time it is used, and named in the dataset's meta["source"]."""
    debian = _idx_folder(tmp_path / "debian", "test")
    raw = _idx_folder(tmp_path / "cache" / "FashionMNIST" / "raw", "train", gz=False)
    monkeypatch.setattr(fashion, "DEBIAN_DIR", debian)
    monkeypatch.setattr(fashion, "_ANNOUNCED", set())
    monkeypatch.setenv("GENZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GENZOO_DATA", raising=False)
    with caplog.at_level("WARNING", logger="genzoo.data"):
        for _ in range(2):
            test = genzoo.data.load("fashion-mnist", split="test", download=False)
            train = genzoo.data.load("fashion-mnist", split="train", download=False)
    assert test.meta["source"] == {"how": "Debian package", "folder": str(debian),
                                   "files": [str(debian / f"{f}.gz") for f in (_IMG, _LAB)]}
    assert train.meta["source"] == {"how": "genzoo cache", "folder": str(tmp_path / "cache"),
                                    "files": [str(raw / "train-images-idx3-ubyte"), str(raw / "train-labels-idx1-ubyte")]}
    lines = [r.getMessage() for r in caplog.records if r.name == "genzoo.data"]
    assert len(lines) == 2 and all("\n" not in m and "no GENZOO_DATA or data_dir= given" in m for m in lines)
    assert f"Debian's dataset-fashion-mnist package, {debian}" in lines[0]
    assert f"genzoo's cache, {tmp_path / 'cache'}" in lines[1]
    st = genzoo.data.load("stacked-fashion-mnist", split="test", n=10, download=False)
    assert st.meta["source"]["files"] == test.meta["source"]["files"] and st.meta["source"]["stacked"] == {
        "n": 10, "seed": 0}


def test_truncated_gz_in_genzoo_data_names_the_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    folder, cache = tmp_path / "fm", tmp_path / "cache"
    shutil.copytree(DEBIAN_DIR, folder)
    bad = folder / "train-images-idx3-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    monkeypatch.setenv("GENZOO_CACHE", str(cache))
    monkeypatch.setenv("GENZOO_DATA", str(folder))   # Debian's intact copy comes later: never silently used
    with pytest.raises(DataError) as err:
        genzoo.data.load("fashion-mnist", split="train", download=False)
    msg = str(err.value)
    assert isinstance(err.value, UserError) and not isinstance(err.value, FileNotFoundError)
    assert f"{bad} is truncated or corrupt" in msg and "GENZOO_DATA" in msg and "\n" not in msg
    assert bad.exists()                              # the user's file is theirs: reported, not removed
    assert _temp_files(folder, cache) == []


def test_bad_file_in_the_cache_is_removed_and_the_next_folder_is_read(tmp_path, monkeypatch):
    raw = tmp_path / "cache" / "FashionMNIST" / "raw"   # as an older genzoo left it: unpacked copies
    raw.mkdir(parents=True)
    for f in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        shutil.copy(DEBIAN_DIR / f"{f}.gz", raw)
    (raw / "t10k-images-idx3-ubyte").write_bytes(_real("t10k-images-idx3-ubyte")[:3_000_000])
    (raw / "t10k-labels-idx1-ubyte").write_bytes(_real("t10k-labels-idx1-ubyte"))
    stale = raw / "t10k-images-idx3-ubyte.tmp4999999"   # a failed unpack's leftover, its pid long gone
    stale.write_bytes(b"x")
    monkeypatch.setenv("GENZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GENZOO_DATA", raising=False)
    with pytest.warns(UserWarning, match="removed .*t10k-images-idx3-ubyte.*truncated"):
        ds = genzoo.data.load("fashion-mnist", split="test", download=False)
    want = genzoo.data.load("fashion-mnist", split="test", data_dir=DEBIAN_DIR, download=False)
    assert torch.equal(ds.x, want.x) and torch.equal(ds.y, want.y) and len(ds) == 10_000
    assert not (raw / "t10k-images-idx3-ubyte").exists() and (raw / "t10k-labels-idx1-ubyte").exists()
    assert not stale.exists()


def test_genzoo_data_wins_over_a_filled_cache(tmp_path, monkeypatch):
    raw, env = tmp_path / "cache" / "FashionMNIST" / "raw", tmp_path / "env"
    raw.mkdir(parents=True)
    env.mkdir()
    for f in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        shutil.copy(DEBIAN_DIR / f"{f}.gz", raw)
        shutil.copy(DEBIAN_DIR / f"{f}.gz", env)
    for f in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / f).write_bytes(_real(f))
    shutil.copy(DEBIAN_DIR / "t10k-labels-idx1-ubyte.gz", env)
    images = bytearray(_real("t10k-images-idx3-ubyte"))
    images[16:16 + 784] = bytes(255 - b for b in images[16:16 + 784])   # the first image inverted
    (env / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(images), compresslevel=1))
    monkeypatch.setattr(fashion, "DEBIAN_DIR", tmp_path / "nowhere")
    monkeypatch.setenv("GENZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GENZOO_DATA", raising=False)
    cached = genzoo.data.load("fashion-mnist", split="test", download=False)   # the cache's (real) copy
    monkeypatch.setenv("GENZOO_DATA", str(env))
    mine = genzoo.data.load("fashion-mnist", split="test", download=False)
    assert torch.equal(mine.x[0], 255 - cached.x[0]) and not torch.equal(mine.x[0], cached.x[0])
    assert torch.equal(mine.x[1:], cached.x[1:]) and torch.equal(mine.y, cached.y)
    assert torch.equal(genzoo.data.load("fashion-mnist", split="test", data_dir=raw.parent.parent,
                                        download=False).x, cached.x)   # data_dir= beats GENZOO_DATA


def _header(magic: int, *dims: int) -> bytes:
    return b"".join(v.to_bytes(4, "big") for v in (magic, *dims))


_IMG, _LAB = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
_BAD_IDX = {  # case: (file spoiled, its new content from the real bytes, what the message says)
    "magic": (_LAB, lambda b: _header(0x803, 10_000) + b[8:], "magic number 0x00000803, expected 0x00000801"),
    "item-count": (_IMG, lambda b: _header(0x803, 9_999, 28, 28) + b[16:-784], "holds 9999 images, expected 10000"),
    "image-shape": (_IMG, lambda b: _header(0x803, 10_000, 14, 56) + b[16:], "shape (14, 56), expected (28, 28)"),
    "truncated": (_LAB, lambda b: b[:-10], "is truncated"),
    "extra-bytes": (_IMG, lambda b: b + b"\0" * 5, "has 5 bytes after its 10000 images"),
    "label-range": (_LAB, lambda b: b[:8 + 123] + b"\x0a" + b[8 + 124:], "label 10 at item 123"),
}


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("case", list(_BAD_IDX))
def test_bad_idx_file_is_a_data_error_naming_it(case, gz, tmp_path, monkeypatch):
    name, spoil, why = _BAD_IDX[case]
    folder = tmp_path / "fm"
    folder.mkdir()
    for f in (_IMG, _LAB):
        data = spoil(_real(f)) if f == name else _real(f)
        if gz:
            (folder / f"{f}.gz").write_bytes(gzip.compress(data, compresslevel=1))
        else:
            (folder / f).write_bytes(data)
    monkeypatch.setenv("GENZOO_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DataError) as err:
        genzoo.data.load("fashion-mnist", split="test", data_dir=folder, download=False)
    msg = str(err.value)
    assert msg.startswith(f"{folder / name}{'.gz' if gz else ''} ") and why in msg and "\n" not in msg
    assert not isinstance(err.value, genzoo.data.DataNotFoundError)


def test_unknown_dataset_and_split():
    with pytest.raises(ValueError, match="unknown dataset 'emnist'.*fashion-mnist"):
        genzoo.data.load("emnist")
    with pytest.raises(ValueError, match="split"):
        genzoo.data.load("ring", split="val")


def test_stacked_channels_are_independent_images_with_their_labels(fashion_train):
    st = genzoo.data.load("stacked-fashion-mnist", n=200, seed=0)
    assert st.x.shape == (200, 3, 28, 28) and st.num_classes == 1000
    flat = fashion_train.x.flatten(1)
    for i in range(5):
        digits = []
        for c in range(3):
            match = (flat == st.x[i, c].flatten()).all(1).nonzero().flatten()
            assert len(match) >= 1
            digits.append(fashion_train.y[match[0]].item())
        assert st.y[i].item() == 100 * digits[0] + 10 * digits[1] + digits[2]
    assert torch.equal(st.x, genzoo.data.load("stacked-fashion-mnist", n=200, seed=0).x)


@pytest.mark.parametrize("name,k,std", [("ring", 8, 0.01), ("grid", 25, 0.05)])
def test_mixtures_follow_the_pacgan_layouts(name, k, std):
    ds = genzoo.data.load(name, n=50_000)
    means = ds.meta["means"]
    assert means.shape == (k, 2) and ds.meta["std"] == std and ds.num_classes == k
    resid = ds.x - means[ds.y]
    assert abs(resid.std().item() - std) < 0.05 * std
    assert set(ds.y.unique().tolist()) == set(range(k))
    if name == "ring":
        assert torch.allclose(means.norm(dim=1), torch.ones(k), atol=1e-6)
    else:
        assert set(means.flatten().tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}


@pytest.mark.parametrize("name", ["ring", "grid", "pattern-1010"])
@pytest.mark.parametrize("option, value, why", [("n", 0, "at least 2 items"), ("n", 1, "at least 2 items"),
                                                ("n", -5, "at least 2 items"), ("n", 2.5, "integer"),
                                                ("n", True, "integer"), ("n", "100", "integer"),
                                                ("seed", -1, "seed must be an integer from 0"),
                                                ("seed", 1.5, "seed must be an integer from 0")])
def test_generated_sets_refuse_sizes_below_two_and_bad_seeds(name, option, value, why):
    with pytest.raises(ValueError, match=why):
        genzoo.data.load(name, **{option: value})
    ds = genzoo.data.load(name, n=2, seed=0)
    assert len(ds) == 2 and ds.meta["source"] == {"how": "generated", "n": 2, "seed": 0,
                                                  "by": ds.meta["source"]["by"]}


def test_subset_is_seeded_and_distinct(fashion_small, fashion_train):
    a, b = fashion_train.subset(100, seed=1), fashion_train.subset(100, seed=1)
    assert torch.equal(a.x, b.x) and not torch.equal(a.x, fashion_train.subset(100, seed=2).x)
    assert len(fashion_train.x[:0]) == 0 and len(a) == 100
    with pytest.raises(ValueError, match="subset size"):
        fashion_small.subset(10**6)


def test_pattern_1010_is_the_books_four_values():
    d = genzoo.data.load("pattern-1010")
    lo, hi = d.x.min(0).values, d.x.max(0).values
    assert d.x.shape == (10_000, 4) and d.kind == "points" and d.num_classes == 1
    assert (lo >= torch.tensor([0.8, 0.0, 0.8, 0.0])).all() and (hi <= torch.tensor([1.0, 0.2, 1.0, 0.2])).all()
    assert torch.equal(genzoo.data.load("pattern-1010", n=50).x, genzoo.data.load("pattern-1010", n=50).x)
    assert not torch.equal(genzoo.data.load("pattern-1010", "test", n=50).x, genzoo.data.load("pattern-1010", n=50).x)
    with pytest.raises(ValueError, match="need the mixture's"):
        genzoo.metrics.score(d.x[:100], d, ["modes_covered"])
    assert set(genzoo.metrics.score(d.x[:200], d, progress=False)) == {"precision", "recall"}
