"""GAN (Goodfellow et al. 2014): MLP generator and discriminator, and the adversarial step the
other GAN families reuse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from ._api import register_model
from .base import BaseConfig, GenerativeModel
from .layers import MLPDiscriminator, MLPGenerator


class AdversarialModel(GenerativeModel):
    """A generator ``G`` and a discriminator ``D`` trained by alternating Adam steps.

    Images are scaled to [-1, 1] to match G's Tanh output; points are used as they are.
    """

    data_kinds = ("image", "points")

    def to_model_scale(self, x):
        return x * 2 - 1 if x.dim() == 4 else x

    def to_data_scale(self, x):
        return ((x + 1) / 2).clamp(0, 1) if x.dim() == 4 else x

    def configure_optimizers(self):
        c = self.config
        return {"g": torch.optim.Adam(self.nets_["G"].parameters(), lr=c.lr_g, betas=(c.beta1, 0.999)),
                "d": torch.optim.Adam(self.nets_["D"].parameters(), lr=c.lr_d, betas=(c.beta1, 0.999))}

    def generate(self, z, labels):
        return self.nets_["G"](z)

    def discriminate(self, x, labels):
        return self.nets_["D"](x)                                             # (B,) logits

    def training_step(self, ctx):
        opt, G_labels = self.optimizers_, None
        x, y = ctx.next_batch()
        z = ctx.randn(len(x), self.config.latent_dim)                          # (B, latent)
        if self.conditional:
            G_labels = y                                                      # G imitates the batch's classes
        fake = self.generate(z, G_labels)

        # discriminator: log D(x) + log(1 - D(G(z)))
        d_real = self.discriminate(x, y if self.conditional else None)
        d_fake = self.discriminate(fake.detach(), G_labels)
        loss_d = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                  + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        opt["d"].zero_grad(set_to_none=True)
        loss_d.backward()
        opt["d"].step()

        # generator: non-saturating -log D(G(z)), or the original minimax log(1 - D(G(z)))
        d_gen = self.discriminate(fake, G_labels)
        if self.config.loss == "minimax":
            loss_g = -F.softplus(d_gen).mean()                                 # = mean log(1 - sigmoid(d))
        else:
            loss_g = F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))
        opt["g"].zero_grad(set_to_none=True)
        loss_g.backward()
        opt["g"].step()
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(),
                "d_real": torch.sigmoid(d_real).mean().detach(), "d_fake": torch.sigmoid(d_fake).mean().detach()}


@dataclass(frozen=True)
class GANConfig(BaseConfig):
    LIMITS: ClassVar[dict[str, str]] = {"g_hidden": ">= 1", "d_hidden": ">= 1", "d_dropout": "[0, 1)",
                                        "lr_g": "> 0", "lr_d": "> 0", "beta1": "[0, 1)"}
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {"loss": ("non-saturating", "minimax")}

    g_hidden: tuple[int, ...] = (256, 512, 1024)
    d_hidden: tuple[int, ...] = (1024, 512, 256)
    d_dropout: float = 0.3
    loss: str = "non-saturating"   # or "minimax" (the original objective)
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5


@register_model("gan")
class GAN(AdversarialModel):
    """Fully connected G and D; non-saturating generator loss by default."""

    Config = GANConfig
    PRESETS = {
        "default": {},
        "tiny": {"g_hidden": (64, 64), "d_hidden": (64, 64), "latent_dim": 8, "max_steps": 60, "batch_size": 32},
    }

    def build(self, shape, num_classes):
        c, image = self.config, len(shape) == 3
        return nn.ModuleDict({
            "G": MLPGenerator(c.latent_dim, shape, c.g_hidden, tanh=image),
            "D": MLPDiscriminator(shape, c.d_hidden, dropout=c.d_dropout if image else 0.0),
        })
