"""The other remedies for mode collapse as named variants of the MLP GAN, for the 2-D mode
benchmarks (each is also an option of every unconditional GAN: ``get_model("dcgan",
minibatch_std=True)``):

- ``gan-mbstd``: ProGAN's minibatch standard deviation (Karras et al. 2018), one feature of the
  batch's spread before D's last layer;
- ``gan-mbdisc``: minibatch discrimination (Salimans et al. 2016), learned features of each
  sample's closeness to the rest of the batch there instead;
- ``gan-replay``: experience replay, a quarter of each fake batch D sees drawn from a buffer of
  the last 10,000 generated samples (the discriminator keeps penalising modes G has left);

and packing on ``dcgan-smalld`` (Lin et al. 2018, Table 3: the Unrolled GAN paper's Stacked-MNIST
networks, D a quarter of G's size), ``pacdcgan2-smalld``: D judges pairs of images, and its batch
is twice as large so that D sees as many inputs (128 pairs) per step as dcgan-smalld's D sees
images, as in PacGAN's code (each of the pack's generator batches has the base's batch size).
"""

from __future__ import annotations

from .adversarial import register_variant
from .dcgan import DCGANSmallD
from .gan import GAN

GANMinibatchStd = register_variant(
    "gan-mbstd", GAN, "minibatch_std", minibatch_std=True, paper="Karras et al. 2018", module=__name__,
    doc="The MLP GAN, D seeing the batch's standard deviation.")
GANMinibatchDisc = register_variant(
    "gan-mbdisc", GAN, "minibatch_discrimination", minibatch_discrimination=True, paper="Salimans et al. 2016",
    module=__name__, doc="The MLP GAN with minibatch discrimination in D.")
GANReplay = register_variant(
    "gan-replay", GAN, "replay", replay=0.25, paper="experience replay (Pfau & Vinyals 2016; Shrivastava et al. 2017)",
    module=__name__, doc="The MLP GAN whose D also sees past generated samples.")
PacDCGAN2SmallD = register_variant(
    "pacdcgan2-smalld", DCGANSmallD, "pack", pack=2, batch_size=256, paper="Lin et al. 2018 (Table 3)", module=__name__,
    doc="dcgan-smalld (Metz et al.'s networks, D a quarter of G's size), D judging pairs of images.")
