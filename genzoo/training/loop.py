"""The one training loop every fit runs, of one seed (``model.fit``) or of several stacked
(:func:`genzoo.fit_seeds`): device, schedule, the divergence check, history, callbacks and
progress, around a step object (:class:`~genzoo.training.step.SoloStep` or
:class:`~genzoo.training.packed.StackedStep`) that runs the optimizer updates of one step."""

from __future__ import annotations

import math
import time

import torch
from tqdm.auto import tqdm

from ..errors import DivergenceError
from .compile import checked_spec
from .schedule import fit_schedule
from .step import SoloStep, StepContext, losses_first, run_updates

__all__ = ["LOG_INTERVAL", "StepContext", "check_log_interval", "fit_model", "losses_first", "planned_steps",
           "resolve_device", "run_updates", "total_steps", "train"]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValueError(f"unknown device {device!r}; use 'auto', 'cpu' or 'cuda[:N]'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but CUDA is not available on this machine")
    return dev


def total_steps(model, n_items: int) -> int:
    cfg = model.config
    return planned_steps(cfg.max_steps, cfg.epochs, cfg.batch_size, model.batches_per_step, n_items)


def planned_steps(max_steps: int | None, epochs: float, batch_size: int, batches_per_step: int, n_items: int) -> int:
    """Generator steps of a fit: ``max_steps`` when set, else ``epochs`` passes over ``n_items``
    (each step consuming ``batches_per_step`` batches, e.g. WGAN's critic batches)."""
    if max_steps is not None:
        return int(max_steps)
    per_epoch = max(n_items // (min(batch_size, n_items) * batches_per_step), 1)
    return max(math.ceil(epochs * per_epoch), 1)


LOG_INTERVAL = 50      # steps between two reads of the losses back to the host


def check_log_interval(log_interval) -> None:
    if isinstance(log_interval, bool) or not (isinstance(log_interval, int) and log_interval >= 1):
        raise ValueError(f"log_interval must be an int >= 1, got {log_interval!r}")


def fit_model(model, data, *, seed: int, device: torch.device, callbacks=(), log_interval: int = LOG_INTERVAL,
              compile=False) -> None:
    """Train ``model`` (already built by ``model.setup``) on ``data``; fills ``history_``: the
    loop of :func:`train` with the step of one seed. The set goes to the device as it is stored
    (uint8 images stay uint8); each batch is converted when drawn (:class:`StepContext`). A model
    that declares a schedule (``model.schedule()``) gets it scaled to this fit's budget
    (:func:`~genzoo.training.schedule.fit_schedule`). ``compile``: True (or a
    :class:`~genzoo.training.compile.Compile`) compiles each update (:mod:`genzoo.training.compile`;
    a model that cannot be compiled trains eagerly, with a warning saying why)."""
    check_log_interval(log_interval)
    x = data.x.to(device)
    y = data.y.to(device)
    steps = total_steps(model, len(x))
    ctx = StepContext(x, y, model.config.batch_size, seed, device, model.to_model_scale,
                      schedule=fit_schedule(model, steps, len(x)))
    spec = checked_spec(compile, model, ctx.schedule)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed + 2)  # any module drawing from the global RNG (dropout) stays seeded
        train(SoloStep(model, ctx, spec), [list(callbacks)], steps, log_interval=log_interval,
              desc=f"fit {model.name}" + (" (compiled)" if spec else ""))


def train(stepper, callbacks: list[list], steps: int, *, log_interval: int, desc: str) -> None:
    """Run ``steps`` steps of ``stepper`` (a step object: :class:`~genzoo.training.step.SoloStep`
    says what it has) and fill each of its models' ``history_``; ``callbacks[i]`` are the
    callbacks of ``stepper.models[i]``.

    A callback may have ``on_fit_start(model, total_steps)``, ``sync_steps(total_steps)`` (the
    steps it must see as they happen), ``on_step_end(model, step, record)`` (``record`` is the
    history entry just appended to ``model.history_``) and ``on_fit_end(model)``.

    Nothing in a step reads a device value back to the host: each step's logged values stay on
    the device and are read back every ``log_interval`` steps in one transfer (also at the last
    step, and at the steps a callback asks to see as they happen). Then each model's history gets
    one entry per step, its callbacks' ``on_step_end`` runs for each, and a non-finite value raises
    :class:`DivergenceError` naming the first bad step (the steps run after it in the same block
    are discarded with the model, which a failed fit does not keep). A model on a schedule gets
    ``phase``, ``resolution`` and ``alpha`` in each step's entry, after ``step`` and ``epoch``:
    host numbers (``stepper.progress``), nothing read from the device."""
    models = stepper.models
    sync: set[int] = set()
    for model, cbs in zip(models, callbacks):
        for cb in cbs:
            _call(cb, "on_fit_start", model, steps)
            sync |= set(getattr(cb, "sync_steps", lambda total: ())(steps))
    t0 = time.perf_counter()
    bar = tqdm(total=steps, desc=desc, unit="step", disable=None, leave=False)
    stepper.train()
    pending: list[tuple[int, float, dict, dict]] = []    # (step, epoch, device values, schedule values) not yet read
    try:
        for step in range(1, steps + 1):
            logs = stepper(step)
            progress = stepper.progress
            pending.append((step, stepper.epoch, logs,               # the epoch after the step's batches
                            {} if progress is None else progress.logs()))
            if step % log_interval == 0 or step == steps or step in sync:
                _flush(stepper, callbacks, pending, bar)
                pending = []
    finally:
        bar.close()
    stepper.finish()
    elapsed = time.perf_counter() - t0
    for model, cbs in zip(models, callbacks):
        model.train_time_s_ = elapsed
        for cb in cbs:
            _call(cb, "on_fit_end", model)


def _flush(stepper, callbacks, pending: list[tuple[int, float, dict, dict]], bar) -> None:
    """Read a block of steps' values back in one transfer; then step by step, model by model:
    the divergence check, the history and the callbacks."""
    keys = list(pending[0][2])
    values = torch.stack([torch.stack([v[k].float().reshape(-1) for k in keys]) for _, _, v, _ in pending])  # (T, K, S)
    rows = values.transpose(1, 2).tolist()                                                              # (T, S, K)
    for i, cbs in enumerate(callbacks):
        if cbs:
            stepper.sync(i)
    for (step, epoch, _, scheduled), per_model in zip(pending, rows):
        for model, cbs, row in zip(stepper.models, callbacks, per_model):
            logs = dict(zip(keys, row))
            if not all(math.isfinite(v) for v in row):
                raise DivergenceError(step, logs, history=model.history_)
            record = {"step": step, "epoch": epoch, **scheduled, **logs}
            model.history_.append(record)
            for cb in cbs:
                _call(cb, "on_step_end", model, step, record)
    bar.set_postfix({k: f"{v:.3g}" for k, v in zip(keys, rows[-1][0])}, refresh=False)
    bar.update(len(pending))


def _call(cb, hook: str, *args) -> None:
    fn = getattr(cb, hook, None)
    if fn is not None:
        fn(*args)
