"""The one training loop every model shares: device, batching, seeding, the optimizer updates
(``zero_grad`` / ``backward`` / ``step`` of each :class:`genzoo.models.base.Update`), the
divergence check, history, callbacks and progress."""

from __future__ import annotations

import math
import time

import torch
from tqdm.auto import tqdm

from ..errors import DivergenceError


class StepContext:
    """What a model's losses draw from: seeded batches by index and seeded noise.

    The whole dataset sits on the training device as one tensor; batches are index gathers
    from a per-epoch permutation drawn on the device with a seeded generator of that device (no
    host round trip; on the CPU the same permutations as ever).
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int, device: torch.device):
        self.x, self.y, self.device = x, y, device
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

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._pos + self.batch_size > len(self._perm):  # drop the ragged tail, reshuffle
            self._perm = torch.randperm(len(self.x), generator=self._perm_gen, device=self.device)
            self._pos = 0
        idx = self._perm[self._pos:self._pos + self.batch_size]
        self._pos += self.batch_size
        self.batches_drawn += 1
        return self.x[idx], self.y[idx]                       # (B, ...), (B,)

    def randn(self, *shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=self._noise_gen, device=self.device)

    def randint(self, high: int, *shape: int) -> torch.Tensor:
        return torch.randint(high, shape, generator=self._noise_gen, device=self.device)

    def rand(self, *shape: int) -> torch.Tensor:
        """Uniform [0, 1) noise (e.g. WGAN-GP's interpolation weights)."""
        return torch.rand(*shape, generator=self._noise_gen, device=self.device)


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


def fit_model(model, data, *, seed: int, device: torch.device, callbacks=(), log_interval: int = LOG_INTERVAL) -> None:
    """Train ``model`` (already built by ``model._setup``) on ``data``; fills ``history_``.

    Nothing in a step reads a device value back to the host: each step's logged values stay on
    the device and are read back every ``log_interval`` steps in one transfer (also at the last
    step, and at the steps a callback asks to see as they happen: ``sync_steps(total_steps)``).
    Then the history gets one entry per step, the callbacks' ``on_step_end`` runs for each, and a
    non-finite value raises :class:`DivergenceError` naming the first bad step (the steps run
    after it in the same block are discarded with the model, which a failed fit does not keep)."""
    check_log_interval(log_interval)
    x = model.to_model_scale(data.x.to(device))
    y = data.y.to(device)
    ctx = StepContext(x, y, model.config.batch_size, seed, device)
    steps = total_steps(model, len(x))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed + 2)  # any module drawing from the global RNG (dropout) stays seeded
        optimizers = model.configure_optimizers()
        updates = model.updates()
        for u in updates:
            if u.optimizer not in optimizers:
                raise ValueError(f"{model.name}: an update uses optimizer {u.optimizer!r}, but "
                                 f"configure_optimizers() returns {sorted(optimizers)}")
        sync = set()
        for cb in callbacks:
            _call(cb, "on_fit_start", model, steps)
            sync |= set(getattr(cb, "sync_steps", lambda total: ())(steps))
        t0 = time.perf_counter()
        bar = tqdm(total=steps, desc=f"fit {model.name}", unit="step", disable=None, leave=False)
        model.nets_.train()
        pending: list[tuple[int, float, dict]] = []      # (step, epoch, device values) not yet read
        try:
            for step in range(1, steps + 1):
                ctx.step = step
                logs = run_updates(updates, optimizers, ctx)
                pending.append((step, ctx.epoch, logs))              # the epoch after the step's batches
                if step % log_interval == 0 or step == steps or step in sync:
                    _flush(model, pending, callbacks, bar)
                    pending = []
        finally:
            bar.close()
        model.on_train_end(x, y)
        model.nets_.eval()
        model.train_time_s_ = time.perf_counter() - t0
        model.items_seen_ = ctx.batches_drawn * ctx.batch_size
        for cb in callbacks:
            _call(cb, "on_fit_end", model)


def _flush(model, pending: list[tuple[int, float, dict]], callbacks, bar) -> None:
    """Read a block of steps' values back in one transfer; history, divergence check, callbacks."""
    keys = list(pending[0][2])
    values = torch.stack([torch.stack([v[k].float() for k in keys]) for _, _, v in pending]).tolist()
    for (step, epoch, _), row in zip(pending, values):
        logs = dict(zip(keys, row))
        if not all(math.isfinite(v) for v in row):
            raise DivergenceError(step, logs, history=model.history_)
        record = {"step": step, "epoch": epoch, **logs}
        model.history_.append(record)
        for cb in callbacks:
            _call(cb, "on_step_end", model, step, record)
    bar.set_postfix({k: f"{v:.3g}" for k, v in logs.items()}, refresh=False)
    bar.update(len(pending))


def run_updates(updates, optimizers: dict, ctx: StepContext) -> dict[str, torch.Tensor]:
    """One training step: each update's loss, then ``zero_grad`` / ``backward`` / ``step`` of its
    optimizer and its ``after`` hook. Returns the logged values (detached scalar tensors), the
    last update's values winning where two log the same key (a critic's last step), the losses
    (``loss*`` keys) first."""
    state: dict = {}
    logs: dict[str, torch.Tensor] = {}
    for u in updates:
        loss, values = u.loss(ctx, state)
        opt = optimizers[u.optimizer]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if u.after is not None:
            u.after()
        logs.update({k: v.detach() for k, v in values.items()})
    return losses_first(logs)


def losses_first(logs: dict) -> dict:
    """A step's logged values with the losses (``loss*`` keys) first, the order of the history."""
    return {**{k: v for k, v in logs.items() if k.startswith("loss")}, **logs}


def _call(cb, hook: str, *args) -> None:
    fn = getattr(cb, hook, None)
    if fn is not None:
        fn(*args)
