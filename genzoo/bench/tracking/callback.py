"""What a fit logs to W&B as it trains: the losses at :func:`logged_steps` and grids of samples
(:class:`WandbCallback`), and the pictures of samples (:func:`sample_image`)."""

from __future__ import annotations

import logging
import time

from ..artifacts import figure_to_uint8, grid_to_uint8, image_grid, points_figure
from .session import Tracker

log = logging.getLogger("genzoo.bench")


CURVE_POINTS = 500          # log_every = 0: the losses at about this many steps of a fit


def logged_steps(total_steps: int, log_every: int = 0, images: int = 8) -> tuple[int, set[int]]:
    """``(every, image_steps)``: a fit's losses go to W&B at step 1, every ``every`` steps and at
    the ``image_steps`` (``images`` evenly spaced steps, the last one included), where a grid of
    samples is logged too."""
    every = log_every or max(1, total_steps // CURVE_POINTS)
    image_steps: set[int] = set()
    if images and total_steps:
        k = min(images, total_steps)
        image_steps = {max(1, round(total_steps * (i + 1) / k)) for i in range(k)}
    return every, image_steps


class WandbCallback:
    """A fit callback (of ``model.fit``, or of one seed of ``genzoo.fit_seeds``): logs the step's
    losses every ``log_every`` steps and a grid of 16 samples (``model.sample(16, seed=1234)``)
    ``images`` times during training."""

    SAMPLE_SEED = 1234

    def __init__(self, tracker: Tracker, *, log_every: int = 0, images: int = 8, reference=None):
        self.tracker = tracker
        self.log_every = log_every
        self.images = images
        self.reference = reference
        self._image_steps: set[int] = set()
        self._every = 1
        self._seen = 0             # the last step a fit with this callback reached
        self._logged = 0           # the steps up to this one were logged by a fit before this one
        self.time_s = 0.0          # spent in this callback during the fit (not training)

    def on_fit_start(self, model, total_steps: int) -> None:
        # a second fit with the same callback (seeds trained together that fell back to being trained
        # one by one) logs only the steps after those the first reached: W&B takes steps in order only
        self._logged, self.time_s = self._seen, 0.0
        self._every, self._image_steps = logged_steps(total_steps, self.log_every, self.images)
        self.tracker.summary({"total_steps": total_steps})

    def sync_steps(self, total_steps: int) -> set[int]:
        """The steps at which the loop must call back before training on (the sample grids are
        drawn from the model as it is at that step)."""
        return {s for s in self._image_steps if s > self._logged} if self.tracker.active else set()

    def on_step_end(self, model, step: int, logs: dict) -> None:
        if not self.tracker.active:
            return
        t0 = time.perf_counter()
        try:
            self._on_step_end(model, step, logs)
        finally:
            self.time_s += time.perf_counter() - t0

    def _on_step_end(self, model, step: int, logs: dict) -> None:
        self._seen = max(self._seen, step)
        if step <= self._logged:
            return                 # logged by a fit before this one
        if step % self._every == 0 or step == 1 or step in self._image_steps:
            self.tracker.log({f"train/{k}": v for k, v in logs.items() if k != "step"}, step=step)
        if step in self._image_steps:
            try:
                x = model.sample(16, seed=self.SAMPLE_SEED)
                self.tracker.log_images({"train/samples": (sample_image(x, self.reference, nrow=4),
                                                           f"step {step}")}, step=step)
            except Exception as exc:  # sampling mid-fit must not end the fit
                log.warning("could not log samples at step %d: %s: %s", step, type(exc).__name__, exc)
                self._image_steps = set()


def sample_image(samples, reference=None, *, nrow: int = 8, title: str = ""):
    """(H, W, 3) uint8 picture of samples: an image grid, or a scatter plot for points."""
    if samples.dim() == 4:
        return grid_to_uint8(image_grid(samples, nrow))
    return figure_to_uint8(points_figure(samples, reference, title))
