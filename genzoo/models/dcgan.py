"""DCGAN (Radford et al. 2016): strided convolutions in D, transposed convolutions in G, batch norm
in both (not at G's output nor D's input), ReLU + Tanh in G, LeakyReLU(0.2) in D, Adam(2e-4, 0.5).

Its networks' depth and kernels are config fields (``g_layers``, ``d_layers``, ``kernel``,
``g_out_conv``: :class:`~._config.ConvLayout`), so the Stacked-MNIST networks of the papers are
settings of this model: ``g_layers=4, d_layers=4, kernel=5, g_width=32, d_width=64`` is the DCGAN
of VEEGAN's and PacGAN's experiment (Lin et al. 2018, Table 2), and ``dcgan-smalld`` the networks
of Metz et al.'s (Unrolled GAN) experiment with a discriminator a quarter of the generator's size
(Lin et al. 2018, Table 3)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ._api import register_model
from ._config import (AdamGD, AdversarialConfig, ConvLayout, ConvWidths, DiscriminatorBatchNorm, GeneratorLoss,
                      RemediesConfig)
from .adversarial import AdversarialModel, register_variant
from .layers import DCDiscriminator, DCGenerator


@dataclass(frozen=True)
class DCGANConfig(ConvLayout, AdamGD, GeneratorLoss, DiscriminatorBatchNorm, ConvWidths, AdversarialConfig,
                  RemediesConfig):
    """Fields: the remedies, n_critic, the widths, d_batch_norm, loss, Adam's (lr_g, lr_d, beta1),
    then the layout (g_layers, d_layers, kernel, g_out_conv)."""


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
        return nn.ModuleDict({"G": DCGenerator(c.latent_dim, shape[0], c.g_width, layers=c.g_layers, kernel=c.kernel,
                                               out_conv=c.g_out_conv, side=shape[-1]),
                              "D": DCDiscriminator(shape[0] * c.pack, c.d_width, batch_norm=c.d_batch_norm,
                                                   batch_stat=c.d_batch_stat, layers=c.d_layers, kernel=c.kernel,
                                                   side=shape[-1])})


# Lin et al. 2018 (PacGAN), Table 3: Metz et al.'s (Unrolled GAN) Stacked-MNIST networks, whose
# discriminator has a quarter of the generator's filters, layer for layer from the image (2, 4, 8
# against G's 8, 16, 32), so that a plain GAN collapses. From PacGAN's code
# (fjxmlzn/PacGAN, stacked_MNIST_experiments/unrolled_GAN_experiment/D=0.25G): G projects z (256
# dimensions, N(0, I)) to 4x4x64, then 3x3 transposed convolutions to 7x7x32, 14x14x16, 28x28x8 and a
# 3x3 convolution to the image; D: three 3x3 stride-2 convolutions (2, 4, 8 filters) and a linear
# layer; batch 128, Adam lr 1e-4 (G) and 2e-4 (D). `d_width=4` is the paper's other setting (D
# half of G's size). Not a remedy: it declares none (the packing claim compares pacdcgan2-smalld
# with it). Differences: D's LeakyReLU slope 0.2 (theirs 0.3) and no batch norm at its input
# (theirs has one), Adam's beta2 0.999 (theirs 0.99).
DCGANSmallD = register_variant(
    "dcgan-smalld", DCGAN, "", paper="Metz et al. 2017 (Lin et al. 2018, Table 3)", module=__name__,
    doc="DCGAN with the Unrolled GAN paper's Stacked-MNIST networks, D a quarter of G's size.",
    g_width=8, g_layers=3, g_out_conv=True, kernel=3, d_width=2, d_layers=3, latent_dim=256, batch_size=128,
    lr_g=1e-4)
