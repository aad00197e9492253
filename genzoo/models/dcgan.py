"""DCGAN (Radford et al. 2016): strided convolutions in D, transposed convolutions in G, batch norm
in both (not at G's output nor D's input), ReLU + Tanh in G, LeakyReLU(0.2) in D, Adam(2e-4, 0.5)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ._api import register_model
from ._config import AdamGD, AdversarialConfig, ConvWidths, DiscriminatorBatchNorm, GeneratorLoss, RemediesConfig
from .adversarial import AdversarialModel
from .layers import DCDiscriminator, DCGenerator


@dataclass(frozen=True)
class DCGANConfig(AdamGD, GeneratorLoss, DiscriminatorBatchNorm, ConvWidths, AdversarialConfig, RemediesConfig):
    """Fields: the remedies, n_critic, the widths, d_batch_norm, loss, then Adam's (lr_g, lr_d, beta1)."""


@register_model("dcgan")
class DCGAN(AdversarialModel):
    Config = DCGANConfig
    PRESETS = {
        "default": {},
        "tiny": {"g_width": 8, "d_width": 8, "latent_dim": 8, "max_steps": 40, "batch_size": 32},
    }
    data_kinds = ("image",)
    architecture = "conv"
    paper = "Radford et al. 2016"

    def build(self, shape, num_classes):
        c = self.config
        return nn.ModuleDict({"G": DCGenerator(c.latent_dim, shape[0], c.g_width),
                              "D": DCDiscriminator(shape[0] * c.pack, c.d_width, batch_norm=c.d_batch_norm,
                                                   batch_stat=c.d_batch_stat)})
