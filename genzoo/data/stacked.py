"""Stacked datasets (VEEGAN / PacGAN's Stacked MNIST): three independent random items of a
10-class grayscale dataset as the channels of one item, 1,000 modes."""

from __future__ import annotations

import torch

from ..limits import check_seed
from .dataset import Dataset
from .toy import check_size

# the label of a stacked item is 100 * a + 10 * b + c for channel classes a, b, c
STACKED_NAMES = tuple(f"{a}|{b}|{c}" for a in range(10) for b in range(10) for c in range(10))
STACKED_METRICS = ("modes_covered", "mode_kl", "fid", "kid", "sharpness")


def stack_channels(base: Dataset, name: str, n: int | None = None, seed: int = 0) -> Dataset:
    """``n`` items (default: as many as ``base`` holds), each stacking three independent random
    items of ``base`` (1-channel images of 10 classes) as its channels, drawn with ``seed`` (the
    test split with ``seed + 1``): label ``100*c0 + 10*c1 + c2``. ``x`` keeps ``base``'s dtype."""
    n = None if n is None else check_size(n)
    seed = check_seed(seed)
    if base.num_classes != 10 or base.kind != "image" or base.shape[0] != 1:
        raise ValueError(f"stacking needs 1-channel images of 10 classes, got {base!r}")
    n = len(base) if n is None else n
    g = torch.Generator().manual_seed(seed + (0 if base.split == "train" else 1))
    idx = torch.randint(len(base), (n, 3), generator=g)                  # (n, 3)
    x = base.x[idx.flatten(), 0].view(n, 3, *base.shape[1:])           # (n, 3, H, W)
    yc = base.y[idx]                                                   # (n, 3)
    y = 100 * yc[:, 0] + 10 * yc[:, 1] + yc[:, 2]
    return Dataset(name, x.contiguous(), y, 1000, STACKED_NAMES, base.split,
                   meta={"channel_classes": 10,
                         "source": {**base.meta["source"], "stacked": {"n": n, "seed": seed}}})
