"""Seeds of one plan trained together (``--pack``, :func:`genzoo.fit_seeds`), each still with its
own record and W&B run. Each run of the group is started first (its record, its W&B run and the
:class:`~genzoo.bench.tracking.callback.WandbCallback` that logs to it:
:func:`genzoo.bench.execute.execute_group`); :func:`fit_together` then trains the group with one
callback list per seed, so each run's W&B run gets its losses and sample grids as it trains, as a
run trained alone does; :func:`adopt_packed` takes a fitted model as its run's fit (the record's
entries)."""

from __future__ import annotations

import genzoo

from ..errors import DivergenceError
from ..training.packed import check_packable
from .context import RunContext
from .environment import raise_if_environment
from .runspec import RunSpec


def fit_together(model, train, mine: list[RunSpec], callbacks: list[list], ctx: RunContext) -> list | None:
    """Train the runs of ``mine`` (the same model and plan, other seeds; ``model``: an unfitted
    model of their plan, ``train``: their training split) together with ``genzoo.fit_seeds``,
    ``callbacks[i]`` being the callbacks of ``mine[i]``; the fitted models in the order of
    ``mine``, or None when they are better trained one by one (fewer than two, a model that
    cannot be packed, a seed that diverged, packing failed). A failure of the machine is raised
    (:class:`genzoo.errors.EnvironmentFailure`).

    Each model's ``train_time_s_`` is its share of the pack's time without the W&B logging, plus
    its own callbacks' time (which the run's ``train_time_s`` leaves out again); its
    ``packed_time_s_``, the pack's time without the W&B logging."""
    if len(mine) < 2:
        return None
    first = mine[0]
    try:
        check_packable(model, train)
    except ValueError as exc:
        ctx.say(f"{first.model}: its seeds are trained one by one ({exc})")
        return None
    seeds = [s.seed for s in mine]
    ctx.say(f"{first.model}: seeds {', '.join(map(str, seeds))} trained together in this process (genzoo.fit_seeds)")
    try:
        models = genzoo.fit_seeds(model, train, seeds=seeds, device=ctx.device, callbacks=callbacks,
                                  compile=ctx.compiles(model, train))
    except DivergenceError as exc:
        ctx.say(f"{first.model}: a seed diverged when packed ({exc}); its seeds are trained one by one")
        return None
    except Exception as exc:
        raise_if_environment(exc, "training")
        ctx.say(f"{first.model}: packing failed ({type(exc).__name__}: {exc}); its seeds are trained one by one")
        return None
    spent = [sum(getattr(cb, "time_s", 0.0) for cb in cbs) for cbs in callbacks]   # each seed's W&B logging
    for m, own in zip(models, spent):
        m.packed_time_s_ = max(m.train_time_s_ - sum(spent), 0.0)
        m.train_time_s_ = m.packed_time_s_ / len(models) + own
    return models


def adopt_packed(model, record: dict):
    """A run's model trained by :func:`fit_together`, taken as the run's fit: the record says so.
    Returns the model."""
    record["train"]["packed_with"] = list(model.packed_with_)
    record["train"]["packed_train_time_s"] = model.packed_time_s_
    record["notes"].append(f"trained together with seeds {list(model.packed_with_)} in one process "
                           f"(genzoo.fit_seeds); train_time_s is its share of their time")
    return model
