"""DCGAN (Radford et al. 2016): strided convolutions in D, transposed convolutions in G, batch norm
in both (not at G's output nor D's input), ReLU + Tanh in G, LeakyReLU(0.2) in D, Adam(2e-4, 0.5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from torch import nn

from ._api import register_model
from .adversarial import AdversarialConfig, AdversarialModel
from .layers import DCDiscriminator, DCGenerator


@dataclass(frozen=True)
class DCGANConfig(AdversarialConfig):
    LIMITS: ClassVar[dict[str, str]] = {"g_width": ">= 1", "d_width": ">= 1", "lr_g": "> 0", "lr_d": "> 0",
                                        "beta1": "[0, 1)"}
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {"loss": ("non-saturating", "minimax")}

    g_width: int = 64
    d_width: int = 64
    d_batch_norm: bool = True
    loss: str = "non-saturating"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5


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
