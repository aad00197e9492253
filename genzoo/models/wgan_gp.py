"""WGAN-GP (Gulrajani et al. 2017): the Wasserstein critic made 1-Lipschitz by a gradient penalty
(lambda 10, on random interpolates of real and generated data) instead of weight clipping; no batch
norm in the critic; 5 critic steps per generator step; Adam(1e-4, betas (0.5, 0.9)). DCGAN
backbone on images, MLPs on 2-D points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from ..space import choice, fixed, log_uniform, uniform
from . import losses
from ._api import register_model
from ._config import AdversarialConfig, ConvOrMLPNets, RemediesConfig, SharedAdam
from .adversarial import AdversarialModel, conv_or_mlp_networks
from .base import BaseConfig


@dataclass(frozen=True)
class GradientPenalty(BaseConfig):
    """The weight of WGAN-GP's gradient penalty in the critic's loss."""

    LIMITS: ClassVar[dict[str, str]] = {"gp_lambda": ">= 0"}

    gp_lambda: float = 10.0


@dataclass(frozen=True)
class WGANGPConfig(SharedAdam, GradientPenalty, ConvOrMLPNets, AdversarialConfig, RemediesConfig):
    """Fields: the remedies, n_critic, the widths (images) and MLP sizes (points), gp_lambda, lr,
    beta1, beta2 (Adam's betas)."""

    LIMITS: ClassVar[dict[str, str]] = {"beta2": "[0, 1)"}

    n_critic: int = 5
    lr: float = 1e-4
    beta2: float = 0.9


@register_model("wgan-gp")
class WGANGP(AdversarialModel):
    Config = WGANGPConfig
    PRESETS = {
        "default": {},
        "tiny": {"g_width": 8, "d_width": 8, "g_hidden": (64, 64), "d_hidden": (64, 64), "latent_dim": 8,
                 "max_steps": 30, "batch_size": 32, "n_critic": 2},
    }
    gan_losses = losses.WASSERSTEIN
    reuse_fake = False
    # compare_gan's WGAN-GP space; the critic has no batch norm (the penalty is per sample)
    sweep_space = {
        "wide": {"learning_rate": log_uniform("lr", low=-5, high=-2), "beta1": uniform("beta1", low=0, high=1),
                 "disc_iters": choice("n_critic", values=(1, 5)), "gp_lambda": log_uniform("gp_lambda", low=-1, high=2)},
        "narrow": {"learning_rate": log_uniform("lr", low=-4, high=-3), "beta1": fixed("beta1", value=0.5),
                   "disc_iters": fixed("n_critic", value=1), "gp_lambda": log_uniform("gp_lambda", low=-1, high=1)},
    }
    architecture = "conv"
    paper = "Gulrajani et al. 2017"
    published_names = ("WGAN GP", "WGAN-GP")

    def build(self, shape, num_classes):
        return conv_or_mlp_networks(self.config, shape, d_batch_norm=False)

    def configure_optimizers(self):
        c = self.config
        return {"g": torch.optim.Adam(self.nets_["G"].parameters(), lr=c.lr, betas=(c.beta1, c.beta2)),
                "d": torch.optim.Adam(self.nets_["D"].parameters(), lr=c.lr, betas=(c.beta1, c.beta2))}

    def d_penalty(self, real, fake, labels, ctx):
        gp = losses.gradient_penalty(lambda x: self.discriminate(x, labels), real, fake, ctx.rand(len(real)))
        return self.config.gp_lambda * gp
