"""WGAN (Arjovsky et al. 2017): a critic without sigmoid, weights clipped to +-0.01, 5 critic steps
per generator step, RMSprop(5e-5). DCGAN backbone for images, MLPs for points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from ._api import register_model
from .base import BaseConfig
from .gan import AdversarialModel
from .layers import DCDiscriminator, DCGenerator, MLPDiscriminator, MLPGenerator


@dataclass(frozen=True)
class WGANConfig(BaseConfig):
    LIMITS: ClassVar[dict[str, str]] = {"g_width": ">= 1", "d_width": ">= 1", "g_hidden": ">= 1", "d_hidden": ">= 1",
                                        "n_critic": ">= 1", "clip": "> 0", "lr": "> 0"}

    g_width: int = 64                       # images: DCGAN widths
    d_width: int = 64
    g_hidden: tuple[int, ...] = (512, 512, 512)   # points: MLP widths
    d_hidden: tuple[int, ...] = (512, 512, 512)
    n_critic: int = 5
    clip: float = 0.01
    lr: float = 5e-5


@register_model("wgan")
class WGAN(AdversarialModel):
    Config = WGANConfig
    PRESETS = {
        "default": {},
        "tiny": {"g_width": 8, "d_width": 8, "g_hidden": (64, 64), "d_hidden": (64, 64), "latent_dim": 8,
                 "max_steps": 30, "batch_size": 32, "n_critic": 2},
    }

    @property
    def batches_per_step(self) -> int:       # each generator step consumes n_critic real batches
        return self.config.n_critic

    def build(self, shape, num_classes):
        c = self.config
        if len(shape) == 3:
            return nn.ModuleDict({"G": DCGenerator(c.latent_dim, shape[0], c.g_width),
                                  "D": DCDiscriminator(shape[0], c.d_width)})
        return nn.ModuleDict({"G": MLPGenerator(c.latent_dim, shape, c.g_hidden, tanh=False),
                              "D": MLPDiscriminator(shape, c.d_hidden)})

    def configure_optimizers(self):
        return {"g": torch.optim.RMSprop(self.nets_["G"].parameters(), lr=self.config.lr),
                "d": torch.optim.RMSprop(self.nets_["D"].parameters(), lr=self.config.lr)}

    def training_step(self, ctx):
        G, D, opt, c = self.nets_["G"], self.nets_["D"], self.optimizers_, self.config
        for _ in range(c.n_critic):
            x, _ = ctx.next_batch()
            with torch.no_grad():
                fake = G(ctx.randn(len(x), c.latent_dim))
            d_real, d_fake = D(x).mean(), D(fake).mean()
            loss_d = d_fake - d_real                  # critic maximises E D(x) - E D(G(z))
            opt["d"].zero_grad(set_to_none=True)
            loss_d.backward()
            opt["d"].step()
            with torch.no_grad():
                for p in D.parameters():
                    p.clamp_(-c.clip, c.clip)
        loss_g = -D(G(ctx.randn(ctx.batch_size, c.latent_dim))).mean()
        opt["g"].zero_grad(set_to_none=True)
        loss_g.backward()
        opt["g"].step()
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(), "wasserstein": (d_real - d_fake).detach(),
                "d_real": d_real.detach(), "d_fake": d_fake.detach()}
