"""Datasets: real Fashion-MNIST found offline, its stacked variant, the 2-D mixtures."""

from __future__ import annotations

import shutil

import pytest
import torch

import genzoo
from genzoo.data import fashion
from genzoo.data.fashion import DEBIAN_DIR


def test_fashion_mnist_from_the_debian_folder(fashion_train):
    test = genzoo.data.load("fashion-mnist", split="test")
    assert fashion_train.x.shape == (60_000, 1, 28, 28) and test.x.shape == (10_000, 1, 28, 28)
    assert fashion_train.x.dtype == torch.float32 and 0 <= fashion_train.x.min() and fashion_train.x.max() == 1
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
    monkeypatch.setenv("GENZOO_DATA", str(tmp_path / "env"))
    with pytest.raises(genzoo.data.DataNotFoundError) as err:
        genzoo.data.load("fashion-mnist", data_dir=tmp_path / "opt", download=False)
    msg = str(err.value)
    for place in ("opt", "env", "cache", "debian"):
        assert str(tmp_path / place) in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "GENZOO_DATA" in msg


def test_unknown_dataset_and_split():
    with pytest.raises(ValueError, match="unknown dataset 'mnist'.*fashion-mnist"):
        genzoo.data.load("mnist")
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


def test_subset_is_seeded_and_distinct(fashion_small, fashion_train):
    a, b = fashion_train.subset(100, seed=1), fashion_train.subset(100, seed=1)
    assert torch.equal(a.x, b.x) and not torch.equal(a.x, fashion_train.subset(100, seed=2).x)
    assert len(fashion_train.x[:0]) == 0 and len(a) == 100
    with pytest.raises(ValueError, match="subset size"):
        fashion_small.subset(10**6)
