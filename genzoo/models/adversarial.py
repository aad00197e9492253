"""What every GAN shares: a generator ``G`` and a discriminator (critic) ``D`` updated in turn.

A GAN variant is its losses (:mod:`genzoo.models.losses`) and a few declarations:

- ``d_loss(real_logits, fake_logits)``, ``g_loss(fake_logits)`` and ``diagnostics(real_logits,
  fake_logits)`` (what is logged beside the losses), as pure functions;
- ``d_penalty(real, fake, labels, ctx)``: an extra term of the discriminator's loss (WGAN-GP's
  gradient penalty), or None;
- ``after_d_step()``: a constraint applied after each discriminator step (WGAN's clipping);
- ``n_critic`` (the config's, else 1): discriminator updates per generator update;
- ``reuse_fake``: whether the generator update scores the batch the (last) discriminator update
  generated (the original GAN's alternating step) or draws fresh noise (WGAN's).

The unconditional variants' configs extend :class:`AdversarialConfig`, which adds the remedies for
mode collapse that work on any of them, each a few lines here or in :mod:`.layers`: ``pack``
(PacGAN: D judges ``pack`` samples at once), ``minibatch_std`` (ProGAN's batch-deviation feature
before D's last layer), ``minibatch_discrimination`` (Salimans et al. 2016's closeness features
there instead) and ``replay`` (a share of D's fake batch drawn from a buffer of past samples).

The training loop does the updates; nothing here calls ``backward`` or ``step``.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from . import losses
from .base import BaseConfig, GenerativeModel, Update
from ..sweep.space import choice, fixed, log_uniform, uniform
from .layers import DCDiscriminator, DCGenerator, MLPDiscriminator, MLPGenerator


@dataclass(frozen=True)
class AdversarialConfig(BaseConfig):
    """What every unconditional GAN variant's config has besides its own settings."""

    LIMITS: ClassVar[dict[str, str]] = {"pack": ">= 1", "replay": "[0, 1)", "replay_size": ">= 1", "n_critic": ">= 1"}

    pack: int = 1     # PacGAN (Lin et al. 2018): D sees `pack` samples (all real or all fake) as one input
    minibatch_std: bool = False             # ProGAN (Karras et al. 2018): batch std as one more D feature
    minibatch_discrimination: bool = False  # Salimans et al. 2016: closeness to the batch as D features
    replay: float = 0.0       # experience replay: this share of D's fake batch comes from past samples
    replay_size: int = 10000  # ... kept in a buffer of this many generated samples
    n_critic: int = 1         # discriminator steps per generator step (compare_gan's disc_iters)

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


class ReplayBuffer:
    """Past generated samples (detached) for D's fake batches: a ring buffer of ``size`` items on
    the model's device; its fill level is a host integer, so drawing from it never syncs."""

    def __init__(self, size: int):
        self.size, self.count, self.pos = size, 0, 0
        self.items: torch.Tensor | None = None

    def push(self, x: torch.Tensor) -> None:
        if self.items is None:
            self.items = x.new_empty((self.size, *x.shape[1:]))
        n = min(len(x), self.size)
        idx = (self.pos + torch.arange(n, device=x.device)) % self.size
        self.items[idx] = x[:n].detach()
        self.pos, self.count = (self.pos + n) % self.size, min(self.count + n, self.size)

    def mix(self, fake: torch.Tensor, share: float, ctx) -> torch.Tensor:
        """``fake`` (detached) with its first ``share`` replaced by past samples; then ``fake`` is kept."""
        k = int(round(share * len(fake))) if self.count else 0
        out = fake.detach()
        if k:
            out = torch.cat([self.items[ctx.randint(self.count, k)], out[k:]])
        self.push(fake)
        return out


def register_variant(name: str, base: type, remedy: str, *, paper: str, doc: str, module: str,
                     published_names: tuple[str, ...] = (), **defaults) -> type:
    """Register ``name``: the registered model ``base`` with new config defaults for a remedy for
    mode collapse (``pacgan4`` = ``gan`` with ``pack=4``). It declares ``variant_of`` (the base's
    name) and ``remedy``, which the claims compare by; ``module`` is the calling file's
    ``__name__`` (the file the model lives in)."""
    from ._api import register_model

    cls_name = "".join(part.capitalize() for part in name.replace("-", " ").split())
    config = dataclasses.make_dataclass(
        f"{cls_name}Config", [(k, type(v), dataclasses.field(default=v)) for k, v in defaults.items()],
        bases=(base.Config,), frozen=True, namespace={"__module__": module})
    cls = type(cls_name, (base,), {"Config": config, "paper": paper, "published_names": tuple(published_names),
                                   "variant_of": base.name, "remedy": remedy, "__doc__": doc, "__module__": module})
    return register_model(name)(cls)


def packed_shape(shape: tuple[int, ...], pack: int) -> tuple[int, ...]:
    """The shape of D's input when ``pack`` items of ``shape`` are judged together: images are
    stacked along the channels, points along their coordinates."""
    return (shape[0] * pack, *shape[1:])


def pack_items(x: torch.Tensor, pack: int) -> torch.Tensor:
    """(B, C, ...) -> (B // pack, pack * C, ...): consecutive items of the batch become one input
    (a batch cut short by a small dataset drops its last B % pack items)."""
    if pack == 1:
        return x
    n = x.shape[0] // pack
    return x[:n * pack].reshape(n, pack * x.shape[1], *x.shape[2:])


def conv_or_mlp_networks(config, shape, *, d_batch_norm: bool | None = None) -> nn.ModuleDict:
    """The usual G and D of a GAN variant: DCGAN networks on images (``g_width``, ``d_width``),
    MLPs on points (``g_hidden``, ``d_hidden``); ``d_batch_norm=False``: a critic without batch norm
    (None: the config's ``d_batch_norm``, else batch norm). D's input is ``pack`` items (the
    config's, else 1)."""
    c = config
    if d_batch_norm is None:
        d_batch_norm = getattr(c, "d_batch_norm", True)
    d_shape = packed_shape(shape, getattr(c, "pack", 1))
    stat = getattr(c, "d_batch_stat", "")
    if len(shape) == 3:
        return nn.ModuleDict({"G": DCGenerator(c.latent_dim, shape[0], c.g_width),
                              "D": DCDiscriminator(d_shape[0], c.d_width, batch_norm=d_batch_norm, batch_stat=stat)})
    return nn.ModuleDict({"G": MLPGenerator(c.latent_dim, shape, c.g_hidden, tanh=False),
                          "D": MLPDiscriminator(d_shape, c.d_hidden, batch_stat=stat)})


# compare_gan v1's search space for the GANs (Lucic et al. 2018, compare_gan's params.py): G and D
# share the learning rate and Adam's beta1; "narrow" keeps beta1 at 0.5, one D step per G step and
# each model's own D batch norm. A dimension whose field a model lacks is left out.
GAN_SWEEP_SPACE = {
    "wide": {"learning_rate": log_uniform("lr_g", "lr_d", low=-5, high=-2), "beta1": uniform("beta1", low=0, high=1),
             "disc_iters": choice("n_critic", values=(1, 5)), "d_batch_norm": choice("d_batch_norm", values=(True, False))},
    "narrow": {"learning_rate": log_uniform("lr_g", "lr_d", low=-4, high=-3), "beta1": fixed("beta1", value=0.5),
               "disc_iters": fixed("n_critic", value=1)},
}


class AdversarialModel(GenerativeModel):
    """A generator and a discriminator, by default with the original GAN's losses (non-saturating
    generator loss; a config whose ``loss`` is "minimax" gets the original minimax one) and Adam.

    Images are scaled to [-1, 1] to match G's Tanh output; points are used as they are."""

    family = "gan"
    data_kinds = ("image", "points")
    sampler_nets = ("G",)
    d_loss = staticmethod(losses.bce_d_loss)
    g_loss = staticmethod(losses.non_saturating_g_loss)
    diagnostics = staticmethod(losses.probability_diagnostics)
    reuse_fake: ClassVar[bool] = True
    sweep_space: ClassVar[dict] = GAN_SWEEP_SPACE

    # --- declarations a variant overrides ---------------------------------------------------------
    def d_penalty(self, real, fake, labels, ctx) -> torch.Tensor | None:
        return None

    def after_d_step(self) -> None:
        return None

    @property
    def n_critic(self) -> int:
        return int(getattr(self.config, "n_critic", 1))

    @property
    def batches_per_step(self) -> int:       # each generator step consumes n_critic real batches
        return self.n_critic

    # --- networks ------------------------------------------------------------------------------
    def to_model_scale(self, x):
        return x * 2 - 1 if x.dim() == 4 else x

    def to_data_scale(self, x):
        return ((x + 1) / 2).clamp(0, 1) if x.dim() == 4 else x

    def configure_optimizers(self):
        c = self.config
        return {"g": torch.optim.Adam(self.generator_parameters(), lr=c.lr_g, betas=(c.beta1, 0.999)),
                "d": torch.optim.Adam(self.discriminator_parameters(), lr=c.lr_d, betas=(c.beta1, 0.999))}

    def generator_parameters(self):
        return self.nets_["G"].parameters()

    def discriminator_parameters(self):
        return self.nets_["D"].parameters()

    def generate(self, z, labels):
        return self.nets_["G"](z)

    @property
    def pack(self) -> int:
        return int(getattr(self.config, "pack", 1))

    def unsupported_reason(self, data) -> str | None:
        if 0 < len(data) < self.pack:
            return f"{self.name} judges {self.pack} items at once (pack); {data.name!r} has only {len(data)}"
        return super().unsupported_reason(data)

    def discriminate(self, x, labels):
        return self.nets_["D"](pack_items(x, self.pack))                      # (B / pack,) logits

    # --- the updates of one step ---------------------------------------------------------------
    def updates(self) -> list[Update]:
        share = float(getattr(self.config, "replay", 0.0))
        d_update = self._d_update
        if share:                           # one buffer per fit, held by the update, not the model
            buffer = ReplayBuffer(self.config.replay_size)
            d_update = functools.partial(self._d_update, replay=(buffer, share))
        return [Update("d", d_update, self.after_d_step)] * self.n_critic + [Update("g", self._g_update)]

    def _generator_loss(self):
        if getattr(self.config, "loss", None) == "minimax":
            return losses.minimax_g_loss
        return self.g_loss

    def _d_update(self, ctx, state, replay=None):
        x, y = ctx.next_batch()
        labels = y if self.conditional else None                # G imitates the batch's classes
        z = ctx.randn(len(x), self.config.latent_dim)           # (B, latent)
        if self.reuse_fake:
            fake = self.generate(z, labels)                     # kept, with its graph, for G's update
            state["fake"], state["labels"] = fake, labels
        else:
            with torch.no_grad():
                fake = self.generate(z, labels)
        d_real = self.discriminate(x, labels)
        d_fake = self.discriminate(fake.detach() if replay is None else replay[0].mix(fake, replay[1], ctx), labels)
        loss = self.d_loss(d_real, d_fake)
        penalty = self.d_penalty(x, fake, labels, ctx)
        logs = {}
        if penalty is not None:
            loss = loss + penalty
            logs["penalty"] = penalty
        return loss, {"loss_d": loss, **logs, **self.diagnostics(d_real, d_fake)}

    def _g_update(self, ctx, state):
        if self.reuse_fake:
            fake, labels = state["fake"], state["labels"]
        else:
            labels = ctx.randint(self.num_classes_, ctx.batch_size) if self.conditional else None
            fake = self.generate(ctx.randn(ctx.batch_size, self.config.latent_dim), labels)
        loss = self._generator_loss()(self.discriminate(fake, labels))
        return loss, {"loss_g": loss}
