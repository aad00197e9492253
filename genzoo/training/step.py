"""What one training step is made of: the :class:`Update` objects a model declares, the
:class:`StepContext` its losses draw from, and the step of one seed (:class:`SoloStep`).

:func:`genzoo.training.loop.train` runs a step object for every step of a fit; the step of one
seed is here, the step of several seeds stacked is :class:`genzoo.training.packed.StackedStep`.
Both run the same :func:`apply_updates`: each update's loss, then ``zero_grad`` / ``backward`` /
``step`` of its optimizer, its ``after`` hook and the weight averages (:class:`Average`) that
follow that optimizer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from ..data import as_float
from .compile import Compile, SoloLosses
from .schedule import Progress, Schedule, reset_optimizers


@dataclass(frozen=True)
class Update:
    """One optimizer update of a training step: ``loss(ctx, state)`` returns the scalar to minimise
    and the (scalar tensor) values to log; the loop zeroes ``optimizer``'s gradients, back-propagates
    the loss and steps, then calls ``after`` (e.g. WGAN's weight clipping). ``state`` is a dict
    shared by the updates of one step (a GAN's generator update reuses the discriminator update's
    generated batch through it).

    ``optimizer=None`` makes it a stage: ``loss(ctx, state)`` only computes what later updates of
    the step reuse, into ``state``, and returns ``(None, values)``; nothing is stepped (a GAN's
    generated batch, made once and used by both its updates: a compiled step keeps it a graph of
    its own, :mod:`genzoo.training.compile`)."""

    optimizer: str | None
    loss: Callable
    after: Callable | None = None


@dataclass(frozen=True)
class Average:
    """An exponential moving average of networks' weights that the loop keeps (a GAN's averaged
    generator, ProGAN / StyleGAN): after each step of ``optimizer``, for every ``source: target``
    of ``nets`` (names in the model's ``nets_``; ``target`` a copy of ``source`` made when the
    networks are built), each parameter ``avg = d * avg + (1 - d) * param`` under no_grad, and
    each buffer (batch norm's running statistics) COPIED from ``source``, as the ProGAN and
    StyleGAN implementations do. ``d`` is ``decay`` ramped in as TensorFlow's
    ExponentialMovingAverage does with ``num_updates``: ``d = min(decay, (1 + n) / (10 + n))`` at
    the n-th update (0, 1, ...), so the average forgets the untrained initial weights within the
    first steps instead of over ~1 / (1 - decay) steps (StyleGAN2-ADA ramps its average too),
    which matters at a CPU budget of a few thousand steps. Elementwise, so it works on stacked
    seeds too."""

    optimizer: str
    nets: dict
    decay: float


def ramped_decay(decay: float, n: int) -> float:
    """The decay of the ``n``-th update (0, 1, ...) of an :class:`Average`: ``min(decay, (1 + n) / (10 + n))``."""
    return min(decay, (1 + n) / (10 + n))


def averaging(nets, averages) -> Callable[[str], None] | None:
    """The hook :func:`apply_updates` calls with an optimizer's name after its step: updates the
    ``averages`` (:class:`Average` objects) over ``nets`` (a ModuleDict) that follow it; None
    when there are none."""
    by_optimizer: dict[str, list] = {}
    for a in averages:
        for src, tgt in a.nets.items():
            s, t = nets[src], nets[tgt]
            by_optimizer.setdefault(a.optimizer, []).append(
                (a.decay, list(t.parameters()), list(s.parameters()), list(t.buffers()), list(s.buffers())))
    if not by_optimizer:
        return None
    updates_done = dict.fromkeys(by_optimizer, 0)

    @torch.no_grad()
    def after_step(optimizer: str) -> None:
        if optimizer not in by_optimizer:
            return
        n = updates_done[optimizer]
        updates_done[optimizer] = n + 1
        for decay, avg, params, avg_buffers, buffers in by_optimizer[optimizer]:
            weight = 1.0 - ramped_decay(decay, n)
            for a, p in zip(avg, params):
                a.lerp_(p, weight)                   # a + weight * (p - a) = d * a + (1 - d) * p
            for b_avg, b in zip(avg_buffers, buffers):
                b_avg.copy_(b)
    return after_step


class StepContext:
    """What a model's losses draw from: seeded batches by index and seeded noise.

    The whole dataset sits on the training device as one tensor, as it is stored (``x``: uint8
    images stay uint8, one copy, no float copy of the set); batches are index gathers from a
    per-epoch permutation drawn on the device with a seeded generator of that device (no host
    round trip; on the CPU the same permutations as ever), each converted as it is drawn:
    :func:`genzoo.data.as_float` (uint8 -> float32 in [0, 1]; float32 as it is), then
    ``to_model_scale`` (the model's, e.g. a GAN's [-1, 1]). Both are elementwise, so a batch is
    bit for bit the same items of the whole set converted at once.

    ``schedule``: the model's :class:`~genzoo.training.schedule.Schedule` scaled to the fit (None:
    the model declares none); ``progress`` is then where the fit stands at the start of the
    current step (:meth:`start_step`), which the model's losses read (images shown, phase, alpha,
    resolution).
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int, device: torch.device,
                 to_model_scale: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 schedule: Schedule | None = None):
        self.x, self.y, self.device = x, y, device
        self.schedule = schedule
        self.progress: Progress | None = None
        self.to_model_scale = to_model_scale
        self.batch_size = min(batch_size, len(x))
        self._perm_gen = torch.Generator(device=device).manual_seed(seed)
        self._noise_gen = torch.Generator(device=device).manual_seed(seed + 1)
        self._perm = torch.empty(0, dtype=torch.long, device=device)
        self._pos = 0
        self.batches_drawn = 0
        self.step = 0

    @property
    def epoch(self) -> float:
        """Passes over the data so far."""
        return self.batches_drawn * self.batch_size / len(self.x)

    def start_step(self, step: int) -> bool:
        """Enter step ``step``: its number, and its :attr:`progress` on the schedule (from the
        images drawn so far, a host count). True when a phase that resets the optimizers begins
        with this step (not the first phase: the optimizers are fresh then)."""
        self.step = step
        if self.schedule is None:
            return False
        before = self.progress
        self.progress = self.schedule.at(self.batches_drawn * self.batch_size)
        return (before is not None and self.progress.phase != before.phase
                and self.progress.current.reset_optimizers)

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._pos + self.batch_size > len(self._perm):  # drop the ragged tail, reshuffle
            self._perm = torch.randperm(len(self.x), generator=self._perm_gen, device=self.device)
            self._pos = 0
        idx = self._perm[self._pos:self._pos + self.batch_size]
        self._pos += self.batch_size
        self.batches_drawn += 1
        x = as_float(self.x[idx])                             # (B, ...) float32
        if self.to_model_scale is not None:
            x = self.to_model_scale(x)
        return x, self.y[idx]                                 # (B, ...), (B,)

    def randn(self, *shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=self._noise_gen, device=self.device)

    def randint(self, high: int, *shape: int) -> torch.Tensor:
        return torch.randint(high, shape, generator=self._noise_gen, device=self.device)

    def rand(self, *shape: int) -> torch.Tensor:
        """Uniform [0, 1) noise (e.g. WGAN-GP's interpolation weights)."""
        return torch.rand(*shape, generator=self._noise_gen, device=self.device)


def apply_updates(updates, optimizers: dict, loss_of: Callable,
                  after_step: Callable[[str], None] | None = None) -> dict[str, torch.Tensor]:
    """One training step: for each update, ``loss_of(update, state)`` (its loss and logged values),
    then ``zero_grad`` / ``backward`` / ``step`` of its optimizer, its ``after`` hook and
    ``after_step(optimizer name)`` (the weight averages: :func:`averaging`). A loss of
    several seeds (one per seed, stacked) is summed before ``backward``: each seed's parameters get
    the gradient of its own loss. Returns the logged values (detached tensors), the last update's
    values winning where two log the same key (a critic's last step), the losses first."""
    state: dict = {}
    logs: dict[str, torch.Tensor] = {}
    for u in updates:
        loss, values = loss_of(u, state)
        if u.optimizer is not None:               # a stage (None) steps nothing
            opt = optimizers[u.optimizer]
            opt.zero_grad(set_to_none=True)
            (loss if loss.dim() == 0 else loss.sum()).backward()
            opt.step()
            if u.after is not None:
                u.after()
            if after_step is not None:
                after_step(u.optimizer)
        logs.update({k: v.detach() for k, v in values.items()})
    return losses_first(logs)


def run_updates(updates, optimizers: dict, ctx, after_step=None) -> dict[str, torch.Tensor]:
    """:func:`apply_updates` of one model whose losses draw from ``ctx`` (a :class:`StepContext`)."""
    return apply_updates(updates, optimizers, lambda u, state: u.loss(ctx, state), after_step)


def losses_first(logs: dict) -> dict:
    """A step's logged values with the losses (``loss*`` keys) first, the order of the history."""
    return {**{k: v for k, v in logs.items() if k.startswith("loss")}, **logs}


def model_updates(model) -> tuple[dict, list[Update]]:
    """``model``'s optimizers and updates, or ValueError when an update (or a weight average:
    ``model.weight_averages()``) names an optimizer that ``configure_optimizers`` does not return."""
    optimizers = model.configure_optimizers()
    updates = model.updates()
    for u in [*updates, *model.weight_averages()]:
        if u.optimizer is not None and u.optimizer not in optimizers:
            raise ValueError(f"{model.name}: an update uses optimizer {u.optimizer!r}, but "
                             f"configure_optimizers() returns {sorted(optimizers)}")
    return optimizers, updates


class SoloStep:
    """The training step of one model (one seed): its updates on its own :class:`StepContext`.

    What :func:`genzoo.training.loop.train` needs of a step object: ``models`` (the models
    trained, one per seed), ``epoch`` (after the last step), ``train()`` (the networks to training
    mode), calling it with a step number (runs the step; returns the logged values, one per seed
    stacked or a scalar for one seed), ``progress`` (the step's place on the model's schedule, or
    None), ``sync(i)`` (``models[i]`` holds the weights as they are
    now: before its callbacks see it) and ``finish()`` (after the last step)."""

    def __init__(self, model, ctx: StepContext, compile: Compile | None = None):
        self.models, self.ctx = [model], ctx
        self.optimizers, self.updates = model_updates(model)
        self.after_step = averaging(model.nets_, model.weight_averages())
        # compiled (genzoo.training.compile): each update's loss, its draws and state writes eager
        self.compiled = None if compile is None else SoloLosses(ctx, compile)

    @property
    def epoch(self) -> float:
        return self.ctx.epoch

    def train(self) -> None:
        self.models[0].nets_.train()

    def __call__(self, step: int) -> dict[str, torch.Tensor]:
        if self.ctx.start_step(step):
            reset_optimizers(self.optimizers)
        if self.compiled is not None:
            self.compiled.step_begins()
            return apply_updates(self.updates, self.optimizers, self.compiled, self.after_step)
        return run_updates(self.updates, self.optimizers, self.ctx, self.after_step)

    @property
    def progress(self) -> Progress | None:
        """Where the step just run stands on the model's schedule (None: no schedule)."""
        return self.ctx.progress

    def sync(self, i: int) -> None:
        """The model trains in place: nothing to do."""

    def finish(self) -> None:
        model, ctx = self.models[0], self.ctx
        model.on_train_end(ctx.x, ctx.y)
        model.nets_.eval()
        model.items_seen_ = ctx.batches_drawn * ctx.batch_size
        model.compiled_ = self.compiled is not None
        if self.compiled is not None:
            self.compiled.close()
