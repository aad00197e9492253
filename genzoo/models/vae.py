"""VAE (Kingma & Welling 2014): Gaussian encoder, reparameterisation, Bernoulli (BCE)
reconstruction + KL(q(z|x) || N(0, I)); samples decode N(0, I) codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from ._api import register_model
from .ae import AutoEncoderBase
from .base import BaseConfig
from .layers import ConvDecoder, ConvEncoder


@dataclass(frozen=True)
class VAEConfig(BaseConfig):
    LIMITS: ClassVar[dict[str, str]] = {"width": ">= 1", "lr": "> 0", "beta": ">= 0"}

    latent_dim: int = 16
    width: int = 32
    lr: float = 1e-3
    batch_size: int = 128
    beta: float = 1.0   # weight of the KL term (1 = the ELBO)


@register_model("vae")
class VAE(AutoEncoderBase):
    Config = VAEConfig
    PRESETS = {"default": {}, "tiny": {"latent_dim": 4, "width": 4, "max_steps": 40, "batch_size": 32}}

    def build(self, shape, num_classes):
        c = self.config
        return nn.ModuleDict({"encoder": ConvEncoder(shape[0], 2 * c.latent_dim, c.width),   # -> (mu, logvar)
                              "decoder": ConvDecoder(c.latent_dim, shape[0], c.width)})

    def code(self, x):
        return self.nets_["encoder"](x).chunk(2, dim=1)[0]                  # posterior mean (B, latent)

    def training_step(self, ctx):
        x, _ = ctx.next_batch()                                             # (B, C, 28, 28)
        mu, logvar = self.nets_["encoder"](x).chunk(2, dim=1)              # (B, latent) each
        z = mu + (0.5 * logvar).exp() * ctx.randn(*mu.shape)                 # reparameterisation
        logits = self.nets_["decoder"](z)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum() / len(x)
        loss = recon + self.config.beta * kl
        opt = self.optimizers_["ae"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": loss.detach(), "recon": recon.detach(), "kl": kl.detach()}
