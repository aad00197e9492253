"""Layers shared by the model families. Images are (C, H, W), square, of a side the networks
build for (:mod:`genzoo.models._shapes`: 7 * 2^k or 4 * 2^k, 28 and 32 and 64 among them; the
convolutional networks take their depth from it); points are flat vectors."""

from __future__ import annotations

import math

import torch
from torch import nn

from ._shapes import check_side, down_layers, down_sides, up_layers


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


def dc_kernel(kernel: int, side: int) -> tuple[int, int]:
    """(kernel, padding) of a stride-2 layer between a side ``side`` (even or odd) and its half
    (rounded up): ``kernel=0`` is genzoo's layout, 4x4 where the side halves exactly and 3x3 where
    it does not (7 <-> 4), padding 1; an odd ``kernel`` k (the papers' 5x5 or 3x3), padding k // 2."""
    if kernel:
        return kernel, kernel // 2
    return (4 if side % 2 == 0 else 3), 1



class DCGenerator(nn.Module):
    """DCGAN generator for square images of side ``side``: project and reshape, then ``layers``
    stride-2 transposed convolutions, each doubling the side (4 -> 7 where the next side is odd)
    and halving the channels: ``2**layers * width`` at the projection, ``2 * width`` before the
    last one. ``layers=None``: as many as the side takes from its base
    (:func:`~genzoo.models._shapes.up_layers`), so G projects to 7x7 or 4x4: genzoo's DCGAN,
    project -> 7x7x4w -> 14x14x2w -> 28x28xC at 28, 4x4x8w -> 8x8x4w -> 16x16x2w -> 32x32xC at 32,
    4x4x16w -> ... -> 64x64xC at 64. An explicit ``layers`` projects to the side's ``layers``-th
    half instead (2 -> 4 -> 7 -> 14 -> 28 with 4 at 28). ``out_conv``: the last transposed
    convolution keeps ``width`` channels and a stride-1 convolution makes the image (Metz et al.'s
    Stacked-MNIST generator). ``kernel``: see :func:`dc_kernel`.

    Batch norm everywhere but the output; ReLU inside, Tanh (or Sigmoid) at the output.
    """

    def __init__(self, in_dim: int, channels: int, width: int = 64, out_act: nn.Module | None = None,
                 layers: int | None = None, kernel: int = 0, out_conv: bool = False, *, side: int):
        super().__init__()
        layers = up_layers(side) if layers is None else layers
        sizes = down_sides(check_side(side), layers)                        # from the image inward
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
            else:                                                               # (B, C, side, side)
                blocks.append(nn.ConvTranspose2d(c_in, channels, k, 2, pad, output_padding=extra))
        if out_conv:
            k = kernel or 3
            blocks.append(nn.Conv2d(width, channels, k, 1, k // 2))           # (B, C, side, side)
        self.net = nn.Sequential(*blocks, out_act if out_act is not None else nn.Tanh())

    def forward(self, z):                                                    # z: (B, in_dim)
        return self.net(self.project(z).view(-1, self.width, self.side, self.side))


class DCDiscriminator(nn.Module):
    """DCGAN discriminator for square images of side ``side``: ``layers`` stride-2 convolutions
    (``width``, ``2 * width``, ... channels), LeakyReLU(0.2), batch norm except at the input, then
    one linear layer (a convolution as large as the last map); returns EXACTLY one logit per image
    (no sigmoid: the loss applies it, and WGAN's critic uses the raw score), which it checks when
    it is built and on every call: a larger last map would hand the losses a map of logits per
    image that they average silently (a PatchGAN by accident). ``layers=None``: halvings down to a
    side of 4 or less (:func:`~genzoo.models._shapes.down_layers`): genzoo's DCGAN,
    28 -> 14x14xw -> 7x7x2w -> 4x4x4w -> 1, 32 -> 16 -> 8 -> 4 -> 1, 64 -> 32 -> 16 -> 8 -> 4 -> 1.
    ``kernel``: see :func:`dc_kernel`."""

    def __init__(self, channels: int, width: int = 64, batch_norm: bool = True, batch_stat: str = "",
                 layers: int | None = None, kernel: int = 0, *, side: int):
        super().__init__()

        def norm(c):
            return nn.BatchNorm2d(c) if batch_norm else nn.Identity()

        layers = down_layers(side) if layers is None else layers
        sizes = down_sides(check_side(side), layers)
        blocks: list[nn.Module] = []
        for i in range(layers):                                                 # (B, 2^i w, sizes[i+1], ...)
            k, pad = dc_kernel(kernel, sizes[i])
            if i == 0:
                blocks += [nn.Conv2d(channels, width, k, 2, pad), nn.LeakyReLU(0.2, True)]
            else:
                c = 2 ** (i - 1) * width
                blocks += [nn.Conv2d(c, 2 * c, k, 2, pad, bias=False), norm(2 * c), nn.LeakyReLU(0.2, True)]
        top, last = 2 ** (layers - 1) * width, sizes[layers]
        self.net = nn.Sequential(*blocks, nn.Conv2d(top, 1, last, 1, 0))        # (B, 1, 1, 1)
        stat = batch_statistic(batch_stat, top * last * last)
        if stat is not None:            # before the last block: (B, top + extra, last, last)
            self.net = nn.Sequential(*list(self.net)[:-1], stat, nn.Conv2d(top + stat.extra, 1, last, 1, 0))
        self.image_side = side
        logits = conv_side(self.net, side)
        if logits != 1:
            raise ValueError(f"DCDiscriminator: its layers turn a {side}x{side} image into {logits}x{logits} logits, "
                             f"not one")

    def forward(self, x):
        out = self.net(x)                                                     # (B, 1, 1, 1)
        if out.shape[2:] != (1, 1):
            raise ValueError(f"DCDiscriminator built for images of side {self.image_side} got images of shape "
                             f"{tuple(x.shape[1:])}: {out.shape[2]}x{out.shape[3]} logits per image instead of one")
        return out.flatten()                                                  # (B,)


def conv_side(net: nn.Module, side: int) -> int:
    """The side of the map the convolutions of ``net`` (in order) make of a ``side`` x ``side`` input."""
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            side = (side + 2 * m.padding[0] - m.dilation[0] * (m.kernel_size[0] - 1) - 1) // m.stride[0] + 1
    return side


class ConvEncoder(nn.Module):
    """(B, C, side, side) -> (B, out_dim): stride-2 convolutions (``width``, ``2 * width``, ...
    channels) halving the side down to its base 7x7 or 4x4 (:func:`~genzoo.models._shapes.up_layers`
    of them: 28 -> 14x14xw -> 7x7x2w, 32 -> 16 -> 8 -> 4x4x4w, 64 -> ... -> 4x4x8w), then two
    linear layers through 256 units."""

    def __init__(self, channels: int, out_dim: int, width: int = 32, *, side: int):
        super().__init__()
        n = up_layers(side)
        blocks: list[nn.Module] = []
        c_in = channels
        for i in range(n):                                                    # (B, 2^i w, side / 2^(i+1), ...)
            blocks += [nn.Conv2d(c_in, 2 ** i * width, 4, 2, 1), nn.ReLU(True)]
            c_in = 2 ** i * width
        base = side >> n
        self.net = nn.Sequential(*blocks, nn.Flatten(), nn.Linear(c_in * base * base, 256), nn.ReLU(True),
                                 nn.Linear(256, out_dim))

    def forward(self, x):
        return self.net(x)


class ConvDecoder(nn.Module):
    """(B, in_dim) -> logits (B, C, side, side): the mirror of :class:`ConvEncoder` (28: 7x7x2w ->
    14x14xw -> 28x28xC)."""

    def __init__(self, in_dim: int, channels: int, width: int = 32, *, side: int):
        super().__init__()
        n = up_layers(side)
        self.width, self.base = 2 ** (n - 1) * width, side >> n                 # the first map's channels, side
        self.fc = nn.Sequential(nn.Linear(in_dim, 256), nn.ReLU(True),
                                nn.Linear(256, self.width * self.base * self.base), nn.ReLU(True))
        blocks: list[nn.Module] = []
        for i in range(n - 1, 0, -1):                                         # (B, 2^(i-1) w, ...): doubling
            blocks += [nn.ConvTranspose2d(2 ** i * width, 2 ** (i - 1) * width, 4, 2, 1), nn.ReLU(True)]
        blocks.append(nn.ConvTranspose2d(width, channels, 4, 2, 1))            # (B, C, side, side)
        self.net = nn.Sequential(*blocks)

    def forward(self, z):
        return self.net(self.fc(z).view(-1, self.width, self.base, self.base))
