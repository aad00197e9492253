"""Training schedules: phases by images shown, which a model declares and the loop follows.

A model whose training changes as it goes (ProGAN: "stabilize at 7x7, fade in 14x14, stabilize at
14x14, fade in 28x28, stabilize at 28x28") declares a :class:`Schedule` of :class:`Phase` objects
(``model.schedule()``; None, the default, for every other model). The loop scales it to the fit's
budget (:meth:`Schedule.scaled`: the declared lengths are in images shown, for a training of
``sum`` of them; a fit of ``epochs`` or ``max_steps`` shows ``steps * batch * batches per step``
images, and every phase takes the same share of them), and at the start of each step hands the
step's :class:`Progress` to the model through the step context (``ctx.progress``: the images shown
before the step, the phase, the fade-in weight ``alpha``, the resolution). Each step's history
entry gets ``phase``, ``resolution`` and ``alpha`` (:meth:`Progress.logs`): host numbers, computed
from the count of images drawn, so reading them never touches the device.

A phase that ``fade``s raises ``alpha`` linearly from 0 (its first image) towards 1 (its last);
every other phase has ``alpha == 1``. A phase may ask the loop to reset the optimizers' state when
it begins (``reset_optimizers``: ProGAN's official code does at every change of resolution)."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Phase", "Progress", "Schedule", "fit_schedule", "reset_optimizers"]


@dataclass(frozen=True)
class Phase:
    """One phase of a schedule: ``images`` shown (as declared; the loop scales them to the
    budget), the ``resolution`` the networks run at (None: the schedule does not change it),
    whether the phase fades a new block in (``alpha`` from 0 to 1) and whether the optimizers'
    state is reset when it begins."""

    images: float
    resolution: int | None = None
    fade: bool = False
    reset_optimizers: bool = False
    name: str = ""

    def __post_init__(self):
        if not (isinstance(self.images, (int, float)) and math.isfinite(self.images) and self.images >= 0):
            raise ValueError(f"a phase's images must be a finite number >= 0, got {self.images!r}")


@dataclass(frozen=True)
class Progress:
    """Where a fit stands at the start of a step: ``images`` shown before it, the index of its
    ``phase`` (and the phase itself), the fade-in weight ``alpha`` and the ``resolution``."""

    images: int
    phase: int
    alpha: float
    resolution: int | None
    current: Phase

    def logs(self) -> dict:
        """What the history records of it at each step (host numbers)."""
        out = {"phase": self.phase}
        if self.resolution is not None:
            out["resolution"] = self.resolution
        out["alpha"] = self.alpha
        return out


@dataclass(frozen=True)
class Schedule:
    """Phases in order. The declared lengths are relative: :meth:`scaled` stretches them to a
    fit's budget, keeping their proportions (the last phase ends where the fit ends)."""

    phases: tuple[Phase, ...]

    def __post_init__(self):
        object.__setattr__(self, "phases", tuple(self.phases))
        if not self.phases or not all(isinstance(p, Phase) for p in self.phases):
            raise ValueError(f"a schedule takes one Phase or more, got {self.phases!r}")
        if self.total <= 0:
            raise ValueError("a schedule's phases must show some images")

    @property
    def total(self) -> float:
        """Images shown by all the phases, as declared."""
        return float(sum(p.images for p in self.phases))

    def scaled(self, images: float) -> "Schedule":
        """This schedule stretched to a fit that shows ``images`` images: every phase keeps its
        share of the total (a schedule declared for as many images comes back unchanged)."""
        factor = images / self.total
        return Schedule(tuple(Phase(p.images * factor, p.resolution, p.fade, p.reset_optimizers, p.name)
                              for p in self.phases))

    def boundaries(self) -> list[float]:
        """The images shown at which each phase after the first begins."""
        out, at = [], 0.0
        for p in self.phases[:-1]:
            at += p.images
            out.append(at)
        return out

    def at(self, images: int) -> Progress:
        """The progress after ``images`` images shown: the phase holding it (a phase holds the
        images from its start up to, not including, its end; past the end, the last phase) and
        alpha, ``(images - start) / length`` in a fading phase, else 1."""
        start = 0.0
        for i, p in enumerate(self.phases):
            end = start + p.images
            if images < end or i == len(self.phases) - 1:
                alpha = min(max((images - start) / p.images, 0.0), 1.0) if p.fade and p.images > 0 else 1.0
                return Progress(int(images), i, float(alpha), p.resolution, p)
            start = end
        raise AssertionError("unreachable")


def fit_schedule(model, steps: int, n_items: int) -> Schedule | None:
    """``model.schedule()`` scaled to a fit of ``steps`` steps on ``n_items`` items (each step
    drawing ``batches_per_step`` batches of ``min(batch_size, n_items)``), or None for a model
    without a schedule."""
    declared = model.schedule()
    if declared is None:
        return None
    per_step = min(model.config.batch_size, n_items) * model.batches_per_step
    return declared.scaled(steps * per_step)


def reset_optimizers(optimizers: dict) -> None:
    """Forget every optimizer's state (Adam's moments and step counts): it starts again from its
    first step, as ProGAN's official code does when a new resolution begins."""
    for opt in optimizers.values():
        opt.state.clear()
