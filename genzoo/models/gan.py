"""GAN (Goodfellow et al. 2014): MLP generator and discriminator, the original losses
(non-saturating generator loss by default, ``loss="minimax"`` for the original objective)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from torch import nn

from . import losses
from ._api import register_model
from ._config import AdamGD, AdversarialConfig, GeneratorLoss, MLPSizes, RemediesConfig
from .adversarial import AdversarialModel, packed_shape
from .layers import MLPDiscriminator, MLPGenerator


@dataclass(frozen=True)
class GANNets(MLPSizes):
    """The original GAN's MLPs: their sizes and D's dropout, maxout units and G's batch norm."""

    LIMITS: ClassVar[dict[str, str]] = {"d_dropout": "[0, 1)", "d_maxout": ">= 0"}

    g_hidden: tuple[int, ...] = (256, 512, 1024)
    d_hidden: tuple[int, ...] = (1024, 512, 256)
    d_dropout: float = 0.3
    d_maxout: int = 0           # > 0: D's hidden units are maxout units of this many pieces (PacGAN's 2-D D: 5)
    g_batch_norm: bool = False  # batch norm in G's hidden layers (PacGAN's 2-D G)


@dataclass(frozen=True)
class GANConfig(AdamGD, GeneratorLoss, GANNets, AdversarialConfig, RemediesConfig):
    """Fields: the remedies, n_critic, the MLPs, loss, then Adam's (lr_g, lr_d, beta1)."""


@register_model("gan")
class GAN(AdversarialModel):
    """Fully connected G and D; non-saturating generator loss by default."""

    architecture = "mlp"
    paper = "Goodfellow et al. 2014"
    published_names = ("NS GAN", "MM GAN")
    equilibrium_loss = losses.EquilibriumLoss("loss_g", math.log(2), "generator BCE loss ln 2")

    Config = GANConfig
    PRESETS = {
        "default": {},
        "tiny": {"g_hidden": (64, 64), "d_hidden": (64, 64), "latent_dim": 8, "max_steps": 60, "batch_size": 32},
    }

    def build(self, shape, num_classes):
        c, image = self.config, len(shape) == 3
        return nn.ModuleDict({
            "G": MLPGenerator(c.latent_dim, shape, c.g_hidden, tanh=image, batch_norm=c.g_batch_norm),
            "D": MLPDiscriminator(packed_shape(shape, c.pack), c.d_hidden, dropout=c.d_dropout if image else 0.0,
                                 batch_stat=c.d_batch_stat, maxout=c.d_maxout),
        })
