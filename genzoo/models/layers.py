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


def dc_sizes(layers: int) -> list[int]:
    """The sides of the DCGAN backbone's feature maps, from the 28x28 image inward: each stride-2
    layer halves the side, rounding up (28, 14, 7, 4, 2, ...); ``layers + 1`` entries."""
    sizes = [28]
    while len(sizes) <= layers:
        sizes.append(-(-sizes[-1] // 2))
    return sizes


def dc_kernel(kernel: int, side: int) -> tuple[int, int]:
    """(kernel, padding) of a stride-2 layer between a side ``side`` (even or odd) and its half
    (rounded up): ``kernel=0`` is genzoo's layout, 4x4 where the side halves exactly and 3x3 where
    it does not (7 <-> 4), padding 1; an odd ``kernel`` k (the papers' 5x5 or 3x3), padding k // 2."""
    if kernel:
        return kernel, kernel // 2
    return (4 if side % 2 == 0 else 3), 1


class DCGenerator(nn.Module):
    """DCGAN generator for 28x28: project and reshape, then ``layers`` stride-2 transposed
    convolutions, each doubling the side (2 -> 4 -> 7 -> 14 -> 28 for ``layers=4``) and halving the
    channels: ``2**layers * width`` at the projection, ``2 * width`` before the last one.
    ``out_conv``: the last transposed convolution keeps ``width`` channels and a stride-1
    convolution makes the image (Metz et al.'s Stacked-MNIST generator). ``kernel``: see
    :func:`dc_kernel`. The defaults (2 layers, genzoo's 4x4 kernels) are genzoo's DCGAN:
    project -> 7x7x4w -> 14x14x2w -> 28x28xC.

    Batch norm everywhere but the output; ReLU inside, Tanh (or Sigmoid) at the output.
    """

    def __init__(self, in_dim: int, channels: int, width: int = 64, out_act: nn.Module | None = None,
                 layers: int = 2, kernel: int = 0, out_conv: bool = False):
        super().__init__()
        sizes = dc_sizes(layers)
        self.width, self.side = 2 ** layers * width, sizes[layers]          # the projection's channels, side
        n = self.width * self.side ** 2
        self.project = nn.Sequential(nn.Linear(in_dim, n, bias=False), nn.BatchNorm1d(n), nn.ReLU(True))
        blocks: list[nn.Module] = []
        for i in range(layers):
            c_in, side_in, side_out = 2 ** (layers - i) * width, sizes[layers - i], sizes[layers - i - 1]
            k, pad = dc_kernel(kernel, side_out)
            extra = side_out - ((side_in - 1) * 2 - 2 * pad + k)              # output_padding: hit the side
            if i < layers - 1 or out_conv:                                      # (B, c_in / 2, side_out, side_out)
                blocks += [nn.ConvTranspose2d(c_in, c_in // 2, k, 2, pad, output_padding=extra, bias=False),
                           nn.BatchNorm2d(c_in // 2), nn.ReLU(True)]
            else:                                                               # (B, C, 28, 28)
                blocks.append(nn.ConvTranspose2d(c_in, channels, k, 2, pad, output_padding=extra))
        if out_conv:
            k = kernel or 3
            blocks.append(nn.Conv2d(width, channels, k, 1, k // 2))           # (B, C, 28, 28)
        self.net = nn.Sequential(*blocks, out_act if out_act is not None else nn.Tanh())

    def forward(self, z):                                                    # z: (B, in_dim)
        return self.net(self.project(z).view(-1, self.width, self.side, self.side))


class DCDiscriminator(nn.Module):
    """DCGAN discriminator for 28x28: ``layers`` stride-2 convolutions (``width``, ``2 * width``,
    ... channels; sides 14, 7, 4, 2, ...), LeakyReLU(0.2), batch norm except at the input, then one
    linear layer (a convolution as large as the last map); returns one logit per image (no
    sigmoid: the loss applies it, and WGAN's critic uses the raw score). ``kernel``: see
    :func:`dc_kernel`. The defaults (3 layers, genzoo's kernels) are genzoo's DCGAN:
    28 -> 14x14xw -> 7x7x2w -> 4x4x4w -> 1."""

    def __init__(self, channels: int, width: int = 64, batch_norm: bool = True, batch_stat: str = "",
                 layers: int = 3, kernel: int = 0):
        super().__init__()

        def norm(c):
            return nn.BatchNorm2d(c) if batch_norm else nn.Identity()

        sizes = dc_sizes(layers)
        blocks: list[nn.Module] = []
        for i in range(layers):                                                 # (B, 2^i w, sizes[i+1], ...)
            k, pad = dc_kernel(kernel, sizes[i])
            if i == 0:
                blocks += [nn.Conv2d(channels, width, k, 2, pad), nn.LeakyReLU(0.2, True)]
            else:
                c = 2 ** (i - 1) * width
                blocks += [nn.Conv2d(c, 2 * c, k, 2, pad, bias=False), norm(2 * c), nn.LeakyReLU(0.2, True)]
        top, side = 2 ** (layers - 1) * width, sizes[layers]
        self.net = nn.Sequential(*blocks, nn.Conv2d(top, 1, side, 1, 0))        # (B, 1, 1, 1)
        stat = batch_statistic(batch_stat, top * side * side)
        if stat is not None:            # before the last block: (B, top + extra, side, side)
            self.net = nn.Sequential(*list(self.net)[:-1], stat, nn.Conv2d(top + stat.extra, 1, side, 1, 0))

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
