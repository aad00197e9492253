"""What every GAN shares: a generator ``G`` and a discriminator (critic) ``D`` updated in turn.

A GAN variant is its losses (:mod:`genzoo.models.losses`) and a few declarations:

- ``gan_losses``: its :class:`~genzoo.models.losses.GANLosses`, D's loss of ``(real_logits,
  fake_logits)``, G's of ``fake_logits`` and the diagnostics logged beside them, as pure
  functions; a config with the ``loss`` option (:class:`~genzoo.models._config.GeneratorLoss`)
  names them instead. The model picks them once, when it is made (``d_loss``, ``g_loss``,
  ``diagnostics``);
- ``d_penalty(real, fake, labels, ctx)``: an extra term of the discriminator's loss (WGAN-GP's
  gradient penalty), or None;
- ``after_d_step()``: a constraint applied after each discriminator step (WGAN's clipping);
- ``n_critic`` (the config's): discriminator updates per generator update;
- ``reuse_fake``: whether the generator update scores the batch the (last) discriminator update
  generated (the original GAN's alternating step) or draws fresh noise (WGAN's);
- ``equilibrium_loss``: what it logs at the equilibrium D = 1/2 (the 1010-pattern claim), or None.

Every GAN's config extends :class:`AdversarialConfig`; the unconditional
variants' configs add :class:`RemediesConfig`, the remedies for mode collapse
that work on any of them, each a few lines here or in :mod:`.layers`: ``pack`` (PacGAN: D judges
``pack`` samples at once), ``minibatch_std`` (ProGAN's batch-deviation feature before D's last
layer), ``minibatch_discrimination`` (Salimans et al. 2016's closeness features there instead) and
``replay`` (a share of D's fake batch drawn from a buffer of past samples). A model whose config
has no remedies declares ``pack`` and ``replay`` itself (cGAN).

Every GAN's config has ``ema`` (0 = off): the decay of an exponential moving average of the
generator's weights (ProGAN, StyleGAN). With ``ema > 0`` the model builds ``nets_["G_ema"]`` (and
cGAN's ``"g_embed_ema"``), copies of its generator networks (``sampler_nets``), and declares them
(:meth:`AdversarialModel.weight_averages`, a :class:`~genzoo.training.step.Average`); the training
loop updates them after each generator step (parameters averaged, batch norm's running statistics
copied from G), and ``sample`` / ``decode`` (so scoring) and ``save_pretrained(sampler_only=True)``
use them instead of G.

The training loop does the updates; nothing here calls ``backward`` or ``step``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
from typing import ClassVar

import torch
from torch import nn

from ..space import choice, fixed, log_uniform, uniform
from ..training.step import Average
from . import losses
from ._config import AdversarialConfig, GeneratorLoss, RemediesConfig
from .base import GenerativeModel, Update
from .layers import DCDiscriminator, DCGenerator, MLPDiscriminator, MLPGenerator


EMA_SUFFIX = "_ema"     # nets_["G_ema"]: the weight average of nets_["G"] (config ema > 0)

__all__ = ["EMA_SUFFIX", "GAN_SWEEP_SPACE", "AdversarialConfig", "AdversarialModel", "RemediesConfig", "ReplayBuffer",
           "conv_or_mlp_networks", "pack_items", "packed_shape", "register_variant"]   # the two GAN config bases too


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


STANDING_BATCHES, STANDING_BATCH_SIZE, STANDING_SEED = 8, 128, 0


def standing_statistics(nets, generate, latent_dim: int, num_classes: int, device) -> None:
    """Batch norm's running statistics of ``nets`` (an averaged generator) recomputed from its own
    activations: the running statistics reset, then ``generate(z, labels)`` in training mode with a
    cumulative average (``momentum=None``) over :data:`STANDING_BATCHES` batches of
    :data:`STANDING_BATCH_SIZE` fixed N(0, I) codes (and uniform labels when ``num_classes``),
    seeded by :data:`STANDING_SEED`, so the same weights always get the same statistics. BigGAN's
    "standing statistics" (Brock et al. 2019), here at every sampling: an average of weights
    is not the network whose statistics the training loop tracked. Networks without batch norm
    are left as they are."""
    norms = [m for net in nets for m in net.modules()
             if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)) and m.track_running_stats]
    if not norms:
        return
    momenta, modes = [m.momentum for m in norms], [m.training for m in norms]
    gen = torch.Generator().manual_seed(STANDING_SEED)
    try:
        for m in norms:
            m.reset_running_stats()
            m.momentum = None
            m.train()
        with torch.no_grad():
            for _ in range(STANDING_BATCHES):
                z = torch.randn(STANDING_BATCH_SIZE, latent_dim, generator=gen).to(device)
                labels = (torch.randint(num_classes, (STANDING_BATCH_SIZE,), generator=gen).to(device)
                          if num_classes else None)
                generate(z, labels)
    finally:
        for m, momentum, mode in zip(norms, momenta, modes):
            m.momentum = momentum
            m.train(mode)


def conv_or_mlp_networks(config, shape, *, d_batch_norm: bool) -> nn.ModuleDict:
    """The usual G and D of a GAN variant, for a ``config`` with the fields of
    :class:`~._config.ConvOrMLPNets` and :class:`RemediesConfig`: DCGAN networks on images
    (``g_width``, ``d_width``), MLPs on points (``g_hidden``, ``d_hidden``); ``d_batch_norm=False``:
    a critic without batch norm. D's input is the config's ``pack`` items, its batch statistic the
    config's."""
    c = config
    d_shape = packed_shape(shape, c.pack)
    stat = c.d_batch_stat
    if len(shape) == 3:
        return nn.ModuleDict({"G": DCGenerator(c.latent_dim, shape[0], c.g_width, side=shape[-1]),
                              "D": DCDiscriminator(d_shape[0], c.d_width, batch_norm=d_batch_norm, batch_stat=stat,
                                                   side=shape[-1])})
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
    gan_losses: ClassVar[losses.GANLosses] = losses.NON_SATURATING
    equilibrium_loss: ClassVar[losses.EquilibriumLoss | None] = None
    reuse_fake: ClassVar[bool] = True
    sweep_space: ClassVar[dict] = GAN_SWEEP_SPACE

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        self.d_loss, self.g_loss, self.diagnostics = self.select_losses()

    def select_losses(self) -> losses.GANLosses:
        """This model's losses: the ones its config's ``loss`` names, else the variant's own."""
        if isinstance(self.config, GeneratorLoss):
            return self.config.gan_losses
        return self.gan_losses

    # --- declarations a variant overrides ---------------------------------------------------------
    def d_penalty(self, real, fake, labels, ctx) -> torch.Tensor | None:
        return None

    def after_d_step(self) -> None:
        return None

    @property
    def n_critic(self) -> int:
        return self.config.n_critic

    @property
    def batches_per_step(self) -> int:       # each generator step consumes n_critic real batches
        return self.n_critic

    @property
    def pack(self) -> int:
        """Items D judges at once (PacGAN)."""
        return self.config.pack

    @property
    def replay(self) -> float:
        """The share of D's fake batch drawn from past samples (experience replay)."""
        return self.config.replay

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

    def generate(self, z, labels, *, averaged: bool = False):
        return self.generator_net("G", averaged)(z)

    # --- the generator's weight average (config ema) ----------------------------------------
    @property
    def ema(self) -> float:
        """The decay of the generator's weight average (0: none)."""
        return getattr(self.config, "ema", 0.0)

    def weight_averages(self) -> list[Average]:
        """The averages the training loop keeps: with ``ema > 0``, each generator network
        (``sampler_nets``) averaged into ``<name>_ema`` after each step of G's optimizer "g"."""
        if not self.ema:
            return []
        return [Average("g", {n: n + EMA_SUFFIX for n in self.sampler_nets}, self.ema)]

    def generator_net(self, name: str, averaged: bool = False) -> nn.Module:
        """``nets_[name]``; with ``averaged``, its weight average where the model keeps one."""
        avg = name + EMA_SUFFIX
        return self.nets_[avg] if averaged and avg in self.nets_ else self.nets_[name]

    def setup(self, shape, num_classes, seed, device, data_name=""):
        super().setup(shape, num_classes, seed, device, data_name)
        self.check_one_logit()
        for a in self.weight_averages():      # the averages start as copies of the fresh networks
            for src, tgt in a.nets.items():
                self.nets_[tgt] = copy.deepcopy(self.nets_[src]).requires_grad_(False)

    @torch.no_grad()
    def check_one_logit(self) -> None:
        """ValueError unless the discriminator just built gives EXACTLY one logit per item it
        judges (per pack of ``pack`` items): a D whose last map is larger than 1x1 hands the losses
        a map of logits per item, which they would average silently (a PatchGAN by accident). One
        forward pass of two items (packs) of zeros in eval mode: it draws no random number and
        changes no statistic, so the fit trains as without it."""
        n = 2 * self.pack
        x = torch.zeros(n, *self.shape_, device=self.device_)
        labels = torch.zeros(n, dtype=torch.long, device=self.device_) if self.conditional else None
        was_training = self.nets_.training
        self.nets_.eval()
        try:
            out = self.discriminate(x, labels)
        finally:
            self.nets_.train(was_training)
        if tuple(out.shape) != (2,):
            raise ValueError(f"{self.name}: its discriminator turns {n} items of shape {self.shape_} into logits of "
                             f"shape {tuple(out.shape)}, not one logit per {'pack' if self.pack > 1 else 'item'} (2,)")

    def sampling_nets(self) -> tuple[str, ...]:
        averaged = {k: v for a in self.weight_averages() for k, v in a.nets.items()}
        return tuple(averaged.get(n, n) for n in self.sampler_nets)

    def sampling_generate(self, z, labels):
        return self.generate(z, labels, averaged=self._sample_from_average)

    _sample_from_average = True     # False only inside sampling_from_trained()

    def prepare_sampling(self) -> None:
        """Before sampling from the averaged generator: its batch norm's running statistics
        recomputed for the averaged weights (:func:`standing_statistics`), since G's own, which
        the loop copies, belong to G's weights, not to the average's."""
        if self._sample_from_average and self.weight_averages():
            nets = [self.nets_[n] for n in self.sampling_nets()]
            standing_statistics(nets, lambda z, labels: self.generate(z, labels, averaged=True),
                                self.config.latent_dim, self.num_classes_ if self.conditional else 0,
                                self.device_)

    @contextlib.contextmanager
    def sampling_from_trained(self):
        """Within it, ``sample`` and ``decode`` use the trained generator instead of its weight
        average (what the pilot compares: the same fit scored with and without averaging)."""
        self._sample_from_average = False
        try:
            yield self
        finally:
            del self._sample_from_average

    def pack_refusal(self, data) -> str | None:
        if self.replay:
            return f"{self.name} uses experience replay (a buffer outside the step)"
        if type(self).d_penalty is not AdversarialModel.d_penalty:
            return f"{self.name}'s discriminator penalty differentiates inside the step, which vmap cannot do"
        return super().pack_refusal(data)

    def compile_refusal(self) -> str | None:
        if self.replay:
            return f"{self.name} uses experience replay (a buffer outside the step, refilled every step)"
        if type(self).d_penalty is not AdversarialModel.d_penalty:
            return (f"{self.name}'s discriminator penalty differentiates inside the step "
                    f"(a double backward, which torch.compile cannot compile)")
        return super().compile_refusal()

    def unsupported_reason(self, data) -> str | None:
        if 0 < len(data) < self.pack:
            return f"{self.name} judges {self.pack} items at once (pack); {data.name!r} has only {len(data)}"
        return super().unsupported_reason(data)

    def discriminate(self, x, labels):
        return self.nets_["D"](pack_items(x, self.pack))                      # (B / pack,) logits

    # --- the updates of one step ---------------------------------------------------------------
    def updates(self) -> list[Update]:
        share = self.replay
        d_update = self._d_update
        if share:                           # one buffer per fit, held by the update, not the model
            buffer = ReplayBuffer(self.config.replay_size)
            d_update = functools.partial(self._d_update, replay=(buffer, share))
        d = [Update("d", d_update, self.after_d_step)]
        if self.reuse_fake:                 # G's forward, a stage of its own: kept, with its graph, for G's update
            d = [Update(None, self._generate), *d]
        return d * self.n_critic + [Update("g", self._g_update)]

    def _generate(self, ctx, state):
        """The stage before a discriminator update that reuses its fake batch for the generator's
        (``reuse_fake``): a real batch, noise, and G's batch from it, kept with its graph in ``state``."""
        x, y = ctx.next_batch()
        labels = y if self.conditional else None                # G imitates the batch's classes
        z = ctx.randn(len(x), self.config.latent_dim)           # (B, latent)
        state["real"], state["labels"], state["fake"] = x, labels, self.generate(z, labels)
        return None, {}

    def _d_update(self, ctx, state, replay=None):
        if self.reuse_fake:
            x, labels, fake = state["real"], state["labels"], state["fake"]      # the stage's (_generate)
        else:
            x, y = ctx.next_batch()
            labels = y if self.conditional else None
            z = ctx.randn(len(x), self.config.latent_dim)       # (B, latent)
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
        loss = self.g_loss(self.discriminate(fake, labels))
        return loss, {"loss_g": loss}
