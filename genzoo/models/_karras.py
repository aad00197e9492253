"""The layers of Karras et al.'s GANs, shared by ``progan`` (Karras et al. 2018) and ``stylegan``
(Karras et al. 2019), after the official code (tkarras/progressive_growing_of_gans,
NVlabs/stylegan) and pytorch_GAN_zoo's ``custom_layers.py``:

- :class:`EqualLinear`, :class:`EqualConv2d`: the equalized learning rate. The stored weights are
  drawn from N(0, 1) and scaled at run time by He's constant ``gain / sqrt(fan_in)`` (gain
  sqrt(2) before a leaky ReLU, 1 before a linear output), so every layer's weights move at the
  same speed under Adam, whatever their fan-in. ``lr_mul`` scales the layer's learning rate (the
  stored weights are drawn from N(0, 1 / lr_mul^2) and scaled by ``lr_mul`` too): StyleGAN's
  mapping network learns at 0.01 of the rate;
- :class:`PixelNorm`: each pixel's feature vector scaled to unit mean square (ProGAN's generator,
  after each convolution; StyleGAN's latent codes);
- :class:`MinibatchStdGroup`: the minibatch standard deviation over groups of items (ProGAN's
  group of 4): one more feature map, each item's group's mean standard deviation;
- :func:`upsample` (nearest, 2x), :func:`downsample` (2x2 average), :class:`Blur` (StyleGAN's
  [1, 2, 1] low-pass filter), :func:`resize_down` (box filter to a smaller side);
- :func:`fade`: the fade-in blend ``old + alpha * (new - old)``, and :func:`fade_reals`, the real
  images blended with their 2x-downsampled-then-upsampled copy during a fade (the official code's
  ``process_reals``);
- :class:`KarrasDiscriminator`: ProGAN's discriminator (StyleGAN 2019 keeps it): from-RGB 1x1
  convolutions, blocks of two 3x3 convolutions and a 2x downsampling, and a last block with the
  minibatch standard deviation, a 3x3 convolution and two dense layers; it runs at any level of
  its growth with the new block faded in by ``alpha``;
- :class:`KarrasGAN`: what both models share as GANs: images only, one image judged at a time (no
  packing, no replay), a fresh generated batch for G's update, Adam with one learning rate and
  (beta1, beta2) for G and for D.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ._shapes import check_side, up_layers
from .adversarial import AdversarialModel

HE_GAIN = math.sqrt(2.0)        # before a leaky ReLU
LRELU = 0.2                     # the leaky ReLU's slope in every Karras network

__all__ = ["HE_GAIN", "Blur", "EqualConv2d", "EqualLinear", "KarrasDiscriminator", "MinibatchStdGroup", "PixelNorm",
           "downsample", "fade", "fade_reals", "group_size", "levels_of", "lrelu", "resize_down", "upsample"]


def lrelu() -> nn.Module:
    return nn.LeakyReLU(LRELU)


class EqualLinear(nn.Module):
    """A dense layer with the equalized learning rate: ``y = x W'^T + b'``, ``W' = W * gain /
    sqrt(in) * lr_mul`` with the stored ``W ~ N(0, 1 / lr_mul^2)``, ``b' = b * lr_mul``."""

    def __init__(self, in_features: int, out_features: int, *, gain: float = HE_GAIN, lr_mul: float = 1.0,
                 bias_init: float = 0.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init) / lr_mul))
        self.scale, self.lr_mul = gain / math.sqrt(in_features) * lr_mul, lr_mul

    def effective_weight(self) -> torch.Tensor:
        """The weight the layer computes with."""
        return self.weight * self.scale

    def forward(self, x):
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class EqualConv2d(nn.Module):
    """A stride-1 ``kernel`` x ``kernel`` convolution (same padding) with the equalized learning
    rate: the stored N(0, 1) weights scaled by ``gain / sqrt(in * kernel^2)`` at run time."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, *, gain: float = HE_GAIN, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.scale, self.padding = gain / math.sqrt(in_channels * kernel * kernel), kernel // 2

    def effective_weight(self) -> torch.Tensor:
        return self.weight * self.scale

    def forward(self, x):
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class PixelNorm(nn.Module):
    """``x / sqrt(mean over features of x^2 + 1e-8)`` at every pixel (or for every vector)."""

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(1, keepdim=True) + 1e-8)


def group_size(n: int, group: int) -> int:
    """The group of the minibatch standard deviation for a batch of ``n``: the largest size up to
    ``group`` that divides ``n`` (the official code needs ``n`` divisible by ``min(group, n)``)."""
    g = max(1, min(group, n))
    while n % g:
        g -= 1
    return g


class MinibatchStdGroup(nn.Module):
    """ProGAN's minibatch standard deviation over groups (the official ``minibatch_stddev_layer``):
    the batch is split into groups of ``group`` items (item i in group i mod n/group), each
    feature's standard deviation over its group is averaged over features and positions, and
    every item gets its group's value as one more feature map. A collapsed batch (identical items)
    gives 0. (genzoo's ``minibatch_std`` remedy, :class:`~genzoo.models.layers.MinibatchStd`, is
    the same over the whole batch.)"""

    def __init__(self, group: int = 4):
        super().__init__()
        self.group = group

    def forward(self, x):
        n, c, h, w = x.shape
        g = group_size(n, self.group)
        y = x.reshape(g, n // g, c, h, w)                                 # (G, M, C, H, W)
        y = torch.sqrt((y - y.mean(0)).pow(2).mean(0) + 1e-8)               # (M, C, H, W)
        y = y.mean((1, 2, 3)).reshape(1, n // g, 1, 1, 1).expand(g, -1, 1, h, w).reshape(n, 1, h, w)
        return torch.cat([x, y], 1)


def upsample(x: torch.Tensor) -> torch.Tensor:
    """2x nearest-neighbour upsampling (each pixel a 2x2 block)."""
    return F.interpolate(x, scale_factor=2, mode="nearest")


def downsample(x: torch.Tensor) -> torch.Tensor:
    """2x downsampling by averaging 2x2 blocks."""
    return F.avg_pool2d(x, 2)


def resize_down(x: torch.Tensor, side: int) -> torch.Tensor:
    """``x`` box-filtered to ``side`` x ``side`` (a power-of-2 fraction of its side), as the
    official code's lower levels of detail are made; ``x`` itself at its own side."""
    factor = x.shape[-1] // side
    return x if factor == 1 else F.avg_pool2d(x, factor)


def fade(old: torch.Tensor, new: torch.Tensor, alpha: float) -> torch.Tensor:
    """The fade-in blend: ``old`` at alpha 0, ``new`` at alpha 1."""
    return new if alpha >= 1 else old + alpha * (new - old)


def fade_reals(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """The real images during a fade-in: blended with their 2x-downsampled-then-upsampled copy,
    what the generator's faded output looks like (at alpha 0 the previous level, blown up)."""
    return x if alpha >= 1 else fade(upsample(downsample(x)), x, alpha)


class Blur(nn.Module):
    """StyleGAN's low-pass filter after upsampling and before downsampling (the paper's bilinear
    resampling): a depthwise 3x3 convolution with ``[1, 2, 1] x [1, 2, 1] / 16``."""

    def __init__(self):
        super().__init__()
        k = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer("kernel", (k[:, None] * k[None, :] / 16).view(1, 1, 3, 3), persistent=False)

    def forward(self, x):
        c = x.shape[1]
        return F.conv2d(x, self.kernel.expand(c, 1, 3, 3), padding=1, groups=c)


def levels_of(side: int) -> tuple[int, list[int]]:
    """(base side, the sides from the base up to ``side``): 28 -> (7, [7, 14, 28]), 32 -> (4, [4, 8, 16, 32])."""
    n = up_layers(check_side(side))
    base = side >> n
    return base, [base << i for i in range(n + 1)]


class KarrasDiscriminator(nn.Module):
    """ProGAN's discriminator for images of side ``side``, able to run at each level of its growth
    (level 0 the base side, 7 or 4; the last one ``side``): at level ``l``, from-RGB (1x1
    convolution, leaky ReLU) at that side, then blocks (3x3 convolution, leaky ReLU, [blur], 3x3
    convolution, 2x downsampling, leaky ReLU) down to the base, then the last block (minibatch
    standard deviation over groups of ``group``, 3x3 convolution, dense to ``width``, dense to one
    logit). While level ``l`` fades in (``alpha < 1``) the output of its block is blended with the
    previous level's from-RGB of the downsampled image. ``growing=False`` (StyleGAN): from-RGB at
    the full side only. Equalized learning rate throughout; one logit per image."""

    def __init__(self, channels: int, width: int, side: int, *, group: int = 4, blur: bool = False,
                 growing: bool = True):
        super().__init__()
        self.base, self.sides = levels_of(side)
        top = len(self.sides) - 1
        self.from_rgb = nn.ModuleDict({str(level): nn.Sequential(EqualConv2d(channels, width, 1), lrelu())
                                       for level in (range(top + 1) if growing else [top])})
        self.blocks = nn.ModuleList([                                   # blocks[l - 1]: level l -> level l - 1
            nn.Sequential(EqualConv2d(width, width, 3), lrelu(), *([Blur()] if blur else []),
                          EqualConv2d(width, width, 3), nn.AvgPool2d(2), lrelu())
            for _ in range(top)])
        self.last = nn.Sequential(MinibatchStdGroup(group), EqualConv2d(width + 1, width, 3), lrelu(), nn.Flatten(),
                                  EqualLinear(width * self.base * self.base, width), lrelu(),
                                  EqualLinear(width, 1, gain=1.0))

    @property
    def top(self) -> int:
        return len(self.sides) - 1

    def forward(self, x, level: int | None = None, alpha: float = 1.0):    # x: (B, C, side_l, side_l)
        level = self.top if level is None else level
        if x.shape[-1] != self.sides[level]:
            raise ValueError(f"KarrasDiscriminator at level {level} takes images of side {self.sides[level]}, got "
                             f"shape {tuple(x.shape[1:])}")
        h = self.from_rgb[str(level)](x)
        if level > 0:
            h = self.blocks[level - 1](h)
            if alpha < 1:
                h = fade(self.from_rgb[str(level - 1)](downsample(x)), h, alpha)
            for i in range(level - 2, -1, -1):
                h = self.blocks[i](h)
        return self.last(h).squeeze(1)                                    # (B,)


class KarrasGAN(AdversarialModel):
    """The GAN side ``progan`` and ``stylegan`` share (not registered itself): images only, D judges
    one image at a time (no PacGAN packing, no experience replay), G's update draws its own batch,
    and Adam with the config's ``lr`` and ``(beta1, beta2)`` for both networks (Karras et al.'s
    (0, 0.99)). Both papers measure their progress against the DCGAN-era GANs (``improves_on``: the
    claims compare their FID with DCGAN's at the same number of images shown)."""

    data_kinds = ("image",)
    architecture = "conv"
    improves_on = "dcgan"
    reuse_fake = False

    @property
    def pack(self) -> int:
        return 1

    @property
    def replay(self) -> float:
        return 0.0

    def configure_optimizers(self):
        c = self.config
        return {"g": torch.optim.Adam(self.generator_parameters(), lr=c.lr, betas=(c.beta1, c.beta2)),
                "d": torch.optim.Adam(self.discriminator_parameters(), lr=c.lr, betas=(c.beta1, c.beta2))}
