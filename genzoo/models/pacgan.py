"""PacGAN (Lin et al. 2018): the GAN whose discriminator judges ``m`` samples at once, all real or
all generated, concatenated into one input. A generator that puts its samples on few modes makes
packs that look unlike packs of real data, so D penalises mode collapse. Packing is the ``pack``
option of every unconditional GAN variant (:class:`~genzoo.models.adversarial.AdversarialConfig`);
the named variants here are the paper's: ``pacgan2`` and ``pacgan4`` (the MLP GAN of the 2-D
experiments, Table 1) and ``pacdcgan2`` (DCGAN, the Stacked MNIST experiments, Table 2). A batch
of B samples makes B / m packs."""

from __future__ import annotations

from .adversarial import register_variant
from .dcgan import DCGAN
from .gan import GAN

PAPER = "Lin et al. 2018"

PacGAN2 = register_variant("pacgan2", GAN, "pack", pack=2, paper=PAPER, published_names=("PacGAN2",),
                           doc="The MLP GAN, D judging pairs of samples.", module=__name__)
PacGAN4 = register_variant("pacgan4", GAN, "pack", pack=4, paper=PAPER, published_names=("PacGAN4",),
                           doc="The MLP GAN, D judging four samples at once.", module=__name__)
PacDCGAN2 = register_variant("pacdcgan2", DCGAN, "pack", pack=2, paper=PAPER, published_names=("PacDCGAN2",),
                             doc="DCGAN, D judging pairs of images (stacked along the channels).", module=__name__)
