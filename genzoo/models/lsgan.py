"""LSGAN (Mao et al. 2017): the GAN with least-squares losses, D pushed to 1 on real data and 0 on
generated data, G pushing D's output on its samples to 1; Adam(2e-4, 0.5). DCGAN backbone on
images, MLPs on 2-D points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from . import losses
from ._api import register_model
from .adversarial import AdversarialConfig, AdversarialModel, conv_or_mlp_networks


@dataclass(frozen=True)
class LSGANConfig(AdversarialConfig):
    LIMITS: ClassVar[dict[str, str]] = {"g_width": ">= 1", "d_width": ">= 1", "g_hidden": ">= 1", "d_hidden": ">= 1",
                                        "lr_g": "> 0", "lr_d": "> 0", "beta1": "[0, 1)"}

    g_width: int = 64                              # images: DCGAN widths
    d_width: int = 64
    g_hidden: tuple[int, ...] = (512, 512, 512)    # points: MLP widths
    d_hidden: tuple[int, ...] = (512, 512, 512)
    d_batch_norm: bool = True                      # images: batch norm in D
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5


@register_model("lsgan")
class LSGAN(AdversarialModel):
    Config = LSGANConfig
    PRESETS = {
        "default": {},
        "tiny": {"g_width": 8, "d_width": 8, "g_hidden": (64, 64), "d_hidden": (64, 64), "latent_dim": 8,
                 "max_steps": 40, "batch_size": 32},
    }
    d_loss = staticmethod(losses.least_squares_d_loss)
    g_loss = staticmethod(losses.least_squares_g_loss)
    diagnostics = staticmethod(losses.mean_output_diagnostics)
    architecture = "conv"
    paper = "Mao et al. 2017"
    published_names = ("LSGAN",)

    def build(self, shape, num_classes):
        return conv_or_mlp_networks(self.config, shape)
