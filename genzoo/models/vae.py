"""VAE (Kingma & Welling 2014): Gaussian encoder, reparameterisation, Bernoulli (BCE)
reconstruction + KL(q(z|x) || N(0, I)); samples decode N(0, I) codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from torch import nn

from . import losses
from ._api import register_model
from .ae import AutoEncoderBase, AutoencoderConfig
from .layers import ConvDecoder, ConvEncoder


@dataclass(frozen=True)
class VAEConfig(AutoencoderConfig):
    LIMITS: ClassVar[dict[str, str]] = {"beta": ">= 0"}

    beta: float = 1.0   # weight of the KL term (1 = the ELBO)


@register_model("vae")
class VAE(AutoEncoderBase):
    paper = "Kingma & Welling 2014"
    published_names = ("VAE",)
    Config = VAEConfig
    PRESETS = {"default": {}, "tiny": {"latent_dim": 4, "width": 4, "max_steps": 40, "batch_size": 32}}

    def build(self, shape, num_classes):
        c = self.config
        side = shape[-1]
        return nn.ModuleDict({"encoder": ConvEncoder(shape[0], 2 * c.latent_dim, c.width, side=side),  # (mu, logvar)
                              "decoder": ConvDecoder(c.latent_dim, shape[0], c.width, side=side)})

    def code(self, x):
        return self.nets_["encoder"](x).chunk(2, dim=1)[0]                  # posterior mean (B, latent)

    def loss(self, ctx, state):
        x, _ = ctx.next_batch()                                             # (B, C, H, W) in [0, 1]
        mu, logvar = self.nets_["encoder"](x).chunk(2, dim=1)              # (B, latent) each
        z = mu + (0.5 * logvar).exp() * ctx.randn(*mu.shape)                 # reparameterisation
        recon = losses.bernoulli_nll(self.nets_["decoder"](z), x)
        kl = losses.gaussian_kl(mu, logvar)
        loss = recon + self.config.beta * kl
        return loss, {"loss": loss, "recon": recon, "kl": kl}
