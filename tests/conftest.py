"""Shared fixtures: small real and generated data, and a private cache folder for every test run."""

from __future__ import annotations

import pytest
import torch

import genzoo
from genzoo.data import Dataset


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Keep genzoo's cache (unpacked data, reference statistics) out of the user's home."""
    mp = pytest.MonkeyPatch()
    mp.setenv("GENZOO_CACHE", str(tmp_path_factory.mktemp("genzoo-cache")))
    mp.setenv("WANDB_MODE", "offline")
    mp.setenv("WANDB_SILENT", "true")
    yield
    mp.undo()


@pytest.fixture(scope="session")
def fashion_train() -> Dataset:
    """Real Fashion-MNIST from Debian's dataset-fashion-mnist (or GENZOO_DATA)."""
    return genzoo.data.load("fashion-mnist", split="train")


@pytest.fixture(scope="session")
def fashion_small(fashion_train) -> Dataset:
    return fashion_train.subset(512, seed=0)


def bars(n: int, seed: int = 0, channels: int = 1) -> Dataset:
    """A 2-class synthetic image set: class 0 a horizontal bar, class 1 a vertical bar, 4 pixels
    thick at a random position, on a black 28x28 background."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(2, (n,), generator=g)
    pos = torch.randint(4, 20, (n,), generator=g)
    x = torch.zeros(n, channels, 28, 28)
    for i in range(n):
        if y[i] == 0:
            x[i, :, pos[i]:pos[i] + 4, :] = 1.0
        else:
            x[i, :, :, pos[i]:pos[i] + 4] = 1.0
    return Dataset("bars", x, y, 2, ("horizontal", "vertical"))


def bar_class(x: torch.Tensor) -> torch.Tensor:
    """0 for images whose energy varies across rows (horizontal bar), 1 across columns."""
    img = x.mean(1)                                                         # (N, 28, 28)
    return (img.mean(1).var(1) > img.mean(2).var(1)).long()                 # column-profile var > row-profile var


@pytest.fixture(scope="session")
def bars_data() -> Dataset:
    return bars(512)


@pytest.fixture(scope="session")
def ring_data() -> Dataset:
    return genzoo.data.load("ring", n=20_000)
