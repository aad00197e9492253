"""cGAN (Mirza & Osindero 2014): generator and discriminator both conditioned on the class label.

Images: the DCGAN backbone; G sees [z, embed(label)], D sees the image with one extra channel, a
learned map of the label, the image's size. Points: MLPs with the label embedding concatenated to the input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from ._api import register_model
from ._config import AdamGD, AdversarialConfig, ConvOrMLPNets, DiscriminatorBatchNorm, GeneratorLoss
from .adversarial import AdversarialModel
from .base import BaseConfig
from .layers import DCDiscriminator, DCGenerator, MLPDiscriminator, MLPGenerator


@dataclass(frozen=True)
class LabelEmbedding(BaseConfig):
    """The size of the label embedding G sees beside z (and D beside the points)."""

    LIMITS: ClassVar[dict[str, str]] = {"embed_dim": ">= 1"}

    embed_dim: int = 50


@dataclass(frozen=True)
class CGANConfig(AdamGD, GeneratorLoss, AdversarialConfig, DiscriminatorBatchNorm, LabelEmbedding, ConvOrMLPNets):
    """Fields: the widths (images) and MLP sizes (points), embed_dim, d_batch_norm (images),
    n_critic, loss, then Adam's (lr_g, lr_d, beta1). None of the remedies for mode collapse."""


@register_model("cgan")
class CGAN(AdversarialModel):
    Config = CGANConfig
    PRESETS = {
        "default": {},
        "tiny": {"g_width": 8, "d_width": 8, "g_hidden": (64, 64), "d_hidden": (64, 64), "latent_dim": 8,
                 "embed_dim": 8, "max_steps": 40, "batch_size": 32},
    }
    conditional = True
    architecture = "conv"
    sampler_nets = ("G", "g_embed")
    paper = "Mirza & Osindero 2014"

    @property
    def pack(self) -> int:          # its config has no remedies: D judges one (item, label) at a time
        return 1

    @property
    def replay(self) -> float:      # ... and sees only fresh samples
        return 0.0

    def build(self, shape, num_classes):
        c = self.config
        nets = {"g_embed": nn.Embedding(num_classes, c.embed_dim)}
        if len(shape) == 3:
            nets["G"] = DCGenerator(c.latent_dim + c.embed_dim, shape[0], c.g_width, side=shape[-1])
            nets["d_embed"] = nn.Embedding(num_classes, shape[1] * shape[2])        # a learned (H, W) map per label
            nets["D"] = DCDiscriminator(shape[0] + 1, c.d_width, batch_norm=c.d_batch_norm, side=shape[-1])
        else:
            nets["G"] = MLPGenerator(c.latent_dim + c.embed_dim, shape, c.g_hidden, tanh=False)
            nets["d_embed"] = nn.Embedding(num_classes, c.embed_dim)
            nets["D"] = MLPDiscriminator(shape, c.d_hidden, extra_dim=c.embed_dim)
        return nn.ModuleDict(nets)

    def generator_parameters(self):
        return [*self.nets_["G"].parameters(), *self.nets_["g_embed"].parameters()]

    def discriminator_parameters(self):
        return [*self.nets_["D"].parameters(), *self.nets_["d_embed"].parameters()]

    def generate(self, z, labels, *, averaged: bool = False):
        embed = self.generator_net("g_embed", averaged)(labels)
        return self.generator_net("G", averaged)(torch.cat([z, embed], 1))           # (B, latent + embed)

    def discriminate(self, x, labels):
        e = self.nets_["d_embed"](labels)
        if x.dim() == 4:
            return self.nets_["D"](torch.cat([x, e.view(-1, 1, *x.shape[2:])], 1))  # (B, C + 1, H, W)
        return self.nets_["D"](x, e)
