"""Several seeds of one model trained together in one process: :func:`fit_seeds`.

The seeds' networks become one stacked network (``torch.func.stack_module_state``: every parameter
and buffer gets a leading seed dimension) and each update of a step runs once for all seeds,
``torch.func.vmap`` over ``torch.func.functional_call``. So a step is one set of (bigger) kernels
instead of one per seed, which is what a GPU needs from genzoo's small networks.

A seed trains exactly as ``model.fit(data, seed=s)`` would, whichever seeds share the process:

- each seed keeps its own :class:`~genzoo.training.loop.StepContext` (its batch permutations and its
  noise come from that seed's generators); the draws a step needs are found once, by running one
  step of the unpacked model with a recording context, then made per seed before each update and
  handed to the vmapped update in that order;
- the optimizers are the model's own (``configure_optimizers``), built over the stacked
  parameters: Adam and RMSprop work element by element, so each seed's slice is updated as alone;
  constraints (WGAN's clipping) apply element by element too;
- batch norm keeps per-seed running statistics (the buffers are stacked as well).

What cannot be packed is refused with a one-line ``ValueError`` naming why: dropout (its masks
come from the global generator, not a seed's), experience replay (a buffer outside the step), and
updates that differentiate inside the step (WGAN-GP's gradient penalty).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterable

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from tqdm.auto import tqdm

from ..errors import DivergenceError
from ..limits import MAX_SEED, check_seed
from .loop import LOG_INTERVAL, StepContext, check_log_interval, losses_first, total_steps


class _Recorder:
    """A StepContext that notes each draw (method, args) an update makes."""

    def __init__(self, ctx: StepContext):
        self._ctx, self.calls = ctx, []

    def __getattr__(self, name):
        value = getattr(self._ctx, name)
        if name in ("next_batch", "randn", "randint", "rand"):
            def call(*args):
                self.calls.append((name, args))
                return value(*args)
            return call
        return value


class _Replay:
    """What a vmapped update sees as its context: the draws made for its seed, in order."""

    def __init__(self, ctx: StepContext, draws: list):
        self._ctx, self._draws, self._i = ctx, draws, 0

    def _next(self, *args):
        out = self._draws[self._i]
        self._i += 1
        return out

    next_batch = randn = randint = rand = _next

    def __getattr__(self, name):                 # batch_size, step, epoch: the same for every seed
        return getattr(self._ctx, name)


class _Run(nn.Module):
    """Holds the model's networks, so that ``functional_call`` swaps in one seed's slice of every
    parameter and buffer while the model's own loss code runs."""

    def __init__(self, nets: nn.Module):
        super().__init__()
        self.nets = nets

    def forward(self, fn, *args):
        return fn(*args)


def check_packable(model, data) -> None:
    """Raise ValueError when ``fit_seeds`` cannot train this (unfitted) model on ``data``."""
    model.check_data(data, "fit_seeds")
    probe = type(model)(model.config)
    with torch.random.fork_rng(devices=[]):
        probe.nets_ = probe.build(tuple(data.shape), data.num_classes)
    _check_packable(probe)


def _check_packable(model) -> None:
    drop = [m for m in model.nets_.modules() if isinstance(m, nn.Dropout) and m.p > 0]
    if drop:
        raise ValueError(f"fit_seeds: {model.name} uses dropout (p = {drop[0].p}), whose masks come from the "
                         f"global random generator, not from each seed's: train its seeds with fit")
    if float(getattr(model.config, "replay", 0.0) or 0.0):
        raise ValueError(f"fit_seeds: {model.name} uses experience replay (a buffer outside the step): "
                         f"train its seeds with fit")
    penalty = getattr(type(model), "d_penalty", None)
    if penalty is not None and penalty is not _base_penalty():
        raise ValueError(f"fit_seeds: {model.name}'s discriminator penalty differentiates inside the step, "
                         f"which vmap cannot do: train its seeds with fit")


def _base_penalty():
    from ..models.adversarial import AdversarialModel

    return AdversarialModel.d_penalty


def fit_seeds(model, data, seeds, *, device="auto", log_interval: int = LOG_INTERVAL) -> list:
    """Train one copy of ``model`` (its config; ``model`` itself is left as it is) per seed,
    together; returns the fitted models in the order of ``seeds``, each a normal model (its
    ``history_``, ``sample``, ``save_pretrained``), as ``fit(data, seed=s)`` would have made it.

    A non-finite logged value raises :class:`~genzoo.errors.DivergenceError` naming the seed's
    first bad step, as ``fit`` does; the other seeds' models are then not returned."""
    from ..models.base import resolve_device

    seeds = _check_seeds(seeds)
    model.check_data(data, "fit_seeds")
    check_log_interval(log_interval)
    dev = resolve_device(device)

    models = []
    for s in seeds:
        m = type(model)(model.config)
        m._setup(data.shape, data.num_classes, s, dev, data_name=data.name)
        models.append(m)
    _check_packable(models[0])

    x = models[0].to_model_scale(data.x.to(dev))
    y = data.y.to(dev)
    ctxs = [StepContext(x, y, models[0].config.batch_size, s, dev) for s in seeds]
    steps = total_steps(models[0], len(x))

    # the draws of each update, from one step of a copy of the first seed's model (its losses only:
    # no step is taken), the copy that then holds the stacked tensors
    template = copy.deepcopy(models[0])
    rec = _Recorder(StepContext(x, y, template.config.batch_size, seeds[0], dev))
    calls: list[list] = []
    state: dict = {}
    with torch.random.fork_rng(devices=[]):
        for u in template.updates():
            rec.calls = []
            u.loss(rec, state)
            calls.append(list(rec.calls))
    del state

    # one stacked network: the template's parameters and buffers become the stacked leaves
    params, buffers = stack_module_state([m.nets_ for m in models])
    for name, p in params.items():
        owner, attr = _owner(template.nets_, name)
        owner._parameters[attr] = nn.Parameter(p.detach().clone())
    for name, b in buffers.items():
        owner, attr = _owner(template.nets_, name)
        owner._buffers[attr] = b.clone()
    run = _Run(template.nets_)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seeds[0] + 2)
        optimizers = template.configure_optimizers()
        updates = template.updates()
    if len(calls) != len(updates):
        raise ValueError(f"fit_seeds: {template.name}'s updates changed between two calls of updates()")

    named_p, named_b = list(template.nets_.named_parameters()), list(template.nets_.named_buffers())
    names_p, pv = [f"nets.{n}" for n, _ in named_p], [p for _, p in named_p]     # stepped in place: the
    names_b, bv = [f"nets.{n}" for n, _ in named_b], [b for _, b in named_b]     # same tensors every step
    histories: list[list] = [[] for _ in seeds]
    template.nets_.train()
    t0 = time.perf_counter()
    pending = []
    bar = tqdm(total=steps, desc=f"fit_seeds {model.name} x{len(seeds)}", unit="step", disable=None, leave=False)
    for step in range(1, steps + 1):
        for c in ctxs:
            c.step = step
        state_t: dict = {}          # tensors shared between the updates of the step, per seed (dim 0)
        state_o: dict = {}          # the rest (None labels), the same for every seed
        logs: dict = {}
        for u, u_calls in zip(updates, calls):
            draws = [_stack([getattr(c, meth)(*args) for c in ctxs]) for meth, args in u_calls]

            def lane(pv, bv, draws, st, u=u):
                tensors = dict(zip(names_p, pv))
                tensors.update(zip(names_b, bv))
                st = {**state_o, **st}
                loss, values = functional_call(run, tensors, (u.loss, _Replay(ctxs[0], list(draws)), st),
                                               strict=True, tie_weights=False)
                state_o.update({k: v for k, v in st.items() if not isinstance(v, torch.Tensor)})  # None labels
                return loss, values, {k: v for k, v in st.items() if isinstance(v, torch.Tensor)}

            loss, values, state_t = vmap(lane, randomness="error")(pv, bv, draws, state_t)
            opt = optimizers[u.optimizer]
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
            if u.after is not None:
                u.after()
            logs.update({k: v.detach() for k, v in values.items()})
        logs = losses_first(logs)
        pending.append((step, [c.epoch for c in ctxs], logs))
        if step % log_interval == 0 or step == steps:
            _flush(pending, histories, seeds)
            bar.update(len(pending))
            pending = []
    bar.close()
    train_time = time.perf_counter() - t0

    # back to one model per seed
    for i, m in enumerate(models):
        with torch.no_grad():
            for n, p in m.nets_.named_parameters():
                p.copy_(template.nets_.get_parameter(n)[i])
            for n, b in m.nets_.named_buffers():
                b.copy_(template.nets_.get_buffer(n)[i])
        m.history_ = histories[i]
        m.on_train_end(x, y)
        m.nets_.eval()
        m.train_time_s_ = train_time
        m.items_seen_ = ctxs[i].batches_drawn * ctxs[i].batch_size
        m.packed_with_ = tuple(seeds)
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


def _owner(root: nn.Module, name: str) -> tuple[nn.Module, str]:
    path, _, attr = name.rpartition(".")
    return root.get_submodule(path), attr


def _stack(outs):
    if isinstance(outs[0], tuple):
        return tuple(torch.stack(parts) for parts in zip(*outs))
    return torch.stack(outs)


def _flush(pending, histories, seeds) -> None:
    keys = list(pending[0][2])
    values = torch.stack([torch.stack([v[k].float() for k in keys]) for _, _, v in pending])   # (T, K, S)
    rows = values.permute(2, 0, 1).tolist()                                                     # (S, T, K)
    for i, seed in enumerate(seeds):
        for (step, epochs, _), row in zip(pending, rows[i]):
            logs = dict(zip(keys, row))
            if not all(math.isfinite(v) for v in row):
                raise DivergenceError(step, logs, history=histories[i])
            histories[i].append({"step": step, "epoch": epochs[i], **logs})
