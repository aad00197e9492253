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

The training loop does the updates; nothing here calls ``backward`` or ``step``.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from . import losses
from .base import GenerativeModel, Update
from .layers import DCDiscriminator, DCGenerator, MLPDiscriminator, MLPGenerator


def conv_or_mlp_networks(config, shape, *, d_batch_norm: bool = True) -> nn.ModuleDict:
    """The usual G and D of a GAN variant: DCGAN networks on images (``g_width``, ``d_width``),
    MLPs on points (``g_hidden``, ``d_hidden``); ``d_batch_norm=False``: a critic without batch norm."""
    c = config
    if len(shape) == 3:
        return nn.ModuleDict({"G": DCGenerator(c.latent_dim, shape[0], c.g_width),
                              "D": DCDiscriminator(shape[0], c.d_width, batch_norm=d_batch_norm)})
    return nn.ModuleDict({"G": MLPGenerator(c.latent_dim, shape, c.g_hidden, tanh=False),
                          "D": MLPDiscriminator(shape, c.d_hidden)})


class AdversarialModel(GenerativeModel):
    """A generator and a discriminator, by default with the original GAN's losses (non-saturating
    generator loss; a config whose ``loss`` is "minimax" gets the original minimax one) and Adam.

    Images are scaled to [-1, 1] to match G's Tanh output; points are used as they are."""

    family = "gan"
    data_kinds = ("image", "points")
    d_loss = staticmethod(losses.bce_d_loss)
    g_loss = staticmethod(losses.non_saturating_g_loss)
    diagnostics = staticmethod(losses.probability_diagnostics)
    reuse_fake: ClassVar[bool] = True

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

    def discriminate(self, x, labels):
        return self.nets_["D"](x)                                             # (B,) logits

    # --- the updates of one step ---------------------------------------------------------------
    def updates(self) -> list[Update]:
        return [Update("d", self._d_update, self.after_d_step)] * self.n_critic + [Update("g", self._g_update)]

    def _generator_loss(self):
        if getattr(self.config, "loss", None) == "minimax":
            return losses.minimax_g_loss
        return self.g_loss

    def _d_update(self, ctx, state):
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
        d_fake = self.discriminate(fake.detach(), labels)
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
