"""The evaluator network: a small CNN classifier of images of one size, built from that size.

The same network scores every image dataset that has an evaluator: the shipped Fashion-MNIST one
(1x28x28, exactly the architecture and the outputs it always had), and those trained on first use
for MNIST (1x28x28), CIFAR-10 (3x32x32) and CelebA 64x64 (3x64x64, 40 attribute outputs).
"""

from __future__ import annotations

import torch
from torch import nn

from ...data import as_float

# Fashion-MNIST train-split pixel mean and std: inputs are standardised inside the network,
# so callers always pass images in [0, 1]. Other evaluators keep their training split's own.
PIXEL_MEAN = 0.2860
PIXEL_STD = 0.3530
# a block halves the image while it is larger than this: 28 -> 14 -> 7, 32 -> 16 -> 8, 64 -> ... -> 8
_SMALLEST = 8


def _conv_block(c_in: int, c_out: int, pool: bool = True) -> list[nn.Module]:
    # 3x3 conv (same size) -> BN -> ReLU [-> 2x2 max-pool, halving H and W]
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True)] + ([nn.MaxPool2d(2)] if pool else [])


def halvings(size: int) -> int:
    """How many 2x2 poolings take an image of ``size`` pixels down to at most 8 (28: 2, to 7;
    32: 2, to 8; 64: 3, to 8)."""
    n = 0
    while size > _SMALLEST:
        size //= 2
        n += 1
    return n


class EvaluatorCNN(nn.Module):
    """Conv blocks of width ``width * 2**i`` halving the image until it is at most 8 pixels (28 ->
    14 -> 7: three blocks, the last one keeping the size), a ``num_features``-d penultimate layer
    and ``num_classes`` outputs: class logits, or with ``multilabel`` one logit per binary
    attribute (a sigmoid each; CelebA's 40).

    It classifies images of ``in_channels`` channels and ``size`` x ``size`` pixels. An input with
    C = k * in_channels channels is k such images stacked as channels (Stacked MNIST: k = 3 digits
    of 1 channel): each is classified on its own, features are concatenated, ``(N, k * d)``, and
    logits come per image, ``(N, k, num_classes)``; for k = 1 logits are ``(N, num_classes)``.
    Inputs are float images in [0, 1]; they are standardised inside with ``pixel_mean`` and
    ``pixel_std`` (one value, or one per channel).
    """

    def __init__(self, width: int = 20, num_features: int = 128, num_classes: int = 10,
                 dropout: float = 0.2, *, in_channels: int = 1, size: int = 28,
                 pixel_mean: tuple[float, ...] = (PIXEL_MEAN,), pixel_std: tuple[float, ...] = (PIXEL_STD,),
                 multilabel: bool = False):
        super().__init__()
        if size < 4:
            raise ValueError(f"the evaluator needs images of at least 4x4 pixels, got {size}x{size}")
        pixel_mean, pixel_std = tuple(map(float, pixel_mean)), tuple(map(float, pixel_std))
        if len(pixel_mean) not in (1, in_channels) or len(pixel_std) != len(pixel_mean):
            raise ValueError(f"pixel_mean and pixel_std need 1 or {in_channels} values each, "
                             f"got {len(pixel_mean)} and {len(pixel_std)}")
        self.width, self.dropout = width, dropout
        self.num_features = num_features   # per image; read by torchmetrics' FID for custom modules
        self.num_classes = num_classes
        self.in_channels, self.size, self.multilabel = in_channels, size, multilabel
        self.pixel_mean, self.pixel_std = pixel_mean, pixel_std
        pools = halvings(size)
        end = size
        for _ in range(pools):
            end //= 2
        widths = [width * 2 ** i for i in range(pools + 1)]                  # 28: w, 2w, 4w
        blocks, c_in = [], in_channels
        for i, w in enumerate(widths):
            blocks += _conv_block(c_in, w, pool=i < pools)
            c_in = w
        self.body = nn.Sequential(*blocks, nn.Flatten())                      # (M, widths[-1] * end * end)
        self.embed = nn.Sequential(nn.Linear(widths[-1] * end * end, num_features, bias=False),
                                   nn.BatchNorm1d(num_features), nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(num_features, num_classes))
        # per-channel statistics as (1, C, 1, 1) buffers, not saved with the weights (the metadata holds them)
        self.register_buffer("_mean", torch.tensor(pixel_mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("_std", torch.tensor(pixel_std).view(1, -1, 1, 1), persistent=False)

    def _standardise(self, x: torch.Tensor) -> torch.Tensor:
        if len(self.pixel_mean) == 1:      # Python scalars: the arithmetic the shipped network always did
            return (x - self.pixel_mean[0]) / self.pixel_std[0]
        return (x - self._mean) / self._std

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        # x: (M, in_channels, size, size) in [0, 1] -> (M, d) penultimate activations (after ReLU)
        return self.embed(self.body(self._standardise(x)))

    def _split(self, x: torch.Tensor) -> tuple[int, int, torch.Tensor]:
        """(N, k, the k images of each item as a batch (N * k, in_channels, size, size))."""
        if x.dim() != 4 or tuple(x.shape[-2:]) != (self.size, self.size) or x.shape[1] % self.in_channels:
            raise ValueError(f"the evaluator takes images (N, C, {self.size}, {self.size}) with C a multiple "
                             f"of {self.in_channels}, got shape {tuple(x.shape)}")
        if x.dtype == torch.uint8:       # stored pixels (0..255): converted here, a batch at a time
            x = as_float(x)
        elif not x.is_floating_point():
            raise TypeError(f"the evaluator takes images as uint8 (0..255) or floats in [0, 1], got dtype {x.dtype}")
        n, k = x.shape[0], x.shape[1] // self.in_channels
        return n, k, x.reshape(n * k, self.in_channels, self.size, self.size)

    def _shape_logits(self, out: torch.Tensor, n: int, k: int) -> torch.Tensor:
        return out if k == 1 else out.reshape(n, k, self.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, k * in_channels, size, size) in [0, 1] -> (N, k * d) penultimate-layer features."""
        n, k, flat = self._split(x)
        return self._embed(flat).reshape(n, k * self.num_features)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_channels, size, size) -> (N, K); k stacked images -> (N, k, K)."""
        n, k, flat = self._split(x)
        return self._shape_logits(self.head(self._embed(flat)), n, k)        # (N*k, K) before

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Both from one forward pass: ``(N, k * d)`` and logits shaped as :meth:`logits`."""
        n, k, flat = self._split(x)
        f = self._embed(flat)                                                 # (N*k, d)
        return f.reshape(n, k * self.num_features), self._shape_logits(self.head(f), n, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x)

    def architecture(self) -> dict:
        """What builds this network again (kept in its weights file's metadata)."""
        return {"width": self.width, "dropout": self.dropout, "num_features": self.num_features, "num_classes": self.num_classes,
                "in_channels": self.in_channels, "size": self.size, "multilabel": self.multilabel,
                "pixel_mean": list(self.pixel_mean), "pixel_std": list(self.pixel_std)}


# the name the shipped Fashion-MNIST evaluator always had: the same class with its defaults
FashionCNN = EvaluatorCNN
