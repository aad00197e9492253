"""WGAN (Arjovsky et al. 2017): a critic without sigmoid, weights clipped to +-0.01, 5 critic steps
per generator step, RMSprop(5e-5). DCGAN backbone for images, MLPs for points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from ..space import choice, fixed, log_uniform, uniform
from . import losses
from ._api import register_model
from ._config import AdversarialConfig, ConvOrMLPNets, DiscriminatorBatchNorm, RemediesConfig, SharedAdam
from .adversarial import AdversarialModel, conv_or_mlp_networks
from .base import BaseConfig


@dataclass(frozen=True)
class WeightClipping(BaseConfig):
    """WGAN's Lipschitz constraint: the critic's weights clamped to [-clip, clip] after each step."""

    LIMITS: ClassVar[dict[str, str]] = {"clip": "> 0"}

    clip: float = 0.01


@dataclass(frozen=True)
class OptimizerChoice(BaseConfig):
    """RMSprop (Arjovsky et al.) or Adam (compare_gan's WGAN) for G and the critic."""

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {"optimizer": ("rmsprop", "adam")}

    optimizer: str = "rmsprop"


@dataclass(frozen=True)
class WGANConfig(SharedAdam, OptimizerChoice, DiscriminatorBatchNorm, WeightClipping, ConvOrMLPNets,
                 AdversarialConfig, RemediesConfig):
    """Fields: the remedies, n_critic, the widths (images) and MLP sizes (points), clip,
    d_batch_norm (images: batch norm in the critic), optimizer, lr, beta1 (Adam only)."""

    n_critic: int = 5
    lr: float = 5e-5


@register_model("wgan")
class WGAN(AdversarialModel):
    """The critic's losses are Wasserstein's; its weights are clipped after every step; the
    generator update draws fresh noise."""

    Config = WGANConfig
    gan_losses = losses.WASSERSTEIN
    reuse_fake = False
    # compare_gan's WGAN: Adam (the paper's RMSprop is trial 0, the defaults), clipping searched too
    sweep_space = {
        "wide": {"learning_rate": log_uniform("lr", low=-5, high=-2), "beta1": uniform("beta1", low=0, high=1),
                 "optimizer": fixed("optimizer", value="adam"), "disc_iters": choice("n_critic", values=(1, 5)),
                 "clip": log_uniform("clip", low=-3, high=0), "d_batch_norm": choice("d_batch_norm", values=(True, False))},
        "narrow": {"learning_rate": log_uniform("lr", low=-4, high=-3), "beta1": fixed("beta1", value=0.5),
                   "optimizer": fixed("optimizer", value="adam"), "disc_iters": fixed("n_critic", value=1),
                   "clip": log_uniform("clip", low=-2, high=0)},
    }
    architecture = "conv"
    paper = "Arjovsky et al. 2017"
    published_names = ("WGAN",)
    PRESETS = {
        "default": {},
        "tiny": {"g_width": 8, "d_width": 8, "g_hidden": (64, 64), "d_hidden": (64, 64), "latent_dim": 8,
                 "max_steps": 30, "batch_size": 32, "n_critic": 2},
    }

    def build(self, shape, num_classes):
        return conv_or_mlp_networks(self.config, shape, d_batch_norm=self.config.d_batch_norm)

    def configure_optimizers(self):
        c = self.config
        if c.optimizer == "adam":
            return {net.lower(): torch.optim.Adam(self.nets_[net].parameters(), lr=c.lr, betas=(c.beta1, 0.999))
                    for net in ("G", "D")}
        return {"g": torch.optim.RMSprop(self.nets_["G"].parameters(), lr=c.lr),
                "d": torch.optim.RMSprop(self.nets_["D"].parameters(), lr=c.lr)}

    def after_d_step(self):
        losses.clip_weights(self.nets_["D"], self.config.clip)
