"""StyleGAN (Karras et al. 2019, "A Style-Based Generator Architecture for Generative Adversarial
Networks"), after the official code (NVlabs/stylegan) and rosinality/style-based-gan-pytorch.

The generator:

- a **mapping network** f: z (pixel-normalized) -> w through ``mapping_layers`` dense layers (8 by
  default; leaky ReLU), learning at ``mapping_lr_mul`` (0.01) of the rate: equalized-lr layers
  whose run-time scale carries the multiplier, as the official code does;
- the **synthesis network**: a **learned constant** input (``width`` maps of the base side, 7 on
  28x28 and 4 on 32 and 64), then per side two 3x3 convolutions (the first of each later side
  after a 2x upsampling and a [1, 2, 1] blur), each followed by **noise** (one N(0, 1) map per
  layer and item, scaled per feature map by a learned factor that starts at 0), a bias, a leaky
  ReLU, instance normalization and **AdaIN**: the layer's style ``A(w)`` (a learned affine map
  of w, one per layer) sets each map's scale ``1 + s`` and bias; a 1x1 to-RGB at the data's side;
- **AdaIN rather than StyleGAN2's modulated convolutions**: AdaIN is what the paper (and the GAN
  chapter the issue follows) describes; its known flaw, the "droplet" artifacts StyleGAN2 removed
  by demodulating the weights instead, shows at high resolutions, not at genzoo's 28-64 pixels;
- **no progressive growing**: StyleGAN 2019 trained with ProGAN's growing, which StyleGAN2 dropped
  (its phase artifacts) and which ``progan`` already shows; here G and D work at the data's side
  from the first step, so StyleGAN's own techniques are what differs from the other GANs.

The discriminator is ProGAN's (the paper keeps it), at the data's side only, with the blur before
each downsampling (:class:`~genzoo.models._karras.KarrasDiscriminator`). Training: **style mixing**
(with probability ``style_mixing`` = 0.9 an item's styles switch from w1 = f(z1) to w2 = f(z2) at
a random crossover layer, drawn per item, as the paper mixes "a given percentage of images"),
the **non-saturating logistic loss** with **R1** on real images (``r1_gamma`` / 2 E ||grad D||^2,
gamma 10 as the paper and rosinality's code; ``r1_interval = k`` > 1 is StyleGAN2's lazy R1: the
penalty every k-th step, weighted k, logged as 0 on the others), Adam (1e-3, betas (0, 0.99)),
the **generator average** (``ema`` 0.999) that samples, and the **average w**, tracked during
training (``w_avg``, a buffer of the mapping network, ``w_avg <- beta * w_avg + (1 - beta) * mean
w`` at each generator step, beta 0.995 as the official ``dlatent_avg_beta``).

Sampling: ``sample(n, truncation=psi)`` is the **truncation trick**: w' = w_avg + psi (w - w_avg)
at every layer (psi 1: none; psi 0: every sample's w is the average, so samples differ only by
their noise inputs). ``noise``: "const" (the default, as StyleGAN2-ADA's generate.py: one fixed
map per layer, the same for every sample, so ``sample(n, seed=s)`` is ``decode`` of that seed's
codes), "random" (drawn per sample from the sample's generator, after the codes) or "none".
``sample(n, seed=a, mix_seed=b, crossover=k)`` mixes two seeds' styles: layers below k take
seed a's w, the others seed b's; :meth:`StyleGAN.style_mixing_grid` builds the paper's figure
(rows take the coarse styles from one set of seeds, columns the fine styles from another).
With R1 on (``r1_gamma > 0``) ``fit_seeds`` refuses it (a derivative inside the step);
``r1_gamma=0`` packs.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from ..errors import NotFittedError
from ..limits import MAX_SAMPLE_SEED, check_seed
from ..space import fixed, log_uniform, uniform
from . import _checks, losses
from ._api import register_model
from ._config import AdversarialConfig, ConvWidths, SharedAdam
from ._karras import KarrasGAN, Blur, EqualConv2d, EqualLinear, KarrasDiscriminator, PixelNorm, levels_of, lrelu, upsample
from .base import Update

NOISE_MODES = ("const", "random", "none")
CONST_NOISE_SEED = 0            # the seed of the fixed noise maps of noise="const"


def instance_norm(h: torch.Tensor) -> torch.Tensor:
    """Each map of each item to zero mean and unit mean square over its positions."""
    h = h - h.mean((2, 3), keepdim=True)
    return h * torch.rsqrt(h.pow(2).mean((2, 3), keepdim=True) + 1e-8)


class MappingNetwork(nn.Module):
    """z -> w: pixel norm, then ``layers`` dense layers (leaky ReLU) at ``lr_mul`` of the learning
    rate. ``w_avg``: the average w, tracked during training (:meth:`track`)."""

    def __init__(self, latent_dim: int, layers: int, lr_mul: float):
        super().__init__()
        seq: list[nn.Module] = [PixelNorm()]
        for _ in range(layers):
            seq += [EqualLinear(latent_dim, latent_dim, lr_mul=lr_mul), lrelu()]
        self.net = nn.Sequential(*seq)
        self.register_buffer("w_avg", torch.zeros(latent_dim))

    def forward(self, z):
        return self.net(z)

    @torch.no_grad()
    def track(self, w: torch.Tensor, beta: float) -> None:
        """``w_avg <- beta * w_avg + (1 - beta) * mean(w)``."""
        self.w_avg.copy_(self.w_avg + (1.0 - beta) * (w.detach().mean(0) - self.w_avg))     # lerp_ has no vmap rule


class StyleLayer(nn.Module):
    """One layer of the synthesis network: [2x upsampling], [3x3 convolution], [blur], then noise
    scaled per map, bias, leaky ReLU, instance norm and AdaIN from the layer's style of w."""

    def __init__(self, channels: int, w_dim: int, *, conv: bool = True, up: bool = False):
        super().__init__()
        self.up = up
        self.conv = EqualConv2d(channels, channels, 3, bias=False) if conv else None
        self.blur = Blur() if up else None
        self.noise_strength = nn.Parameter(torch.zeros(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.style = EqualLinear(w_dim, 2 * channels, gain=1.0)          # A: w -> (scale, bias) per map
        self.act = lrelu()

    def forward(self, h, w, noise):                 # h (B, C, s, s), w (B, w_dim), noise (B, 1, s', s')
        if self.up:
            h = upsample(h)
        if self.conv is not None:
            h = self.conv(h)
        if self.blur is not None:
            h = self.blur(h)
        h = h + noise * self.noise_strength.view(1, -1, 1, 1)
        h = instance_norm(self.act(h + self.bias.view(1, -1, 1, 1)))
        scale, shift = self.style(w).unsqueeze(-1).unsqueeze(-1).chunk(2, 1)   # (B, C, 1, 1) each
        return h * (scale + 1) + shift


class SynthesisNetwork(nn.Module):
    """The learned constant (``width`` maps of the base side), two :class:`StyleLayer` per side up
    to ``side`` (the first at the base without a convolution: the constant itself is styled), and
    a 1x1 to-RGB. ``layer_sides``: the side of each layer's maps (its noise)."""

    def __init__(self, w_dim: int, channels: int, width: int, side: int):
        super().__init__()
        base, sides = levels_of(side)
        self.const = nn.Parameter(torch.ones(1, width, base, base))
        layers = [StyleLayer(width, w_dim, conv=False), StyleLayer(width, w_dim)]
        for _ in sides[1:]:
            layers += [StyleLayer(width, w_dim, up=True), StyleLayer(width, w_dim)]
        self.layers = nn.ModuleList(layers)
        self.layer_sides = [sides[i // 2] for i in range(len(layers))]
        self.to_rgb = EqualConv2d(width, channels, 1, gain=1.0)

    def forward(self, ws, noise):                   # ws (B, layers, w_dim), noise: one (B, 1, s, s) per layer
        h = self.const.expand(len(ws), -1, -1, -1)
        for i, layer in enumerate(self.layers):
            h = layer(h, ws[:, i], noise[i])
        return self.to_rgb(h)                       # (B, C, side, side), linear


class StyleGenerator(nn.Module):
    """The mapping and synthesis networks: one module, so that the generator average covers both."""

    def __init__(self, latent_dim: int, channels: int, width: int, side: int, mapping_layers: int, lr_mul: float):
        super().__init__()
        self.mapping = MappingNetwork(latent_dim, mapping_layers, lr_mul)
        self.synthesis = SynthesisNetwork(latent_dim, channels, width, side)

    @property
    def num_layers(self) -> int:
        return len(self.synthesis.layers)


@dataclass(frozen=True)
class StyleGANConfig(SharedAdam, ConvWidths, AdversarialConfig):
    """Fields: the widths (maps of G's synthesis and of D at every side; w has latent_dim
    dimensions), Adam's (lr, beta1, beta2), the mapping network (mapping_layers, mapping_lr_mul),
    style_mixing (its probability), R1 (r1_gamma, r1_interval), w_avg_beta (the average w's
    decay), mbstd_group (D's minibatch-std group), ema (the generator average)."""

    LIMITS: ClassVar[dict[str, str]] = {"beta2": "[0, 1)", "mapping_layers": "[1, 16]", "mapping_lr_mul": "(0, 1]",
                                        "style_mixing": "[0, 1]", "r1_gamma": ">= 0", "r1_interval": ">= 1",
                                        "w_avg_beta": "[0, 1)", "mbstd_group": ">= 1"}

    batch_size: int = 32
    latent_dim: int = 128
    g_width: int = 128
    d_width: int = 128
    lr: float = 1e-3
    beta1: float = 0.0
    beta2: float = 0.99
    mapping_layers: int = 8
    mapping_lr_mul: float = 0.01
    style_mixing: float = 0.9
    r1_gamma: float = 10.0
    r1_interval: int = 1
    w_avg_beta: float = 0.995
    mbstd_group: int = 4
    ema: float = 0.999


@register_model("stylegan")
class StyleGAN(KarrasGAN):
    Config = StyleGANConfig
    PRESETS = {
        "default": {},
        "tiny": {"g_width": 8, "d_width": 8, "latent_dim": 8, "mapping_layers": 2, "max_steps": 40, "batch_size": 16},
    }
    paper = "Karras et al. 2019"
    published_names = ("StyleGAN",)
    gan_losses = losses.NON_SATURATING
    sweep_space = {
        "wide": {"learning_rate": log_uniform("lr", low=-5, high=-2), "beta1": uniform("beta1", low=0, high=1),
                 "r1_gamma": log_uniform("r1_gamma", low=-2, high=2)},
        "narrow": {"learning_rate": log_uniform("lr", low=-4, high=-3), "beta1": fixed("beta1", value=0.0),
                   "r1_gamma": log_uniform("r1_gamma", low=-1, high=1)},
    }

    # --- networks ------------------------------------------------------------------------------
    def build(self, shape, num_classes):
        c = self.config
        return nn.ModuleDict({
            "G": StyleGenerator(c.latent_dim, shape[0], c.g_width, shape[-1], c.mapping_layers, c.mapping_lr_mul),
            "D": KarrasDiscriminator(shape[0], c.d_width, shape[-1], group=c.mbstd_group, blur=True, growing=False)})

    @property
    def num_layers(self) -> int:
        """Style layers of the synthesis network (2 per side: 6 on 28x28, 8 on 32, 10 on 64)."""
        return self.generator_net("G", averaged=True).num_layers         # the one a sampler-only model holds

    @property
    def coarse_layers(self) -> int:
        """The layers of the coarse styles: those of the first two sides, as the paper's coarse
        styles are those of its first two, 4x4 and 8x8: 7x7 and 14x14 on 28x28, 4x4 and 8x8 on 32
        and 64 (4 layers; at least one layer is left to the fine styles)."""
        return max(1, min(4, self.num_layers - 2))

    # --- training ------------------------------------------------------------------------------
    def updates(self) -> list[Update]:
        return [Update("d", self._d_update)] * self.n_critic + [Update("g", self._g_update)]

    def _train_images(self, ctx, n: int, track: bool = False) -> torch.Tensor:
        """``n`` images of G as it trains: the styles of :meth:`_train_styles`, fresh noise per
        layer and item."""
        G = self.nets_["G"]
        ws = self._train_styles(ctx, n, track)
        return G.synthesis(ws, [ctx.randn(n, 1, s, s) for s in G.synthesis.layer_sides])

    def _train_styles(self, ctx, n: int, track: bool = False) -> torch.Tensor:
        """(n, layers, w_dim): the styles of ``n`` training images, style mixing with probability
        ``style_mixing`` per item (w1 = f(z1) up to a crossover layer drawn in 1..layers-1 per
        item, w2 = f(z2) from there); with ``track``, the average w follows the batch's w1."""
        G, c = self.nets_["G"], self.config
        layers = G.num_layers
        w = G.mapping(ctx.randn(n, c.latent_dim))                               # (n, w_dim)
        if track:
            G.mapping.track(w, c.w_avg_beta)
        ws = w.unsqueeze(1).expand(-1, layers, -1)                              # (n, layers, w_dim)
        if c.style_mixing > 0:
            w2 = G.mapping(ctx.randn(n, c.latent_dim))
            cutoff = ctx.randint(layers - 1, n) + 1                             # (n,), in 1..layers-1
            cutoff = torch.where(ctx.rand(n) < c.style_mixing, cutoff, torch.full_like(cutoff, layers))
            first = torch.arange(layers, device=w.device).unsqueeze(0) < cutoff.unsqueeze(1)   # (n, layers)
            ws = torch.where(first.unsqueeze(-1), ws, w2.unsqueeze(1))
        return ws

    def _d_update(self, ctx, state):
        c, D = self.config, self.nets_["D"]
        x, _ = ctx.next_batch()
        with torch.no_grad():
            fake = self._train_images(ctx, len(x))
        r1_now = c.r1_gamma > 0 and ctx.step % c.r1_interval == 0
        if r1_now:
            x = x.detach().requires_grad_(True)
        d_real, d_fake = D(x), D(fake)
        loss = self.d_loss(d_real, d_fake)
        logs = {}
        if c.r1_gamma:
            penalty = (c.r1_gamma / 2 * c.r1_interval * losses.r1_penalty(d_real, x) if r1_now
                       else d_real.new_zeros(()))
            loss, logs["penalty"] = loss + penalty, penalty.detach()
        return loss, {"loss_d": loss, **logs, **self.diagnostics(d_real, d_fake)}

    def _g_update(self, ctx, state):
        fake = self._train_images(ctx, ctx.batch_size, track=True)
        loss = self.g_loss(self.nets_["D"](fake))
        return loss, {"loss_g": loss}

    def pack_refusal(self, data) -> str | None:
        if self.config.r1_gamma:
            return (f"{self.name}'s R1 penalty (r1_gamma = {self.config.r1_gamma:g}) differentiates inside the step, "
                    f"which vmap cannot do (r1_gamma=0 packs)")
        return None

    def compile_refusal(self) -> str | None:
        if self.config.r1_gamma:
            return (f"{self.name}'s R1 penalty (r1_gamma = {self.config.r1_gamma:g}) differentiates inside the step "
                    f"(a double backward, which torch.compile cannot compile)")
        return super().compile_refusal()

    # --- sampling ------------------------------------------------------------------------------
    def _styles(self, G, z, truncation: float, z_mix=None, crossover: int | None = None) -> torch.Tensor:
        """(n, layers, w_dim): w of ``z`` at every layer (layers from ``crossover`` on: w of
        ``z_mix``), each truncated towards the average w by ``truncation``."""
        def w_of(codes):
            w = G.mapping(codes)
            return w if truncation == 1 else G.mapping.w_avg + truncation * (w - G.mapping.w_avg)

        layers = G.num_layers
        ws = w_of(z).unsqueeze(1).expand(-1, layers, -1)
        if z_mix is not None:
            ws = torch.cat([ws[:, :crossover], w_of(z_mix).unsqueeze(1).expand(-1, layers - crossover, -1)], 1)
        return ws

    def _noise_maps(self, n: int, mode: str, gen: torch.Generator | None) -> list[torch.Tensor]:
        """One (n, 1, s, s) CPU noise map per layer: fixed ("const"), drawn from ``gen`` ("random") or zero."""
        sides = self.nets_[self.sampling_nets()[0]].synthesis.layer_sides
        if mode == "none":
            return [torch.zeros(n, 1, s, s) for s in sides]
        if mode == "const":
            g = torch.Generator().manual_seed(CONST_NOISE_SEED)
            return [torch.randn(1, 1, s, s, generator=g).expand(n, -1, -1, -1) for s in sides]
        return [torch.randn(n, 1, s, s, generator=gen) for s in sides]

    def _render(self, z, *, truncation: float = 1.0, noise: str = "const", gen=None, z_mix=None,
                crossover: int | None = None, chunk: int = 1024) -> torch.Tensor:
        """Images of codes ``z`` (CPU), in [0, 1] on the CPU, by the sampling generator (the average)."""
        G = self.generator_net("G", self._sample_from_average)
        was_training = self.nets_.training
        self.nets_.eval()
        try:
            with torch.no_grad():
                out = []
                for i in range(0, max(len(z), 1), chunk):
                    zi = z[i:i + chunk]
                    maps = [m.to(self.device_) for m in self._noise_maps(len(zi), noise, gen)]
                    mix = None if z_mix is None else z_mix[i:i + chunk].to(self.device_)
                    ws = self._styles(G, zi.to(self.device_), truncation, mix, crossover)
                    out.append(self.to_data_scale(G.synthesis(ws, maps)).float().cpu())
                return torch.cat(out)[: len(z)]
        finally:
            self.nets_.train(was_training)

    _decode_truncation, _decode_noise = 1.0, "const"     # what decode() renders with (set by its arguments)

    def sampling_generate(self, z, labels):
        """What ``decode`` renders (the base class's path): const noise, no truncation unless asked."""
        G = self.generator_net("G", self._sample_from_average)
        maps = [m.to(z.device) for m in self._noise_maps(len(z), self._decode_noise, None)]
        return G.synthesis(self._styles(G, z, self._decode_truncation), maps)

    def generate(self, z, labels, *, averaged: bool = False):
        G = self.generator_net("G", averaged)
        maps = [m.to(z.device) for m in self._noise_maps(len(z), "const", None)]
        return G.synthesis(self._styles(G, z, 1.0), maps)

    def _check_options(self, truncation, noise, allowed=NOISE_MODES) -> float:
        if isinstance(truncation, bool) or not isinstance(truncation, numbers.Real) or not 0 <= truncation <= 1:
            raise ValueError(f"{self.name}: truncation must be a number from 0 to 1 (psi: 1 = no truncation, 0 = the "
                             f"average w), got {truncation!r}")
        if noise not in allowed:
            raise ValueError(f"{self.name}: noise must be {' or '.join(map(repr, allowed))}, got {noise!r}")
        return float(truncation)

    def _check_crossover(self, crossover) -> int:
        if crossover is None:
            return self.coarse_layers
        top = self.num_layers - 1
        if isinstance(crossover, bool) or not isinstance(crossover, numbers.Integral) or not 1 <= crossover <= top:
            raise ValueError(f"{self.name}: crossover must be a layer from 1 to {top} (the first layer whose styles "
                             f"come from the mixed seed), got {crossover!r}")
        return int(crossover)

    def _require_fitted(self, what: str) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"this {self.name} model is not fitted yet: call fit(data) before {what}()")

    @torch.no_grad()
    def sample(self, n, labels=None, *, seed=None, truncation: float = 1.0, noise: str = "const",
               mix_seed: int | None = None, crossover: int | None = None):
        """``n`` images (n, C, H, W) in [0, 1], float32 on the CPU; the same seed, the same samples.

        ``truncation``: psi in [0, 1], w' = w_avg + psi (w - w_avg) at every layer (1: none).
        ``noise``: "const" (fixed maps, the same for every sample), "random" (drawn per sample
        from the sample's generator, after the codes) or "none". ``mix_seed``: the styles of the
        layers from ``crossover`` on (default :attr:`coarse_layers`: the fine styles) come from the
        codes of this seed (the i-th sample mixes the i-th codes of both seeds)."""
        self._require_fitted("sample")
        n = _checks.check_n(n, self._item_numel(), self.name)
        self._check_labels(n, labels)
        truncation = self._check_options(truncation, noise)
        gen = self.sample_rng_ if seed is None else torch.Generator().manual_seed(
            check_seed(seed, "sample: seed", MAX_SAMPLE_SEED))
        z = torch.randn(n, self.config.latent_dim, generator=gen)
        z_mix = crossover_at = None
        if mix_seed is not None:
            crossover_at = self._check_crossover(crossover)
            z_mix = torch.randn(n, self.config.latent_dim,
                                generator=torch.Generator().manual_seed(check_seed(mix_seed, "sample: mix_seed",
                                                                                   MAX_SAMPLE_SEED)))
        elif crossover is not None:
            raise ValueError(f"{self.name}: crossover mixes the styles of mix_seed: give mix_seed too")
        return self._render(z, truncation=truncation, noise=noise, gen=gen, z_mix=z_mix, crossover=crossover_at)

    @torch.no_grad()
    def decode(self, z, labels=None, *, truncation: float = 1.0, noise: str = "const"):
        """Images of given codes ``z`` (see :meth:`GenerativeModel.decode`), with the truncation
        and the noise ("const" or "none") of :meth:`sample`."""
        self._require_fitted("decode")
        self._decode_truncation = self._check_options(truncation, noise, ("const", "none"))
        self._decode_noise = noise
        try:
            return super().decode(z, labels)
        finally:
            del self._decode_truncation, self._decode_noise

    @torch.no_grad()
    def style_mixing_grid(self, row_seeds, col_seeds, *, crossover: int | None = None, truncation: float = 1.0,
                          noise: str = "const") -> torch.Tensor:
        """The paper's style-mixing figure: (rows, columns, C, H, W), the image at (i, j) taking
        the styles of the layers below ``crossover`` (default :attr:`coarse_layers`: the coarse
        styles) from ``row_seeds[i]`` and the others from ``col_seeds[j]``. Each seed's codes are
        those of ``sample(1, seed=s)``, whose image heads its row or column."""
        self._require_fitted("style_mixing_grid")
        truncation = self._check_options(truncation, noise, ("const", "none"))
        crossover = self._check_crossover(crossover)
        rows, cols = list(row_seeds), list(col_seeds)
        if not rows or not cols:
            raise ValueError(f"{self.name}: style_mixing_grid takes at least one row seed and one column seed")
        _checks.check_n(len(rows) * len(cols), self._item_numel(), self.name, what="style_mixing_grid")

        def codes(seeds, what):
            return torch.cat([torch.randn(1, self.config.latent_dim, generator=torch.Generator().manual_seed(
                check_seed(s, f"style_mixing_grid: {what}", MAX_SAMPLE_SEED))) for s in seeds])

        z = codes(rows, "row seed").repeat_interleave(len(cols), 0)           # (R * C, d): row i, then its columns
        z_mix = codes(cols, "column seed").repeat(len(rows), 1)
        x = self._render(z, truncation=truncation, noise=noise, z_mix=z_mix, crossover=crossover)
        return x.view(len(rows), len(cols), *x.shape[1:])
