"""The evaluator network: a small CNN classifier of 28x28 grayscale Fashion-MNIST images."""

from __future__ import annotations

import torch
from torch import nn

# Fashion-MNIST train-split pixel mean and std: inputs are standardised inside the network,
# so callers always pass images in [0, 1].
PIXEL_MEAN = 0.2860
PIXEL_STD = 0.3530


def _conv_block(c_in: int, c_out: int, pool: bool = True) -> list[nn.Module]:
    # 3x3 conv (same size) -> BN -> ReLU [-> 2x2 max-pool, halving H and W]
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True)] + ([nn.MaxPool2d(2)] if pool else [])


class FashionCNN(nn.Module):
    """Three conv blocks (28 -> 14 -> 7 -> 7), a ``num_features``-d penultimate layer, 10 logits.

    ``features(x)`` and ``logits(x)`` take images ``(N, C, 28, 28)`` in [0, 1]. A single-channel
    image is classified as it is; an image with C > 1 channels (stacked Fashion-MNIST) is treated as
    C independent grayscale images: features are concatenated per channel, ``(N, C * d)``, and
    logits come per channel, ``(N, C, 10)``. For C = 1 logits are ``(N, 10)``.
    """

    def __init__(self, width: int = 20, num_features: int = 128, num_classes: int = 10,
                 dropout: float = 0.2):
        super().__init__()
        self.width = width
        self.num_features = num_features   # per channel; read by torchmetrics' FID for custom modules
        self.num_classes = num_classes
        self.body = nn.Sequential(*_conv_block(1, width), *_conv_block(width, 2 * width),
                                  *_conv_block(2 * width, 4 * width, pool=False), nn.Flatten())
        self.embed = nn.Sequential(nn.Linear(4 * width * 7 * 7, num_features, bias=False),
                                   nn.BatchNorm1d(num_features), nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(num_features, num_classes))

    def _embed_gray(self, x: torch.Tensor) -> torch.Tensor:
        # x: (M, 1, 28, 28) in [0, 1] -> (M, d) penultimate activations (after ReLU)
        return self.embed(self.body((x - PIXEL_MEAN) / PIXEL_STD))

    @staticmethod
    def _check(x: torch.Tensor) -> None:
        if x.dim() != 4 or tuple(x.shape[-2:]) != (28, 28):
            raise ValueError(f"the evaluator takes images (N, C, 28, 28), got shape {tuple(x.shape)}")
        if not x.is_floating_point():
            raise TypeError(f"the evaluator takes float images in [0, 1], got dtype {x.dtype}")

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, 28, 28) in [0, 1] -> (N, C * d) penultimate-layer features."""
        self._check(x)
        n, c = x.shape[:2]
        return self._embed_gray(x.reshape(n * c, 1, 28, 28)).reshape(n, c * self.num_features)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) -> (N, 10); (N, C, 28, 28) with C > 1 -> (N, C, 10)."""
        self._check(x)
        n, c = x.shape[:2]
        out = self.head(self._embed_gray(x.reshape(n * c, 1, 28, 28)))   # (N*C, 10)
        return out if c == 1 else out.reshape(n, c, self.num_classes)

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Both from one forward pass: ``(N, C * d)`` and logits shaped as :meth:`logits`."""
        self._check(x)
        n, c = x.shape[:2]
        f = self._embed_gray(x.reshape(n * c, 1, 28, 28))                # (N*C, d)
        out = self.head(f)
        return (f.reshape(n, c * self.num_features),
                out if c == 1 else out.reshape(n, c, self.num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x)
