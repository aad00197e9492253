"""The in-memory dataset every genzoo model fits and every metric scores against."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch


def as_float(x: torch.Tensor) -> torch.Tensor:
    """Images as float32 in [0, 1]: uint8 pixels (0..255) divided by 255, exactly as the loaders
    always converted them (so a batch converted alone equals the same items of the whole set
    converted at once, bit for bit); any other tensor as it is. The one conversion genzoo uses
    wherever stored images meet a network (a training batch, a scoring batch, a figure)."""
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x


@dataclass(frozen=True)
class Dataset:
    """A whole dataset held as two tensors.

    ``x`` is either images ``(N, C, H, W)``, uint8 (0..255, as the image loaders keep them:
    :func:`as_float` converts a batch) or float32 in [0, 1], or points ``(N, D)`` float32;
    ``y`` is a LongTensor ``(N,)`` holding the class (images) or mixture component (points).
    ``meta`` carries what a metric needs to know about the generating process (for the 2-D
    mixtures: ``means`` and ``std``).
    """

    name: str
    x: torch.Tensor
    y: torch.Tensor
    num_classes: int
    class_names: tuple[str, ...]
    split: str = "train"
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        if not isinstance(self.x, torch.Tensor) or not isinstance(self.y, torch.Tensor):
            raise ValueError(f"x and y must be tensors, got {type(self.x).__name__} and {type(self.y).__name__}")
        if self.y.dim() != 1:
            raise ValueError(f"y must be a LongTensor of shape (N,), got shape {tuple(self.y.shape)}")
        if isinstance(self.num_classes, bool) or not isinstance(self.num_classes, int) or self.num_classes < 1:
            raise ValueError(f"num_classes must be an integer >= 1, got {self.num_classes!r}")
        if self.x.shape[0] != self.y.shape[0]:
            raise ValueError(f"x has {self.x.shape[0]} items but y has {self.y.shape[0]}")
        if self.x.dim() not in (2, 4):
            raise ValueError(f"x must be images (N, C, H, W) or points (N, D), got shape {tuple(self.x.shape)}")
        if self.y.dtype != torch.long:
            raise ValueError(f"y must be a LongTensor, got {self.y.dtype}")

    def __len__(self) -> int:
        return self.x.shape[0]

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, split={self.split!r}, x={tuple(self.x.shape)}, "
                f"num_classes={self.num_classes})")

    @property
    def kind(self) -> str:
        """``"image"`` or ``"points"``."""
        return "image" if self.x.dim() == 4 else "points"

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one item: ``(C, H, W)`` or ``(D,)``."""
        return tuple(self.x.shape[1:])

    def value_range(self) -> tuple[float, float]:
        """The smallest and largest value of ``x`` (NaN, NaN when it has no items or holds a NaN)."""
        if self.x.numel() == 0:
            return math.nan, math.nan
        x = self.x if self.x.dtype != torch.bool else self.x.to(torch.uint8)
        lo, hi = torch.aminmax(x)
        return float(lo), float(hi)

    def subset(self, n: int, seed: int = 0) -> "Dataset":
        """A random subset of ``n`` distinct items, the same for the same seed."""
        if not 0 < n <= len(self):
            raise ValueError(f"subset size must be in 1..{len(self)}, got {n}")
        g = torch.Generator().manual_seed(seed)
        idx = torch.randperm(len(self), generator=g)[:n]
        return replace(self, x=self.x[idx], y=self.y[idx])

    def of_class(self, k: int) -> "Dataset":
        """The items whose label is ``k``."""
        keep = self.y == k
        return replace(self, x=self.x[keep], y=self.y[keep])
