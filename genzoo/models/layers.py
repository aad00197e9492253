"""Layers shared by the model families. Images are 28x28 with C channels; points are flat vectors."""

from __future__ import annotations

import math

import torch
from torch import nn


class Maxout(nn.Module):
    """Maxout units (Goodfellow et al. 2013): the largest of each unit's ``pieces`` inputs,
    (B, units * pieces) -> (B, units)."""

    def __init__(self, pieces: int):
        super().__init__()
        self.pieces = pieces

    def forward(self, h):
        return h.view(h.shape[0], -1, self.pieces).amax(-1)


def mlp(sizes: list[int], act: nn.Module, out_act: nn.Module | None = None, dropout: float = 0.0,
        maxout: int = 0, batch_norm: bool = False) -> nn.Sequential:
    """Linear layers of ``sizes`` with ``act`` between them (and ``out_act`` after the last).
    ``maxout=k``: hidden units are maxout units of k pieces instead of ``act``; ``batch_norm``:
    batch norm before each hidden activation (and no bias in the layers it follows)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        hidden = i < len(sizes) - 2
        layers.append(nn.Linear(a, b * maxout if hidden and maxout else b, bias=not (hidden and batch_norm)))
        if hidden:
            if batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(Maxout(maxout) if maxout else act)
            if dropout:
                layers.append(nn.Dropout(dropout))
    if out_act is not None:
        layers.append(out_act)
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z (B, in_dim) -> (B, *shape); Tanh output for images, linear for points."""

    def __init__(self, in_dim: int, shape: tuple[int, ...], hidden: tuple[int, ...], tanh: bool,
                 batch_norm: bool = False):
        super().__init__()
        self.shape = tuple(shape)
        self.net = mlp([in_dim, *hidden, math.prod(shape)], nn.ReLU(), nn.Tanh() if tanh else None,
                       batch_norm=batch_norm)

    def forward(self, z):
        return self.net(z).view(-1, *self.shape)


class MinibatchStd(nn.Module):
    """ProGAN's minibatch standard deviation (Karras et al. 2018): one extra feature, the mean over
    features (and positions) of each one's standard deviation across the batch, the same for every
    item. A batch of near-identical samples (collapse) shows up as a small value D can use."""

    extra = 1

    def forward(self, h):
        s = torch.sqrt(h.var(dim=0, unbiased=False) + 1e-8).mean()            # ()
        return torch.cat([h, s.expand(h.shape[0], 1, *h.shape[2:])], 1)


class MinibatchDiscrimination(nn.Module):
    """Salimans et al. 2016: ``kernels`` features per item measuring how close it is to the other
    items of the batch, ``o_b(x_i) = sum_j exp(-||M_i,b - M_j,b||_1)`` with ``M = x T`` (T learned,
    ``kernels x dim``); images get them as constant extra channels. 8 kernels of 4 dimensions by
    default (the paper's CIFAR-10 model: 100 of 5): its cost grows with the batch squared."""

    def __init__(self, in_features: int, kernels: int = 8, dim: int = 4):
        super().__init__()
        self.extra, self.dim = kernels, dim
        self.T = nn.Parameter(torch.randn(in_features, kernels * dim) * 0.1)

    def forward(self, h):
        m = (h.flatten(1) @ self.T).view(len(h), self.extra, self.dim).transpose(0, 1)   # (B, N, C)
        o = torch.exp(-torch.cdist(m, m, p=1)).sum(2).t() - 1                             # (N, B), without itself
        return torch.cat([h, o.view(len(h), self.extra, *([1] * (h.dim() - 2))).expand(-1, -1, *h.shape[2:])], 1)


def batch_statistic(kind: str, in_features: int) -> nn.Module | None:
    """The layer a GAN's D gets before its last one: "minibatch_std", "minibatch_discrimination" or ""."""
    if kind == "minibatch_std":
        return MinibatchStd()
    if kind == "minibatch_discrimination":
        return MinibatchDiscrimination(in_features)
    if kind:
        raise ValueError(f"unknown batch statistic {kind!r}")
    return None


class MLPDiscriminator(nn.Module):
    """(B, *shape) [+ extra (B, e)] -> logits (B,). ``batch_stat``: a layer of
    :func:`batch_statistic` before the last linear layer."""

    def __init__(self, shape: tuple[int, ...], hidden: tuple[int, ...], extra_dim: int = 0, dropout: float = 0.0,
                 batch_stat: str = "", maxout: int = 0):
        super().__init__()
        self.net = mlp([math.prod(shape) + extra_dim, *hidden, 1], nn.LeakyReLU(0.2), dropout=dropout, maxout=maxout)
        stat = batch_statistic(batch_stat, hidden[-1])
        if stat is not None:               # the same layers, then the statistic, then a wider last layer
            self.net = nn.Sequential(*list(self.net)[:-1], stat, nn.Linear(hidden[-1] + stat.extra, 1))

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

    def __init__(self, channels: int, width: int = 64, batch_norm: bool = True, batch_stat: str = ""):
        super().__init__()

        def norm(c):
            return nn.BatchNorm2d(c) if batch_norm else nn.Identity()

        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True),                       # (B, w, 14, 14)
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), norm(2 * width), nn.LeakyReLU(0.2, True),  # (B, 2w, 7, 7)
            nn.Conv2d(2 * width, 4 * width, 3, 2, 1, bias=False), norm(4 * width), nn.LeakyReLU(0.2, True),  # (B, 4w, 4, 4)
            nn.Conv2d(4 * width, 1, 4, 1, 0),                                                   # (B, 1, 1, 1)
        )
        stat = batch_statistic(batch_stat, 4 * width * 4 * 4)
        if stat is not None:            # before the last block: (B, 4w + extra, 4, 4)
            self.net = nn.Sequential(*list(self.net)[:-1], stat, nn.Conv2d(4 * width + stat.extra, 1, 4, 1, 0))

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
