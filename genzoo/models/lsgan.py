"""LSGAN (Mao et al. 2017): the GAN with least-squares losses, D pushed to 1 on real data and 0 on
generated data, G pushing D's output on its samples to 1; Adam(2e-4, 0.5). DCGAN backbone on
images, MLPs on 2-D points."""

from __future__ import annotations

from dataclasses import dataclass

from . import losses
from ._api import register_model
from ._config import AdamGD, AdversarialConfig, ConvOrMLPNets, DiscriminatorBatchNorm, RemediesConfig
from .adversarial import AdversarialModel, conv_or_mlp_networks


@dataclass(frozen=True)
class LSGANConfig(AdamGD, DiscriminatorBatchNorm, ConvOrMLPNets, AdversarialConfig, RemediesConfig):
    """Fields: the remedies, n_critic, the widths (images) and MLP sizes (points), d_batch_norm
    (images), then Adam's (lr_g, lr_d, beta1)."""


@register_model("lsgan")
class LSGAN(AdversarialModel):
    Config = LSGANConfig
    PRESETS = {
        "default": {},
        "tiny": {"g_width": 8, "d_width": 8, "g_hidden": (64, 64), "d_hidden": (64, 64), "latent_dim": 8,
                 "max_steps": 40, "batch_size": 32},
    }
    gan_losses = losses.LEAST_SQUARES
    equilibrium_loss = losses.EquilibriumLoss("loss_d", 0.25, "discriminator MSE loss 1/4")
    architecture = "conv"
    paper = "Mao et al. 2017"
    published_names = ("LSGAN",)

    def build(self, shape, num_classes):
        return conv_or_mlp_networks(self.config, shape, d_batch_norm=self.config.d_batch_norm)
