"""ProGAN (Karras et al. 2018, "Progressive Growing of GANs for Improved Quality, Stability, and
Variation"), after the official code (tkarras/progressive_growing_of_gans) and pytorch_GAN_zoo's PGAN.

- **Progressive growing.** G and D start at the base side of the data (7x7 on 28x28 images, 4x4
  on 32 and 64: :mod:`genzoo.models._shapes`) and grow by one 2x block at a time up to the data's
  side. Each new block is faded in over a phase (its output blended with the previous level's,
  upsampled in G and downsampled in D, by ``alpha`` rising from 0 to 1), then stabilized: on
  28x28 "stabilize 7, fade in 14, stabilize 14, fade in 28, stabilize 28". During a fade the real
  images are blended the same way with their 2x-downsampled-then-upsampled copy, as the official
  code does. The networks run at the phase's side (the reals box-filtered down to it). The phases
  are a :class:`~genzoo.training.schedule.Schedule` the training loop follows (:meth:`ProGAN.schedule`):
  the paper's lengths in images shown (``phase_kimg`` thousand for every phase but the last,
  which runs to ``total_kimg``: the official CIFAR-10 configuration's 400 and 20,000), scaled to
  the fit's budget (``epochs`` / ``max_steps``): each growing phase takes ``phase_kimg /
  total_kimg`` of the fit's images, 2% by default. At each change of resolution the optimizers'
  state is reset, as the official code does.
- **Equalized learning rate** (weights N(0, 1), scaled at run time by He's constant), **pixelwise
  feature normalization** after each generator convolution (and of the latent), **minibatch
  standard deviation** over groups of 4 in D's last block (:mod:`genzoo.models._karras`).
- **Loss**: WGAN-GP (lambda 10) with the epsilon-drift term 0.001 E D(x)^2; Adam (lr 1e-3,
  betas (0, 0.99)); one D step per G step; the generator update draws fresh latents.
- **Generator average** (``ema``, 0.999 by default: the official ``G_smoothing``), which samples.

Defaults: the official CIFAR-10 configuration (128 feature maps at every resolution, latent 128,
batch 16). ``sample(n, resolution=14)`` draws from the generator as it renders at one of the sides
it grew through (:attr:`ProGAN.resolutions`): its to-RGB layer of that side applied to the
features there (the lower sides' to-RGB layers stop training once the next side is faded in);
the default is the data's side. The gradient penalty differentiates inside the step, so
``fit_seeds`` refuses ProGAN unless ``gp_lambda=0``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from ..training.schedule import Phase, Schedule
from . import losses
from ._api import register_model
from ._config import AdversarialConfig, ConvWidths, SharedAdam
from ._karras import (KarrasGAN, HE_GAIN, EqualConv2d, EqualLinear, KarrasDiscriminator, PixelNorm, fade, fade_reals, levels_of,
                      lrelu, resize_down, upsample)
from .base import Update
from .wgan_gp import WGANGP, GradientPenalty


class ProGenerator(nn.Module):
    """ProGAN's generator for images of side ``side``, able to render at each level of its growth:
    the latent pixel-normalized, a dense layer to ``width`` maps of the base side (7 or 4), a 3x3
    convolution, then per level a 2x nearest upsampling and two 3x3 convolutions (each followed
    by a leaky ReLU and pixel norm), and a 1x1 to-RGB convolution per level (linear output). At
    level ``l`` fading in (``alpha < 1``) the output is blended with the previous level's to-RGB,
    upsampled."""

    def __init__(self, latent_dim: int, channels: int, width: int, side: int):
        super().__init__()
        self.base, self.sides = levels_of(side)
        b, self.width = self.base, width
        # the official code's dense layer has gain sqrt(2) / 4 at its 4x4 base: sqrt(2) / base here
        self.input = nn.Sequential(PixelNorm(), EqualLinear(latent_dim, width * b * b, gain=HE_GAIN / b))
        self.first = nn.Sequential(lrelu(), PixelNorm(), EqualConv2d(width, width, 3), lrelu(), PixelNorm())
        self.blocks = nn.ModuleList([
            nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), EqualConv2d(width, width, 3), lrelu(), PixelNorm(),
                          EqualConv2d(width, width, 3), lrelu(), PixelNorm())
            for _ in self.sides[1:]])
        self.to_rgb = nn.ModuleDict({str(level): EqualConv2d(width, channels, 1, gain=1.0)
                                     for level in range(len(self.sides))})

    def forward(self, z, level: int | None = None, alpha: float = 1.0):          # z: (B, latent)
        level = len(self.sides) - 1 if level is None else level
        h = self.first(self.input(z).view(-1, self.width, self.base, self.base))
        prev = h
        for block in self.blocks[:level]:
            prev, h = h, block(h)
        out = self.to_rgb[str(level)](h)                                          # (B, C, side_l, side_l)
        if level > 0 and alpha < 1:
            out = fade(upsample(self.to_rgb[str(level - 1)](prev)), out, alpha)
        return out


@dataclass(frozen=True)
class ProGANConfig(SharedAdam, GradientPenalty, ConvWidths, AdversarialConfig):
    """Fields: the widths (feature maps of G and D at every resolution), gp_lambda, Adam's (lr,
    beta1, beta2), drift (the epsilon-drift weight), mbstd_group (the minibatch-std group), the
    schedule as the paper declares it (phase_kimg thousand images for each phase but the last,
    total_kimg in all: scaled to the fit's budget), ema (the generator average)."""

    LIMITS: ClassVar[dict[str, str]] = {"beta2": "[0, 1)", "drift": ">= 0", "mbstd_group": ">= 1", "phase_kimg": "> 0",
                                        "total_kimg": "> 0"}

    batch_size: int = 16
    latent_dim: int = 128
    g_width: int = 128
    d_width: int = 128
    lr: float = 1e-3
    beta1: float = 0.0
    beta2: float = 0.99
    drift: float = 0.001
    mbstd_group: int = 4
    phase_kimg: float = 400.0
    total_kimg: float = 20000.0
    ema: float = 0.999


@register_model("progan")
class ProGAN(KarrasGAN):
    Config = ProGANConfig
    PRESETS = {
        "default": {},
        # the fit's images in tenths: on 28x28, 4 growing phases of a tenth each, the last 6 tenths
        "tiny": {"g_width": 8, "d_width": 8, "latent_dim": 8, "max_steps": 40, "batch_size": 16, "phase_kimg": 1.0,
                 "total_kimg": 10.0},
    }
    paper = "Karras et al. 2018"
    # its D's minibatch standard deviation, measured by its paper's appendix on Stacked MNIST (modes
    # against the GANs before it): the remedy claim compares it with DCGAN (improves_on). StyleGAN's
    # D keeps the layer, but its paper makes no such claim, so it declares no remedy.
    remedy = "minibatch_std"
    published_names = ("ProGAN", "PGGAN", "PG-GAN")
    gan_losses = losses.WASSERSTEIN
    sweep_space = WGANGP.sweep_space            # its loss is WGAN-GP's: compare_gan's space for it

    # --- networks ------------------------------------------------------------------------------
    def build(self, shape, num_classes):
        c = self.config
        return nn.ModuleDict({"G": ProGenerator(c.latent_dim, shape[0], c.g_width, shape[-1]),
                              "D": KarrasDiscriminator(shape[0], c.d_width, shape[-1], group=c.mbstd_group)})

    @property
    def resolutions(self) -> list[int]:
        """The sides it grows through, from the base to the data's (7, 14, 28 on 28x28)."""
        return levels_of(self.shape_[-1])[1]

    # --- the schedule --------------------------------------------------------------------------
    def schedule(self) -> Schedule:
        """Stabilize at the base side, then per doubling fade in and stabilize; each phase
        ``phase_kimg`` thousand images but the last, which takes the rest of ``total_kimg``."""
        c = self.config
        sides, k = self.resolutions, c.phase_kimg * 1000
        phases = [Phase(k, sides[0], name=f"stabilize {sides[0]}")]
        for s in sides[1:]:
            phases += [Phase(k, s, fade=True, reset_optimizers=True, name=f"fade in {s}"),
                       Phase(k, s, reset_optimizers=True, name=f"stabilize {s}")]
        phases[-1] = dataclasses.replace(phases[-1], images=c.total_kimg * 1000 - k * (len(phases) - 1))
        return Schedule(tuple(phases))

    def unsupported_reason(self, data) -> str | None:
        why = super().unsupported_reason(data)
        if why or data.kind != "image":
            return why
        growing = 2 * (len(levels_of(data.shape[-1])[1]) - 1)
        c = self.config
        if growing * c.phase_kimg >= c.total_kimg:
            return (f"{self.name}: its {growing} growing phases of phase_kimg = {c.phase_kimg:g} leave nothing of "
                    f"total_kimg = {c.total_kimg:g} for the last phase at {data.shape[-1]}x{data.shape[-1]}: set "
                    f"total_kimg above {growing * c.phase_kimg:g}")
        return None

    def _where(self, ctx) -> tuple[int, float]:
        """(level, alpha) of the step: from the schedule's progress (full size, alpha 1 without one)."""
        p = ctx.progress
        if p is None:
            return len(self.resolutions) - 1, 1.0
        return self.resolutions.index(p.resolution), p.alpha

    # --- the updates of one step ---------------------------------------------------------------
    def updates(self) -> list[Update]:
        return [Update("d", self._d_update)] * self.n_critic + [Update("g", self._g_update)]

    def _d_update(self, ctx, state):
        level, alpha = self._where(ctx)
        D = self.nets_["D"]
        x, _ = ctx.next_batch()
        x = fade_reals(resize_down(x, self.resolutions[level]), alpha)     # (B, C, side_l, side_l)
        z = ctx.randn(len(x), self.config.latent_dim)
        with torch.no_grad():
            fake = self.nets_["G"](z, level, alpha)
        d_real, d_fake = D(x, level, alpha), D(fake, level, alpha)
        loss = self.d_loss(d_real, d_fake)
        logs = {}
        c = self.config
        if c.gp_lambda:
            penalty = c.gp_lambda * losses.gradient_penalty(lambda v: D(v, level, alpha), x, fake, ctx.rand(len(x)))
            loss, logs["penalty"] = loss + penalty, penalty
        if c.drift:
            drift = c.drift * losses.drift_penalty(d_real)
            loss, logs["drift"] = loss + drift, drift
        return loss, {"loss_d": loss, **logs, **self.diagnostics(d_real, d_fake)}

    def _g_update(self, ctx, state):
        level, alpha = self._where(ctx)
        fake = self.nets_["G"](ctx.randn(ctx.batch_size, self.config.latent_dim), level, alpha)
        loss = self.g_loss(self.nets_["D"](fake, level, alpha))
        return loss, {"loss_g": loss}

    def pack_refusal(self, data) -> str | None:
        if self.config.gp_lambda:
            return (f"{self.name}'s gradient penalty (gp_lambda = {self.config.gp_lambda:g}) differentiates inside "
                    f"the step, which vmap cannot do (gp_lambda=0 packs)")
        return None

    # --- sampling ------------------------------------------------------------------------------
    _sample_level: int | None = None             # set by sample(resolution=...) while it draws

    def generate(self, z, labels, *, averaged: bool = False):
        return self.generator_net("G", averaged)(z, self._sample_level)

    def sample(self, n, labels=None, *, seed=None, resolution: int | None = None):
        """``n`` samples (see :meth:`GenerativeModel.sample`); ``resolution``: one of the sides it
        grew through (:attr:`resolutions`), the images then of that side (the generator rendering
        at that level); None: the data's side."""
        if resolution is None or not self.is_fitted:
            return super().sample(n, labels, seed=seed)
        sides = self.resolutions
        if isinstance(resolution, bool) or resolution not in sides:
            raise ValueError(f"{self.name}: resolution must be one of the sides it grew through, "
                             f"{', '.join(map(str, sides))}, got {resolution!r}")
        self._sample_level = sides.index(resolution)
        try:
            return super().sample(n, labels, seed=seed)
        finally:
            del self._sample_level
