"""The 2-D Gaussian mixtures of the PacGAN / VEEGAN mode-collapse experiments, and the 4-value
``1010`` pattern of the smallest GAN of Rashid's "Make Your First GAN With PyTorch"."""

from __future__ import annotations

import math

import torch

from ..limits import MIN_ITEMS, check_seed
from ._api import DatasetInfo, register_dataset
from .dataset import Dataset

def check_size(n, what: str = "n") -> int:
    """``n`` as an int of at least :data:`MIN_ITEMS` items, or ValueError naming ``what``."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"{what} must be an integer number of items >= {MIN_ITEMS}, got {n!r}")
    if n < MIN_ITEMS:
        raise ValueError(f"{what} must be at least {MIN_ITEMS} items (a dataset of fewer can be neither "
                         f"fitted nor scored), got {n}")
    return int(n)


def _generated(loader: str, n: int, seed: int) -> dict:
    """A generated dataset's ``meta["source"]``: what made it (a run record keeps it)."""
    return {"how": "generated", "by": f"genzoo.data.{loader}", "n": n, "seed": seed}


def ring_means(k: int = 8, radius: float = 1.0) -> torch.Tensor:
    angles = torch.arange(k, dtype=torch.float64) * (2 * math.pi / k)
    return (radius * torch.stack([angles.cos(), angles.sin()], dim=1)).float()   # (k, 2)


def grid_means() -> torch.Tensor:
    ticks = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
    return torch.cartesian_prod(ticks, ticks)                                      # (25, 2)


LAYOUTS = {"ring": (ring_means, 0.01), "grid": (grid_means, 0.05)}


def load_mixture(name: str, split: str = "train", n: int | None = None, seed: int = 0) -> Dataset:
    """``n`` points (default 100,000 for train, 10,000 for test) of the ring or grid mixture; ``n``
    below 2, or a seed that is not a non-negative integer, raises ValueError."""
    means_fn, std = LAYOUTS[name]
    means = means_fn()
    n = check_size((100_000 if split == "train" else 10_000) if n is None else n)
    seed = check_seed(seed)
    g = torch.Generator().manual_seed(seed + (0 if split == "train" else 1))
    y = torch.randint(len(means), (n,), generator=g)
    x = means[y] + std * torch.randn(n, 2, generator=g)                           # (n, 2)
    names = tuple(f"mode {i}" for i in range(len(means)))
    return Dataset(name, x, y, len(means), names, split,
                   meta={"means": means, "std": std, "source": _generated("toy.load_mixture", n, seed)})


POINT_METRICS = ("modes_covered", "high_quality", "precision", "recall")


@register_dataset(DatasetInfo(
    name="ring", kind="points", shape=(2,), num_classes=8, class_names=tuple(f"mode {i}" for i in range(8)),
    description="8 Gaussians (std 0.01) on the unit circle (PacGAN, VEEGAN)", modes=8, mode_count="points",
    metrics=POINT_METRICS, n_samples=2_500, options=("n", "seed"), claims=("modes",), literature="mixtures"))
def load_ring(split: str = "train", n: int | None = None, seed: int = 0) -> Dataset:
    return load_mixture("ring", split, n, seed)


@register_dataset(DatasetInfo(
    name="grid", kind="points", shape=(2,), num_classes=25, class_names=tuple(f"mode {i}" for i in range(25)),
    description="25 Gaussians (std 0.05) on a 5x5 grid (PacGAN, VEEGAN)", modes=25, mode_count="points",
    metrics=POINT_METRICS, n_samples=2_500, options=("n", "seed"), claims=("modes",), literature="mixtures"))
def load_grid(split: str = "train", n: int | None = None, seed: int = 0) -> Dataset:
    return load_mixture("grid", split, n, seed)


PATTERN = (1.0, 0.0, 1.0, 0.0)


@register_dataset(DatasetInfo(
    name="pattern-1010", kind="points", shape=(4,), num_classes=1, class_names=("1010",),
    description="the 4-value 1010 pattern of Rashid's first GAN: the GAN equilibrium",
    metrics=("precision", "recall"), n_samples=1_000, options=("n", "seed"), claims=("equilibrium",)))
def load_pattern(split: str = "train", n: int | None = None, seed: int = 0) -> Dataset:
    """The ``1010`` pattern: 4 values, each within 0.2 of 1, 0, 1, 0 (uniform noise), one class.
    A GAN at equilibrium on it has D(x) = D(G(z)) = 1/2 and losses of ln 2 (BCE) or 1/4 (MSE)."""
    n = check_size((10_000 if split == "train" else 2_000) if n is None else n)
    seed = check_seed(seed)
    g = torch.Generator().manual_seed(seed + (0 if split == "train" else 1))
    pattern = torch.tensor(PATTERN)
    x = pattern * 0.8 + 0.2 * torch.rand(n, 4, generator=g)                     # 1 -> [0.8, 1], 0 -> [0, 0.2]
    return Dataset("pattern-1010", x, torch.zeros(n, dtype=torch.long), 1, ("1010",), split,
                   meta={"pattern": pattern, "noise": 0.2, "source": _generated("toy.load_pattern", n, seed)})
