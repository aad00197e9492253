"""Compiled training steps: ``model.fit(data, compile=True)`` and ``genzoo.fit_seeds(..., compile=True)``.

genzoo's networks are small: a step is a few dozen kernels, and on a GPU launching them, not the
arithmetic, sets the speed. A compiled fit runs each optimizer update's loss through
``torch.compile`` (TorchInductor fuses the forward, and through AOTAutograd the backward, into a
few kernels; on CUDA it replays them as CUDA graphs, ``mode="reduce-overhead"``'s
``triton.cudagraphs``), while the loop stays the one every fit runs
(:func:`~genzoo.training.step.apply_updates`: ``zero_grad`` / ``backward`` / ``step``, the
``after`` hook, the weight averages, all eager: the optimizers' foreach kernels are a few
launches). What a compiled update computes is what the eager one computes: the same draws from the
same generators, in the same order; only float rounding differs (the fused kernels sum in another
order), and random ops (dropout) are Inductor's ``fallback_random``: eager's own kernels, eager's
numbers.

How the eager step's parts are kept eager inside a compiled update:

- **one seed** (:class:`SoloLosses`): the step context's draws (``next_batch``, ``randn``,
  ``randint``, ``rand``: seeded generators, a permutation, a host counter) run outside the graph
  (``torch.compiler.disable``: the update is compiled around them), and a value written to the
  step's ``state`` (a GAN's generated batch, which the generator's update reuses) ends a graph, so
  that the generator's forward is its own autograd node: backpropagating the discriminator's loss
  does not run (and free) the graph the generator's update backpropagates through later;
- **seeds stacked** (:class:`PackedLosses`, :func:`genzoo.fit_seeds`): the whole vmapped update is
  one graph, which cannot stop for a draw; so the first step runs eagerly and records the draws
  each update makes (what, in which order), and from the second step on each update's draws are
  made first, eagerly, by every seed's own generators in that order (the very numbers of the eager
  step), then handed to the compiled update, each lane reading its seed's. An update whose draws
  change from step to step cannot be compiled that way: its traced draws are checked against the
  record, and a mismatch stops the fit. A tensor the update leaves in ``state`` comes out of the same
  graph as its loss, so its backward keeps that graph (``retain_graph``) for the next update.

What cannot be compiled trains eagerly, said in one warning line naming the model and why
(:func:`compile_refusal`): a model that declares it (``model.compile_refusal()``: WGAN-GP's gradient
penalty and R1 differentiate inside the step, a double backward TorchInductor cannot compile;
experience replay keeps a buffer outside the step), or a model on a schedule (the step changes as
it goes).

A compiled fit starts and ends with ``torch.compiler.reset()``: the compiled code is keyed on the
models' code (``AdversarialModel._d_update`` is every GAN's), and Dynamo keeps 8 versions of a
function at most, so one fit's code is not left to crowd out the next's (the compiled kernels stay
in TorchInductor's cache on disk, so the next fit of the same networks compiles faster).
"""

from __future__ import annotations

import warnings
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Callable

import torch
from torch.func import vmap

__all__ = ["COMPILE_CHOICES", "Compile", "PackedLosses", "SoloLosses", "compile_refusal", "compile_spec",
           "resolve_compile"]

COMPILE_CHOICES = ("auto", "on", "off")      # the bench's --compile
COMPILE_MIN_STEPS = 1000     # auto: compile a CUDA fit of at least this many steps (compiling takes ~10 s or more)


@dataclass(frozen=True)
class Compile:
    """How a compiled fit compiles (``fit(compile=True)`` is ``Compile()``): ``backend``, a
    ``torch.compile`` backend ("inductor", or "aot_eager": the same graphs and autograd without
    code generation, for checks that must not wait for a C++ compiler); ``cuda_graphs``: replay
    the compiled updates as CUDA graphs on a CUDA device (Inductor's ``triton.cudagraphs``, what
    ``mode="reduce-overhead"`` turns on)."""

    backend: str = "inductor"
    cuda_graphs: bool = True

    def __post_init__(self):
        if not isinstance(self.backend, str) or not self.backend:
            raise ValueError(f"Compile: backend must name a torch.compile backend, got {self.backend!r}")

    def graphs_on(self, device: torch.device) -> bool:
        """Whether the updates replay as CUDA graphs on ``device``."""
        return self.cuda_graphs and self.backend == "inductor" and device.type == "cuda"

    def compiled(self, fn: Callable, device: torch.device) -> Callable:
        """``fn`` compiled for ``device``."""
        if self.backend != "inductor":
            return torch.compile(fn, backend=self.backend)
        options = {"fallback_random": True}            # dropout draws eager's numbers
        if self.graphs_on(device):
            options["triton.cudagraphs"] = True         # mode="reduce-overhead"
        return torch.compile(fn, backend="inductor", options=options)


def compile_spec(compile) -> Compile | None:
    """``fit``'s ``compile`` argument as a :class:`Compile` (None: eager), or ValueError."""
    if compile is None or compile is False:
        return None
    if compile is True:
        return Compile()
    if isinstance(compile, Compile):
        return compile
    raise ValueError(f"compile must be True, False or a genzoo.training.Compile, got {compile!r}")


def compile_refusal(model, schedule=None) -> str | None:
    """Why ``model`` (set up) cannot train compiled, in a few words, or None: what the model
    declares (``model.compile_refusal()``), or its schedule (``schedule``: the fit's, None when
    the model has none)."""
    declared = getattr(model, "compile_refusal", None)
    reason = declared() if declared is not None else None
    if reason:
        return reason
    if schedule is not None:
        return f"{model.name}'s schedule changes its step as the fit goes (phases, alpha)"
    return None


def checked_spec(compile, model, schedule=None) -> Compile | None:
    """The :class:`Compile` a fit of ``model`` uses: None (eager) when not asked, or when the
    model cannot be compiled, which is said in one warning line naming the model and why."""
    spec = compile_spec(compile)
    if spec is None:
        return None
    reason = compile_refusal(model, schedule)
    if reason:
        warnings.warn(f"{model.name} is not compiled ({reason}): it trains eagerly", stacklevel=4)
        return None
    return spec


def resolve_compile(choice: str, device: str | torch.device, steps: int | None = None) -> bool:
    """The bench's ``--compile`` (:data:`COMPILE_CHOICES`) for a fit of ``steps`` steps on
    ``device``: "on", "off", or "auto": on a CUDA device, for fits of at least
    :data:`COMPILE_MIN_STEPS` steps (compiling takes seconds to a minute; on a CPU it does not pay:
    TorchInductor's CPU kernels gain little on these networks)."""
    if choice not in COMPILE_CHOICES:
        raise ValueError(f"compile must be one of {', '.join(COMPILE_CHOICES)}, got {choice!r}")
    if choice != "auto":
        return choice == "on"
    return torch.device(device).type == "cuda" and (steps is None or steps >= COMPILE_MIN_STEPS)


def _reset() -> None:
    torch.compiler.reset()


def _step_begins(spec: Compile, device: torch.device) -> None:
    if spec.graphs_on(device):
        torch.compiler.cudagraph_mark_step_begin()       # the last step's graph outputs may be reused


def _kept(values: dict, spec: Compile, device: torch.device) -> dict:
    """A compiled update's logged values, copied out of the CUDA graph's memory (its next replay
    overwrites it, and the loop reads the values up to ``log_interval`` steps later)."""
    if not spec.graphs_on(device):
        return values
    return {k: v.detach().clone() for k, v in values.items()}


class _EagerDraws:
    """The step context a compiled update of one seed sees: its draws run eagerly, outside the
    graph; everything else (``step``, ``batch_size``, ``progress``, ...) is the context's."""

    def __init__(self, ctx):
        self._ctx = ctx

    def __getattr__(self, name):
        return getattr(self._ctx, name)

    @torch.compiler.disable
    def next_batch(self):
        return self._ctx.next_batch()

    @torch.compiler.disable
    def randn(self, *shape):
        return self._ctx.randn(*shape)

    @torch.compiler.disable
    def randint(self, high, *shape):
        return self._ctx.randint(high, *shape)

    @torch.compiler.disable
    def rand(self, *shape):
        return self._ctx.rand(*shape)


class _SplitState(MutableMapping):
    """A step's ``state`` as a compiled update of one seed sees it: a write ends the graph (so a
    tensor kept for a later update comes from a graph of its own)."""

    def __init__(self, state: dict):
        self._state = state

    def __getitem__(self, key):
        return self._state[key]

    @torch.compiler.disable
    def __setitem__(self, key, value):
        self._state[key] = value

    def __delitem__(self, key):
        del self._state[key]

    def __iter__(self):
        return iter(self._state)

    def __len__(self):
        return len(self._state)


class SoloLosses:
    """``loss_of(u, state)`` for :func:`~genzoo.training.step.apply_updates` of one seed: each
    update's loss compiled (once per update), its draws and state writes kept eager."""

    def __init__(self, ctx, spec: Compile):
        self.spec, self.device = spec, ctx.device
        self.draws = _EagerDraws(ctx)
        self._fns: dict = {}
        _reset()

    def step_begins(self) -> None:
        _step_begins(self.spec, self.device)

    def __call__(self, u, state: dict):
        fn = self._fns.get(u.loss)
        if fn is None:
            fn = self._fns[u.loss] = self.spec.compiled(u.loss, self.device)
        loss, values = fn(self.draws, _SplitState(state))
        return loss, _kept(values, self.spec, self.device)

    def close(self) -> None:
        self._fns.clear()
        _reset()


class PackedLosses:
    """The compiled updates of seeds stacked (:class:`~genzoo.training.packed.StackedStep`): the
    first step eager, recording each update's draws (``lanes.recording``); then each update's
    draws made first, eagerly, and its vmapped loss compiled (:meth:`run`)."""

    def __init__(self, lanes, spec: Compile, device: torch.device):
        self.lanes, self.spec, self.device = lanes, spec, device
        self.plans: dict[int, list] = {}          # update index in the step -> its draws
        self._fns: dict = {}
        self._index = 0
        _reset()

    def step_begins(self) -> None:
        self._index = 0
        _step_begins(self.spec, self.device)

    def run(self, u, lane: Callable, args: tuple):
        """``vmap(lane)(*args)`` (the update's loss of every seed): eager the first time this
        update of the step runs (its draws recorded), compiled after (its draws made first).
        ``args[2]`` is the step's state as the update gets it; an update with an optimizer that
        leaves a tensor with its graph in it stays eager (its loss and that tensor would come out
        of one graph, which the next update could not backpropagate through again)."""
        i, self._index = self._index, self._index + 1
        plan = self.plans.get(i)
        if plan is None or plan is _EAGER:
            self.lanes.recording = [] if plan is None else None
            try:
                out = _vmapped(lane, *args)
            finally:
                recorded, self.lanes.recording = self.lanes.recording, None
            if plan is None:
                made = {k: v for k, v in out[2].items() if k not in args[2]}      # what it added to the state
                self.plans[i] = recorded if u.optimizer is None or not _holds_graph(made) else _EAGER
                if self.plans[i] is _EAGER:
                    warnings.warn(f"update {i + 1} of the step ({u.optimizer!r}) leaves a tensor with its graph in "
                                  f"the step's state: it runs eagerly in a compiled fit_seeds (make that tensor in "
                                  f"a stage of its own, Update(None, ...))", stacklevel=2)
            return out
        fn = self._fns.get(u.loss)
        if fn is None:
            fn = self._fns[u.loss] = self.spec.compiled(_vmapped, self.device)
        replay = self.lanes.replay = _Replay(plan, [self.lanes.drawn(kind, draw) for kind, draw in plan])
        try:
            loss, values, tensors = fn(lane, *args)
        finally:
            self.lanes.replay = None
        if replay.pos != len(plan):
            raise RuntimeError(f"a compiled update made {replay.pos} draws where it made {len(plan)} at its first "
                               f"step: its draws change from step to step; fit it without compile")
        return loss, _kept(values, self.spec, self.device), tensors

    def close(self) -> None:
        self._fns.clear()
        _reset()


_EAGER = object()        # PackedLosses.plans: an update that is not compiled


def _holds_graph(tensors: dict) -> bool:
    return any(isinstance(v, torch.Tensor) and v.requires_grad for v in tensors.values())


def _vmapped(lane, *args):
    return vmap(lane, randomness="error")(*args)


class _Replay:
    """The draws of one compiled update, made before it (stacked over the seeds), read in order
    by its lanes (:meth:`take`)."""

    def __init__(self, plan: list, tensors: list):
        self.plan, self.tensors, self.pos = plan, tensors, 0

    def take(self, kind: str, draw: Callable):
        """The next draw (the seeds' stacked tensors), which must be of the kind recorded at this
        place (their number is checked after the update: :meth:`PackedLosses.run`)."""
        if self.pos >= len(self.plan) or self.plan[self.pos][0] != kind:
            raise RuntimeError(f"a compiled update's draw {self.pos + 1} is not the one it made at its first step: "
                               f"its draws change from step to step; fit it without compile")
        out = self.tensors[self.pos]
        self.pos += 1
        return out
