"""The config fields the model families share, each declared once with its limits (the GAN bases
:class:`AdversarialConfig` and :class:`RemediesConfig` are re-exported by :mod:`.adversarial`).

Each class here is a small frozen dataclass holding a few fields and their ``LIMITS`` / ``CHOICES``
(:class:`~genzoo.models.base.BaseConfig` merges them along the MRO and checks every field in
``__post_init__``). A model's config is the mixins it needs, its own fields and its own defaults
(a field declared again keeps its place and takes the new default)::

    @dataclass(frozen=True)
    class DCGANConfig(AdamGD, GeneratorLoss, DiscriminatorBatchNorm, ConvWidths, AdversarialConfig,
                      RemediesConfig):
        ...

Field order (what ``dataclasses.asdict`` gives, written into run records and checkpoints): the
fields of :class:`BaseConfig` first, then each base's in the REVERSE order of the bases (the last
base's first), then the class's own. Every mixin extends BaseConfig, so BaseConfig's fields always
come first.

:class:`AdversarialConfig` is the base of every GAN's config (``n_critic``: discriminator steps per
generator step; ``ema``: the decay of the generator's weight average, added last to each GAN's
config); :class:`RemediesConfig` adds the remedies for mode collapse that work on any
unconditional GAN (``pack``, ``minibatch_std``, ``minibatch_discrimination``, ``replay``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from . import losses
from .base import BaseConfig

# ----------------------------------------------------------------------------- the GAN bases


@dataclass(frozen=True)
class AdversarialConfig(BaseConfig):
    """What every GAN's config has: the discriminator (critic) steps per generator step, and
    ``ema``, the decay of the generator's weight average (:data:`EMA_FIELD`)."""

    LIMITS: ClassVar[dict[str, str]] = {"n_critic": ">= 1"}

    n_critic: int = 1         # discriminator steps per generator step (compare_gan's disc_iters)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _append_ema_field(cls)


# ``ema``: sample from an exponential moving average of G's weights (ProGAN, StyleGAN), this its
# decay: 0 (the default) = off, else e.g. 0.999. It is declared here once, but it is added to the
# first config class below AdversarialConfig (each GAN's config), as that class's last own field:
# ``dataclasses.asdict`` of a config (run records, checkpoints) is what it was before, with ``ema``
# appended at the end (a field of a mixin base would land in the middle of it).
EMA_FIELD, EMA_DEFAULT, EMA_LIMIT = "ema", 0.0, "[0, 1)"


def _append_ema_field(cls: type) -> None:
    """Declare ``ema`` on ``cls`` (a subclass of AdversarialConfig, before ``@dataclass`` runs),
    unless a base config already has it (a registered variant of a GAN inherits it in place)."""
    if any(EMA_FIELD in vars(base).get("__dataclass_fields__", {}) for base in cls.__mro__[1:]):
        return
    if EMA_FIELD not in cls.__dict__.get("__annotations__", {}):
        cls.__annotations__ = {**cls.__dict__.get("__annotations__", {}), EMA_FIELD: "float"}
        setattr(cls, EMA_FIELD, EMA_DEFAULT)
    cls.LIMITS = {**cls.__dict__.get("LIMITS", {}), EMA_FIELD: EMA_LIMIT}


@dataclass(frozen=True)
class RemediesConfig(BaseConfig):
    """The remedies for mode collapse every unconditional GAN takes, each a few lines in
    :mod:`genzoo.models.adversarial` or :mod:`genzoo.models.layers`."""

    LIMITS: ClassVar[dict[str, str]] = {"pack": ">= 1", "replay": "[0, 1)", "replay_size": ">= 1"}

    pack: int = 1     # PacGAN (Lin et al. 2018): D sees `pack` samples (all real or all fake) as one input
    minibatch_std: bool = False             # ProGAN (Karras et al. 2018): batch std as one more D feature
    minibatch_discrimination: bool = False  # Salimans et al. 2016: closeness to the batch as D features
    replay: float = 0.0       # experience replay: this share of D's fake batch comes from past samples
    replay_size: int = 10000  # ... kept in a buffer of this many generated samples

    def __post_init__(self):
        super().__post_init__()
        who = type(self).model_name or type(self).__name__
        if self.batch_size % self.pack:
            raise ValueError(f"{who}: batch_size must be a multiple of pack ({self.pack}), got {self.batch_size}")
        if self.minibatch_std and self.minibatch_discrimination:
            raise ValueError(f"{who}: minibatch_std and minibatch_discrimination are two alternatives for D's last "
                             f"layer: set one of them")

    @property
    def d_batch_stat(self) -> str:
        """The batch-statistic layer D gets (:func:`genzoo.models.layers.batch_statistic`)."""
        return "minibatch_std" if self.minibatch_std else "minibatch_discrimination" if self.minibatch_discrimination else ""


# ----------------------------------------------------------------------------- networks


@dataclass(frozen=True)
class ConvWidths(BaseConfig):
    """The DCGAN backbone's widths (:class:`~genzoo.models.layers.DCGenerator`, ``DCDiscriminator``)."""

    LIMITS: ClassVar[dict[str, str]] = {"g_width": ">= 1", "d_width": ">= 1"}

    g_width: int = 64
    d_width: int = 64


@dataclass(frozen=True)
class ConvLayout(BaseConfig):
    """The DCGAN backbone's depth and kernels (DCGAN and its named variants): ``g_layers`` stride-2
    transposed convolutions in G, ``d_layers`` stride-2 convolutions in D, ``kernel`` their size
    (0: genzoo's 4x4, 3x3 where a side is odd; else an odd size, padding ``kernel // 2``),
    ``g_out_conv``: a stride-1 convolution makes G's image (Metz et al.'s generator). The defaults
    are genzoo's DCGAN, its depths from the image's side (None: G projects to 7x7 or 4x4 and
    doubles up to the side, D halves down to 4x4 or less: 2 and 3 at 28, 3 and 3 at 32, 4 and 4
    at 64, :mod:`genzoo.models._shapes`); a number fixes a depth whatever the side:
    ``g_layers=4, d_layers=4, kernel=5`` is the DCGAN of VEEGAN's and PacGAN's Stacked-MNIST
    experiment (``benchmarks/modes-stacked.toml``)."""

    LIMITS: ClassVar[dict[str, str]] = {"g_layers": "[1, 5]", "d_layers": "[1, 5]", "kernel": "[0, 9]"}

    g_layers: int | None = None     # None: from the image's side (2 at 28)
    d_layers: int | None = None     # None: from the image's side (3 at 28)
    kernel: int = 0
    g_out_conv: bool = False

    def __post_init__(self):
        super().__post_init__()
        if self.kernel and self.kernel % 2 == 0:
            who = type(self).model_name or type(self).__name__
            raise ValueError(f"{who}: kernel must be 0 (genzoo's 4x4 layout) or odd (3, 5, ...), got {self.kernel}")


@dataclass(frozen=True)
class MLPSizes(BaseConfig):
    """The hidden-layer sizes of an MLP generator and discriminator."""

    LIMITS: ClassVar[dict[str, str]] = {"g_hidden": ">= 1", "d_hidden": ">= 1"}

    g_hidden: tuple[int, ...] = (512, 512, 512)
    d_hidden: tuple[int, ...] = (512, 512, 512)


@dataclass(frozen=True)
class ConvOrMLPNets(MLPSizes, ConvWidths):
    """DCGAN networks on images, MLPs on points (:func:`~genzoo.models.adversarial.conv_or_mlp_networks`)."""


@dataclass(frozen=True)
class DiscriminatorBatchNorm(BaseConfig):
    """Whether D's convolutions (images) are batch-normalised."""

    d_batch_norm: bool = True


# ----------------------------------------------------------------------------- losses, optimizers


@dataclass(frozen=True)
class GeneratorLoss(BaseConfig):
    """The original GAN's choice of generator loss: its name picks one of
    :data:`genzoo.models.losses.BCE_LOSSES` (the model picks it once, when it is made)."""

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {"loss": tuple(losses.BCE_LOSSES)}

    loss: str = "non-saturating"   # or "minimax" (the original objective)

    @property
    def gan_losses(self) -> losses.GANLosses:
        return losses.BCE_LOSSES[self.loss]


@dataclass(frozen=True)
class LearningRate(BaseConfig):
    """One learning rate for every optimizer of the model."""

    LIMITS: ClassVar[dict[str, str]] = {"lr": "> 0"}

    lr: float = 1e-3


@dataclass(frozen=True)
class GDLearningRates(BaseConfig):
    """The generator's and the discriminator's learning rates."""

    LIMITS: ClassVar[dict[str, str]] = {"lr_g": "> 0", "lr_d": "> 0"}

    lr_g: float = 2e-4
    lr_d: float = 2e-4


@dataclass(frozen=True)
class AdamBeta1(BaseConfig):
    """Adam's beta1 (the momentum of the mean), shared by G's and D's optimizers."""

    LIMITS: ClassVar[dict[str, str]] = {"beta1": "[0, 1)"}

    beta1: float = 0.5


@dataclass(frozen=True)
class AdamGD(AdamBeta1, GDLearningRates):
    """Adam for G and for D, each with its learning rate, one beta1 (fields lr_g, lr_d, beta1)."""


@dataclass(frozen=True)
class SharedAdam(AdamBeta1, LearningRate):
    """Adam for G and for D with one learning rate and beta1 (fields lr, beta1)."""


__all__ = ["AdamBeta1", "AdamGD", "AdversarialConfig", "ConvLayout", "ConvOrMLPNets", "ConvWidths",
           "DiscriminatorBatchNorm", "GDLearningRates", "GeneratorLoss", "LearningRate", "MLPSizes", "RemediesConfig",
           "SharedAdam"]
