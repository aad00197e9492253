"""Hyper-parameter search spaces as Lucic et al. 2018 ("Are GANs Created Equal?") and compare_gan v1
define them: each model declares its space next to itself (``sweep_space`` on the model class, a
``{"wide": {...}, "narrow": {...}}`` of :class:`Dim`), and :func:`draw_trials` turns it into
trials: trial 0 is the model's defaults, trial t >= 1 one draw from the space, made from its own
generator ``numpy.random.default_rng([seed, t])``, so the same seed gives the same trials and a
sweep of K trials is the first K of a longer one. The dimensions themselves (:class:`Dim` and the
functions that make them) live in the leaf module :mod:`genzoo.space`, which the models import."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import UserError
from ..space import Dim, choice, fixed, log_uniform, uniform    # the dimensions (re-exported: a leaf module)

LEVELS = ("wide", "narrow")

__all__ = ["LEVELS", "Dim", "choice", "describe_space", "draw_trials", "fixed", "log_uniform", "model_space",
           "uniform"]


def model_space(model: str, level: str = "wide") -> dict[str, Dim]:
    """The space ``model`` declares at ``level``, less the dimensions that set a field its config
    lacks (a GAN without batch norm in D has no "D batch norm" to search)."""
    from ..models import get_model_class

    if level not in LEVELS:
        raise UserError(f"unknown search space {level!r}; choose one of {', '.join(LEVELS)}")
    cls = get_model_class(model)
    declared = getattr(cls, "sweep_space", None) or {}
    if level not in declared:
        raise UserError(f"model {model!r} declares no {level!r} search space")
    fields = {f.name for f in dataclasses.fields(cls.Config)}
    return {name: dim for name, dim in declared[level].items() if set(dim.keys) <= fields}


def draw_trials(model: str, n: int, *, level: str = "wide", seed: int = 0) -> list[dict]:
    """Config overrides of trials 0..n-1: ``{}`` (the defaults) first, then draws from the space."""
    if n < 1:
        raise UserError(f"a sweep needs at least one trial, got {n}")
    space = model_space(model, level)
    trials = [{}]
    for t in range(1, n):
        rng = np.random.default_rng([seed, t])
        settings = {}
        for name in sorted(space):                          # a fixed order: the same draws every time
            value = space[name].draw(rng)
            settings.update({k: value for k in space[name].keys})
        trials.append(settings)
    return trials


def describe_space(model: str, level: str = "wide") -> str:
    """``genzoo sweep --show-space MODEL``: one line per dimension, with the default it starts from."""
    from ..models import get_model_class

    cls = get_model_class(model)
    defaults = {f.name: f.default for f in dataclasses.fields(cls.Config)}
    lines = [f"{model}: {level} search space (Lucic et al. 2018 / compare_gan v1); trial 0 = the defaults"]
    for name, dim in sorted(model_space(model, level).items()):
        now = ", ".join(f"{k}={defaults[k]!r}" for k in dim.keys)
        lines.append(f"  {name:<14} {dim.describe():<32} sets {', '.join(dim.keys)} (default {now})")
    return "\n".join(lines)

