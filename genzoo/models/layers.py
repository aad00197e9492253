"""Layers shared by the model families. Images are 28x28 with C channels; points are flat vectors."""

from __future__ import annotations

import math

import torch
from torch import nn


def mlp(sizes: list[int], act: nn.Module, out_act: nn.Module | None = None, dropout: float = 0.0) -> nn.Sequential:
    """Linear layers of ``sizes`` with ``act`` between them (and ``out_act`` after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act)
            if dropout:
                layers.append(nn.Dropout(dropout))
    if out_act is not None:
        layers.append(out_act)
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z (B, in_dim) -> (B, *shape); Tanh output for images, linear for points."""

    def __init__(self, in_dim: int, shape: tuple[int, ...], hidden: tuple[int, ...], tanh: bool):
        super().__init__()
        self.shape = tuple(shape)
        self.net = mlp([in_dim, *hidden, math.prod(shape)], nn.ReLU(), nn.Tanh() if tanh else None)

    def forward(self, z):
        return self.net(z).view(-1, *self.shape)


class MLPDiscriminator(nn.Module):
    """(B, *shape) [+ extra (B, e)] -> logits (B,)."""

    def __init__(self, shape: tuple[int, ...], hidden: tuple[int, ...], extra_dim: int = 0, dropout: float = 0.0):
        super().__init__()
        self.net = mlp([math.prod(shape) + extra_dim, *hidden, 1], nn.LeakyReLU(0.2), dropout=dropout)

    def forward(self, x, extra=None):
        h = x.flatten(1)
        if extra is not None:
            h = torch.cat([h, extra], 1)
        return self.net(h).squeeze(1)


class DCGenerator(nn.Module):
    """DCGAN generator for 28x28: project and reshape, then two stride-2 transposed convolutions.

    Batch norm everywhere but the output; ReLU inside, Tanh (or Sigmoid) at the output.
    """

    def __init__(self, in_dim: int, channels: int, width: int = 64, out_act: nn.Module | None = None):
        super().__init__()
        self.project = nn.Sequential(
            nn.Linear(in_dim, 4 * width * 7 * 7, bias=False), nn.BatchNorm1d(4 * width * 7 * 7), nn.ReLU(True))
        self.width = width
        self.net = nn.Sequential(
            nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1, bias=False),   # (B, 2w, 14, 14)
            nn.BatchNorm2d(2 * width), nn.ReLU(True),
            nn.ConvTranspose2d(2 * width, channels, 4, 2, 1),                # (B, C, 28, 28)
            out_act if out_act is not None else nn.Tanh(),
        )

    def forward(self, z):                                                    # z: (B, in_dim)
        return self.net(self.project(z).view(-1, 4 * self.width, 7, 7))     # (B, 4w, 7, 7) -> image


class DCDiscriminator(nn.Module):
    """DCGAN discriminator for 28x28: stride-2 convolutions, LeakyReLU(0.2), batch norm except at
    the input; returns one logit per image (no sigmoid: the loss applies it, and WGAN's critic
    uses the raw score)."""

    def __init__(self, channels: int, width: int = 64, batch_norm: bool = True):
        super().__init__()

        def norm(c):
            return nn.BatchNorm2d(c) if batch_norm else nn.Identity()

        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True),                       # (B, w, 14, 14)
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), norm(2 * width), nn.LeakyReLU(0.2, True),  # (B, 2w, 7, 7)
            nn.Conv2d(2 * width, 4 * width, 3, 2, 1, bias=False), norm(4 * width), nn.LeakyReLU(0.2, True),  # (B, 4w, 4, 4)
            nn.Conv2d(4 * width, 1, 4, 1, 0),                                                   # (B, 1, 1, 1)
        )

    def forward(self, x):
        return self.net(x).flatten()                                          # (B,)


class ConvEncoder(nn.Module):
    """(B, C, 28, 28) -> (B, out_dim) through two stride-2 convolutions."""

    def __init__(self, channels: int, out_dim: int, width: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.ReLU(True),               # (B, w, 14, 14)
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.ReLU(True),              # (B, 2w, 7, 7)
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, 256), nn.ReLU(True),
            nn.Linear(256, out_dim),
        )

    def forward(self, x):
        return self.net(x)


class ConvDecoder(nn.Module):
    """(B, in_dim) -> logits (B, C, 28, 28): the mirror of :class:`ConvEncoder`."""

    def __init__(self, in_dim: int, channels: int, width: int = 32):
        super().__init__()
        self.width = width
        self.fc = nn.Sequential(nn.Linear(in_dim, 256), nn.ReLU(True), nn.Linear(256, 2 * width * 7 * 7), nn.ReLU(True))
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(True),      # (B, w, 14, 14)
            nn.ConvTranspose2d(width, channels, 4, 2, 1),                     # (B, C, 28, 28)
        )

    def forward(self, z):
        return self.net(self.fc(z).view(-1, 2 * self.width, 7, 7))
