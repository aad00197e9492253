"""Several seeds of one model trained together in one process: :func:`fit_seeds`.

The seeds' networks become one stacked network (``torch.func.stack_module_state``: every parameter
and buffer gets a leading seed dimension) and each update of a step runs once for all seeds,
``torch.func.vmap`` over ``torch.func.functional_call``. So a step is one set of (bigger) kernels
instead of one per seed, which is what a GPU needs from genzoo's small networks. The loop is the
one ``model.fit`` runs (:func:`genzoo.training.loop.train`: callbacks, progress, the divergence
check, history), with :class:`StackedStep` as its step.

A seed trains exactly as ``model.fit(data, seed=s)`` would, whichever seeds share the process:

- each seed keeps its own :class:`~genzoo.training.step.StepContext`; when an update draws (a
  batch, noise), every seed's context makes that draw then and there, outside vmap, and each
  seed's lane gets its own (:class:`LaneContext`): the draws of a step are that step's, whatever
  the step (a schedule reading ``ctx.step``) changes;
- a model's schedule (``model.schedule()``, :mod:`genzoo.training.schedule`) is followed as in
  ``fit``: every seed shows as many images per step, so the seeds share each step's progress
  (``ctx.progress``: phase, alpha, resolution), and a phase that resets the optimizers resets the
  stacked ones;
- dropout draws each seed's mask as its own fit does, from the device's default generator in that
  seed's state (``seed + 2`` at the start, as ``fit`` seeds it), kept per seed (:class:`SeedDropout`);
- the optimizers are the model's own (``configure_optimizers``), built over the stacked
  parameters: Adam and RMSprop work element by element, so each seed's slice is updated as alone;
  constraints (WGAN's clipping) apply element by element too;
- batch norm keeps per-seed running statistics (the buffers are stacked as well);
- a weight average (a GAN's ``ema``: :class:`~genzoo.training.step.Average`) is elementwise, so
  the stacked average of each seed is updated as alone.

What cannot be packed, the model declares (``model.pack_refusal(data)``: a reason, or None), and
:func:`check_packable` refuses it with a one-line ``ValueError``: experience replay (a buffer
outside the step), updates that differentiate inside the step (WGAN-GP's gradient penalty). Any
other random draw inside an update (one not made through the context or a dropout layer) stops
the fit with vmap's error instead of training the seeds on shared noise.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Callable

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from ..limits import MAX_SEED, check_seed
from .compile import Compile, PackedLosses, checked_spec, compile_spec
from .loop import LOG_INTERVAL, check_log_interval, resolve_device, total_steps, train
from .schedule import Progress, fit_schedule, reset_optimizers
from .step import StepContext, apply_updates, averaging, model_updates

__all__ = ["LaneContext", "SeedDropout", "StackedStep", "check_packable", "fit_seeds"]


class _PerSeed(torch.autograd.Function):
    """Under ``vmap`` over the seeds, ``_PerSeed.apply(lane, draw)`` runs ``draw()`` once, outside
    vmap (``draw`` returns a tensor, or a tuple of them, with a leading seed dimension), and each
    lane gets its seed's slice. ``lane`` (the vmapped seed index) only makes the call a batched one."""

    @staticmethod
    def forward(lane, draw):
        raise RuntimeError("a packed fit's draws are made under vmap only")

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def vmap(info, in_dims, lane, draw):
        out = draw()
        return out, (tuple(0 for _ in out) if isinstance(out, tuple) else 0)


class LaneContext:
    """What a vmapped update sees as its :class:`StepContext`: every draw is made by each seed's
    own context at this step, in the order the update makes it, and each lane gets its seed's.
    ``step``, ``epoch`` and ``batch_size`` are the same for every seed."""

    def __init__(self, ctxs: list[StepContext], seeds: list[int], device: torch.device):
        self.ctxs, self.device = ctxs, device
        self.lane: torch.Tensor | None = None              # the vmapped seed index, during an update
        self.recording: list | None = None    # a compiled fit's first step: the draws made, (kind, draw)
        self.replay = None                    # a compiled fit's later steps: the draws made before the update
        # each seed's state of the device's default generator (dropout), as its own fit starts it
        self.rng_states = [torch.Generator(device=device).manual_seed(s + 2).get_state() for s in seeds]

    @property
    def step(self) -> int:
        return self.ctxs[0].step

    @property
    def epoch(self) -> float:
        return self.ctxs[0].epoch

    @property
    def batch_size(self) -> int:
        return self.ctxs[0].batch_size

    @property
    def progress(self) -> Progress | None:
        return self.ctxs[0].progress

    def __getattr__(self, name):
        if name.startswith("_") or name == "ctxs":
            raise AttributeError(name)
        value = getattr(self.ctxs[0], name)
        if callable(value):
            raise AttributeError(f"StepContext.{name} has no per-seed version in a packed fit (LaneContext)")
        return value

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.each(lambda c: c.next_batch())

    def randn(self, *shape: int) -> torch.Tensor:
        return self.each(lambda c: c.randn(*shape))

    def randint(self, high: int, *shape: int) -> torch.Tensor:
        return self.each(lambda c: c.randint(high, *shape))

    def rand(self, *shape: int) -> torch.Tensor:
        return self.each(lambda c: c.rand(*shape))

    def each(self, draw: Callable):
        """``draw(ctx)`` for every seed's context, now; each lane gets its seed's result."""
        return self._lane_draw("each", draw)

    def each_global(self, draw: Callable) -> torch.Tensor:
        """``draw()`` once per seed with the device's default generator in that seed's state (as
        that seed's own fit has it at this point); each lane gets its seed's result."""
        return self._lane_draw("global", draw)

    def _lane_draw(self, kind: str, draw: Callable):
        if self.replay is not None:         # compiled: made before the update (genzoo.training.compile)
            out = self.replay.take(kind, draw)
            return tuple(t[self.lane] for t in out) if isinstance(out, tuple) else out[self.lane]
        if self.recording is not None:
            self.recording.append((kind, draw))
        return _PerSeed.apply(self.lane, lambda: self.drawn(kind, draw))

    def drawn(self, kind: str, draw: Callable):
        """A draw made now for every seed, stacked: ``"each"``, ``draw(ctx)`` with each seed's
        context; ``"global"``, ``draw()`` with the device's default generator in each seed's state."""
        if kind == "each":
            return _stack([draw(c) for c in self.ctxs])
        outer = _rng_state(self.device)
        outs = []
        try:
            for i, state in enumerate(self.rng_states):
                _set_rng_state(state, self.device)
                outs.append(draw())
                self.rng_states[i] = _rng_state(self.device)
        finally:
            _set_rng_state(outer, self.device)
        return torch.stack(outs)


def _rng_state(device: torch.device) -> torch.Tensor:
    if device.type == "cpu":
        return torch.get_rng_state()
    return torch.get_device_module(device.type).get_rng_state(device)


def _set_rng_state(state: torch.Tensor, device: torch.device) -> None:
    if device.type == "cpu":
        torch.set_rng_state(state)
    else:
        torch.get_device_module(device.type).set_rng_state(state, device)


_DROPOUTS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)     # input * (a mask of the layer's own)


class SeedDropout(nn.Module):
    """A dropout layer of the stacked networks: each seed's mask is the layer applied to ones,
    drawn as that seed's own fit draws it (:meth:`LaneContext.each_global`), and each lane is
    multiplied by its seed's mask (what the layer does: ``input * mask``)."""

    def __init__(self, dropout: nn.Module, lanes: LaneContext):
        super().__init__()
        self.dropout, self.lanes = dropout, lanes

    def forward(self, h):
        if not self.training or self.dropout.p == 0:
            return h
        shape, dtype, device = tuple(h.shape), h.dtype, h.device
        return h * self.lanes.each_global(lambda: self.dropout(torch.ones(shape, dtype=dtype, device=device)))


def per_seed_dropout(nets: nn.Module, lanes: LaneContext) -> None:
    """Replace the dropout layers of ``nets`` (stacked networks) by :class:`SeedDropout` layers."""
    for module in list(nets.modules()):
        for name, child in list(module.named_children()):
            if type(child) in _DROPOUTS:
                setattr(module, name, SeedDropout(child, lanes))


class _Run(nn.Module):
    """Holds the model's networks, so that ``functional_call`` swaps in one seed's slice of every
    parameter and buffer while the model's own loss code runs."""

    def __init__(self, nets: nn.Module):
        super().__init__()
        self.nets = nets

    def forward(self, fn, *args):
        return fn(*args)


class StackedStep:
    """The training step of several seeds of one model, stacked (the step object of
    :func:`~genzoo.training.loop.train`, as :class:`~genzoo.training.step.SoloStep`): each
    update's loss runs once for all seeds, vmapped; ``models`` (one per seed, in the order of
    ``seeds``) get the trained weights at ``sync`` and ``finish``."""

    def __init__(self, models: list, x: torch.Tensor, y: torch.Tensor, seeds: list[int], device: torch.device,
                 schedule=None, compile: Compile | None = None):
        self.models, self.seeds = models, list(seeds)
        self.ctxs = [StepContext(x, y, models[0].config.batch_size, s, device, models[0].to_model_scale,
                                 schedule=schedule) for s in seeds]        # one stored set, shared
        self.lanes = LaneContext(self.ctxs, self.seeds, device)
        self.template = _stacked_copy(models)
        per_seed_dropout(self.template.nets_, self.lanes)
        self.run = _Run(self.template.nets_)
        self.optimizers, self.updates = model_updates(self.template)
        self.after_step = averaging(self.template.nets_, self.template.weight_averages())   # elementwise: stacked too
        named_p, named_b = list(self.template.nets_.named_parameters()), list(self.template.nets_.named_buffers())
        self.names = [f"nets.{n}" for n, _ in named_p] + [f"nets.{n}" for n, _ in named_b]
        self.tensors = [t for _, t in named_p] + [t for _, t in named_b]   # stepped in place: the same every step
        self.lane_ids = torch.arange(len(seeds), device=device)
        # compiled (genzoo.training.compile): each update's vmapped loss, its draws made before it
        self.compiled = None if compile is None else PackedLosses(self.lanes, compile, device)

    @property
    def epoch(self) -> float:
        return self.ctxs[0].epoch

    def train(self) -> None:
        self.template.nets_.train()
        for m in self.models:
            m.nets_.train()

    def __call__(self, step: int) -> dict[str, torch.Tensor]:
        if any([c.start_step(step) for c in self.ctxs]):          # the seeds share the schedule
            reset_optimizers(self.optimizers)
        if self.compiled is not None:
            self.compiled.step_begins()
        return apply_updates(self.updates, self.optimizers, self._loss, self.after_step)

    @property
    def progress(self) -> Progress | None:
        return self.ctxs[0].progress

    def _loss(self, u, state: dict):
        """The update's loss of every seed, (seeds,), vmapped. ``state`` holds per-seed tensors
        (a leading seed dimension) and other values (None labels), the same for every seed."""
        others = {k: v for k, v in state.items() if not isinstance(v, torch.Tensor)}

        def lane(tensors, lane_id, st):
            self.lanes.lane = lane_id
            st = {**others, **st}
            loss, values = functional_call(self.run, dict(zip(self.names, tensors)), (u.loss, self.lanes, st),
                                           strict=True, tie_weights=False)
            others.update({k: v for k, v in st.items() if not isinstance(v, torch.Tensor)})
            self.lanes.lane = None            # no vmapped tensor outlives the lane (a compiled update's side effects)
            if loss is None:                  # a stage: vmap returns tensors only
                loss = torch.zeros((), device=lane_id.device)
            return loss, values, {k: v for k, v in st.items() if isinstance(v, torch.Tensor)}

        tensors_in = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
        args = (self.tensors, self.lane_ids, tensors_in)
        try:
            if self.compiled is None:
                loss, values, tensors_out = vmap(lane, randomness="error")(*args)
            else:
                loss, values, tensors_out = self.compiled.run(u, lane, args)
        finally:
            self.lanes.lane = None
        state.clear()
        state.update(others)
        state.update(tensors_out)
        return loss, values

    @torch.no_grad()
    def sync(self, i: int) -> None:
        nets = self.template.nets_
        for n, p in self.models[i].nets_.named_parameters():
            p.copy_(nets.get_parameter(n)[i])
        for n, b in self.models[i].nets_.named_buffers():
            b.copy_(nets.get_buffer(n)[i])

    def finish(self) -> None:
        for i, (m, c) in enumerate(zip(self.models, self.ctxs)):
            self.sync(i)
            m.on_train_end(c.x, c.y)
            m.nets_.eval()
            m.items_seen_ = c.batches_drawn * c.batch_size
            m.packed_with_ = tuple(self.seeds)
            m.compiled_ = self.compiled is not None
        if self.compiled is not None:
            self.compiled.close()


def _stacked_copy(models: list):
    """A copy of ``models[0]`` whose networks hold the stacked parameters and buffers of all."""
    template = copy.deepcopy(models[0])
    params, buffers = stack_module_state([m.nets_ for m in models])
    for name, p in params.items():
        owner, attr = _owner(template.nets_, name)
        setattr(owner, attr, nn.Parameter(p.detach().clone()))     # Module.__setattr__ replaces it in place
    for name, b in buffers.items():
        owner, attr = _owner(template.nets_, name)
        setattr(owner, attr, b.clone())                            # a buffer stays a buffer (and keeps persistence)
    return template


def check_packable(model, data) -> None:
    """Raise ValueError when ``fit_seeds`` cannot train this (unfitted) model on ``data``: the data
    does not fit the model (``model.check_data``), or the model declares why its seeds cannot be
    stacked (``model.pack_refusal(data)``)."""
    model.check_data(data, "fit_seeds")
    reason = model.pack_refusal(data)
    if reason:
        raise ValueError(f"fit_seeds: {reason}: train its seeds with fit")


def fit_seeds(model, data, seeds, *, device="auto", callbacks=None, log_interval: int = LOG_INTERVAL,
              compile=False) -> list:
    """Train one copy of ``model`` (its config; ``model`` itself is left as it is) per seed,
    together; returns the fitted models in the order of ``seeds``, each a normal model (its
    ``history_``, ``sample``, ``save_pretrained``), as ``fit(data, seed=s)`` would have made it,
    with ``packed_with_`` (the seeds trained together) and ``train_time_s_`` (the time of all).

    ``callbacks``: one list of callbacks per seed (``callbacks[i]`` for ``seeds[i]``), each seeing
    its seed's model and history exactly as under ``model.fit(data, seed=s, callbacks=...)``: the
    same hooks (``on_fit_start``, ``sync_steps``, ``on_step_end``, ``on_fit_end``) at the same
    steps, the model holding that seed's weights whenever a hook runs. ``log_interval``: as ``fit``.

    A non-finite logged value raises :class:`~genzoo.errors.DivergenceError` naming the first bad
    step of a seed, as ``fit`` does; no model is then returned. What cannot be packed is refused
    first (:func:`check_packable`). ``compile``: as ``fit``'s (:mod:`genzoo.training.compile`:
    each update's vmapped loss compiled, its draws made before it)."""
    seeds = _check_seeds(seeds)
    check_packable(model, data)
    check_log_interval(log_interval)
    per_seed = _check_callbacks(callbacks, len(seeds))
    compile_spec(compile)                 # a bad value is refused before anything is built
    dev = resolve_device(device)
    models = []
    for s in seeds:
        m = type(model)(model.config)
        m.setup(data.shape, data.num_classes, s, dev, data_name=data.name)
        models.append(m)
    x = data.x.to(dev)                  # as stored (uint8 images stay uint8): each batch converted when drawn
    y = data.y.to(dev)
    steps = total_steps(models[0], len(x))
    schedule = fit_schedule(models[0], steps, len(x))
    spec = checked_spec(compile, models[0], schedule)
    stepper = StackedStep(models, x, y, seeds, dev, schedule=schedule, compile=spec)
    train(stepper, per_seed, steps, log_interval=log_interval,
          desc=f"fit_seeds {model.name} x{len(seeds)}" + (" (compiled)" if spec else ""))
    return models


def _check_seeds(seeds) -> list[int]:
    """``seeds`` as a list of distinct ints from 0 to MAX_SEED, or ValueError naming the bad one."""
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise ValueError(f"fit_seeds: seeds must be a non-empty list of integers from 0 to {MAX_SEED:,}, got {seeds!r}")
    seeds = list(seeds)
    if not seeds:
        raise ValueError(f"fit_seeds: seeds must be a non-empty list of integers from 0 to {MAX_SEED:,}, got []")
    seeds = [check_seed(s, f"fit_seeds: seeds[{i}]") for i, s in enumerate(seeds)]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"fit_seeds: a seed is given twice: {seeds}")
    return seeds


def _check_callbacks(callbacks, n: int) -> list[list]:
    """``callbacks`` as one list per seed, or ValueError."""
    if callbacks is None:
        return [[] for _ in range(n)]
    what = f"fit_seeds: callbacks must hold one list of callbacks per seed ({n})"
    if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Iterable):
        raise ValueError(f"{what}, got {type(callbacks).__name__}")
    callbacks = list(callbacks)
    if len(callbacks) != n or not all(isinstance(c, Iterable) and not isinstance(c, (str, bytes)) for c in callbacks):
        raise ValueError(f"{what}, got {callbacks!r}")
    return [list(c) for c in callbacks]


def _owner(root: nn.Module, name: str) -> tuple[nn.Module, str]:
    path, _, attr = name.rpartition(".")
    return root.get_submodule(path), attr


def _stack(outs):
    if isinstance(outs[0], tuple):
        return tuple(torch.stack(parts) for parts in zip(*outs))
    return torch.stack(outs)
