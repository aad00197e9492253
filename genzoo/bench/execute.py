"""Executing one run: fit, score and record it (:func:`execute_run`), as a pure function of the run
and its :class:`~genzoo.bench.context.RunContext`; or a group of seeds trained together
(:func:`execute_group`, ``--pack``), each still its own run. Its files are made in a private scratch folder
(``$TMPDIR/genzoo-<run_id>-pid<pid>-XXXXXXXX``) and returned as bytes with the record
(:class:`~genzoo.bench.store.RunOutput`); nothing is written into the results folder, which only
the process holding the run's lock writes (:func:`genzoo.bench.store.commit_run`).

A failure of the run itself (it diverged, it raised, its scoring raised) is its record's status; a
failure of the machine (the data cannot be read, the disk is full, the GPU fails) is raised as an
:class:`~genzoo.errors.EnvironmentFailure` and records nothing. An engine reports either as an
:class:`Outcome`."""

from __future__ import annotations

import dataclasses
import shutil
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import genzoo

from .._io import scratch_dir, sweep_stale_scratch
from ..errors import DataError, DivergenceError, EnvironmentFailure, UserError
from . import artifacts
from .artifacts import clean_json
from .context import RunContext
from .draft import finish_record, start_record
from .environment import raise_if_environment
from .packed import adopt_packed, fit_together
from .plan import unsupported
from .record import RunRecord
from .runspec import RunSpec
from .score import Scoring, StepScores, score_run
from .store import RunOutput
from .tracking.callback import WandbCallback, sample_image
from .tracking.session import Tracker
from .tracking.summary import wandb_config, wandb_summary


@dataclass(frozen=True)
class Outcome:
    """What an engine gives back for one run: its output (record and files, to commit), or the
    failure of the machine that lost it (``lost``: why; ``story``: the traceback for its error.txt)."""

    spec: RunSpec
    output: RunOutput | None = None
    lost: str | None = None
    story: str = ""

    @classmethod
    def machine_failed(cls, spec: RunSpec, exc: BaseException) -> "Outcome":
        return cls(spec, lost=str(exc), story="".join(traceback.format_exception(exc)))


def execute_run(spec: RunSpec, ctx: RunContext) -> RunOutput:
    """Fit, score and record one run; never raises for a failure of the run itself (the record
    says it failed), raises :class:`EnvironmentFailure` for a failure of the machine."""
    sweep_stale_scratch()                    # what killed runs left in $TMPDIR
    attempt = _Attempt(spec, ctx)
    try:
        attempt.prepare()
        return attempt.output(attempt.complete())
    finally:
        attempt.close()


def execute_group(group: list[RunSpec], ctx: RunContext, starting: Callable[[RunSpec], bool] | None = None,
                  *, catch: bool = True) -> Iterator[Outcome]:
    """The :class:`Outcome` of each run of ``group`` (one run, or seeds of one plan to train
    together: ``--pack``), as each is recorded. The runs of a group of several are all started
    first (record, W&B run, the callback that logs to it), then trained together
    (:func:`~genzoo.bench.packed.fit_together`: each run's W&B run is logged as it trains), then
    each is scored and recorded; when they cannot be trained together, each is trained alone in
    the W&B run it has. ``starting(spec)`` is called before each run but the first is recorded (or
    trained alone); False: the rest are not done (their W&B runs are closed as crashed).
    ``catch``: a failure of the machine is the outcome of the run (all the group's, when it
    happens before they are trained), else it is raised."""
    if len(group) < 2:
        for i, spec in enumerate(group):
            if i and starting is not None and not starting(spec):
                return
            try:
                output = execute_run(spec, ctx)
            except EnvironmentFailure as exc:
                if not catch:
                    raise
                yield Outcome.machine_failed(spec, exc)
            else:
                yield Outcome(spec, output)
        return
    sweep_stale_scratch()
    attempts: list[_Attempt] = []
    try:
        try:
            for spec in group:             # each run's time is its own: paused while the others are done
                attempts.append(_Attempt(spec, ctx))
                attempts[-1].prepare()
                attempts[-1].pause()
            fitted = _fit_group(attempts, ctx)
        except EnvironmentFailure as exc:
            if not catch:
                raise
            for spec in group:
                yield Outcome.machine_failed(spec, exc)
            return
        for i, (spec, attempt) in enumerate(zip(group, attempts)):
            if i and starting is not None and not starting(spec):
                return
            attempt.resume()
            try:
                outcome = Outcome(spec, attempt.output(attempt.complete(fitted[i] if fitted else None)))
            except EnvironmentFailure as exc:
                if not catch:
                    raise
                outcome = Outcome.machine_failed(spec, exc)
            finally:
                attempt.close()
            yield outcome
    finally:                    # whatever was not done (stopped, Ctrl-C, the machine): W&B runs closed, no scratch left
        for attempt in attempts:
            attempt.close()


def _fit_group(attempts: list["_Attempt"], ctx: RunContext) -> list | None:
    """The runs' models trained together, each fit logging to its run's W&B run (None: they are
    trained one by one, each in its own W&B run)."""
    if any(a.skipped is not None for a in attempts):
        return None                          # a run that is skipped is not trained
    first = attempts[0]                      # the pack's fit is in the runs' train times, not their wall times
    callbacks = [([a.callback] if a.tracker.active else []) + a.step_scores    # W&B off (a Ray worker): none
                 for a in attempts]
    return fit_together(first.model, first.train, [a.spec for a in attempts], callbacks, ctx)


@dataclass
class _Fit:
    """How a fit ended: the model, its status (ok, diverged, failed), why, its traceback, its steps."""

    model: object
    status: str = "ok"
    reason: str | None = None
    tb: str | None = None
    history: list = dataclasses.field(default_factory=list)


class _Attempt:
    """One run being done: its spec and context, its scratch folder, its record as it is filled in,
    and, once it is prepared (:meth:`prepare`), its model, data, W&B run and callback."""

    def __init__(self, spec: RunSpec, ctx: RunContext):
        self.spec, self.ctx = spec, ctx
        self.run_dir: Path = scratch_dir(spec.run_id)
        self.own_s, self.since = 0.0, time.perf_counter()     # the run's own time (its wall time), and
        # since when it is counted (None: paused, while the other runs of its pack, and the pack's fit, are done)
        self.record = start_record(spec, ctx)
        self.model = self.train = self.reference = self.callback = self.job = None
        self.tracker = Tracker()
        self.step_scores: list[StepScores] = []     # scores on the way (score_at_steps): none or one
        self.skipped: RunRecord | None = None

    def prepare(self) -> None:
        """The run's model, data and record's entries before the fit; its W&B run and callback
        (or its record as skipped, when the model cannot train on the data)."""
        spec, record = self.spec, self.record
        self.model = model = genzoo.get_model(spec.model, preset=spec.preset, **spec.overrides)
        record["config"] = model_config(model)
        self.train, self.reference = train, reference = run_data(self.ctx, spec)
        record["train"] = train_entry(spec, model, train, reference)
        # where each split was read (files and how they were found; a generated set: its loader)
        record["data"] = {"train": train.meta.get("source"), "reference": reference.meta.get("source")}
        reason = unsupported(model, train)
        if reason:
            self.skipped = self.finish("skipped", reason)
            return
        self.tracker, self.callback = self.start_tracking(reference)
        self.job = Scoring(model, spec, train, reference, self.ctx.device, self.run_dir, self.tracker,
                           data_dir=self.ctx.data.data_dir if self.ctx.data is not None else None)
        self.step_scores = [StepScores(self.job)] if spec.settings.score_at_steps else []

    def complete(self, fitted=None) -> RunRecord:
        """The run's record: fitted (or ``fitted``, the model trained with other seeds:
        :func:`genzoo.bench.packed.fit_together`), scored, its W&B run finished."""
        if self.skipped is not None:
            return self.skipped
        try:
            return self.fit_and_score(self.model, fitted, self.callback, self.job)
        except BaseException as exc:  # Ctrl-C, or the environment failed: close the W&B run as crashed, no record
            self.tracker.finish(exit_code=255)
            if isinstance(exc, Exception) and not isinstance(exc, EnvironmentFailure):
                raise_if_environment(exc, "writing the run's files")
            raise

    def pause(self) -> None:
        if self.since is not None:
            self.own_s += time.perf_counter() - self.since
            self.since = None

    def resume(self) -> None:
        if self.since is None:
            self.since = time.perf_counter()

    def output(self, rec: RunRecord) -> RunOutput:
        """The record and the files of the run's scratch folder."""
        files = {p.relative_to(self.run_dir).as_posix(): p.read_bytes()
                 for p in sorted(self.run_dir.rglob("*")) if p.is_file()}
        return RunOutput(rec, files)

    def close(self) -> None:
        """The run's W&B run closed as crashed when it is still open (the run was not done), and
        its scratch folder removed."""
        self.tracker.finish(exit_code=255)
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def start_tracking(self, reference):
        """The run's W&B run (its start-up time is not counted in the run's wall time) and the
        fit's callback that logs to it."""
        session, settings = self.ctx.tracking_session(), self.spec.settings
        config = wandb_config(RunRecord.from_dict(clean_json(self.record)))
        t_wandb = time.perf_counter()
        tracker = session.start(name=self.spec.run_id, job_type=self.spec.model,
                                tags=[self.spec.profile, self.spec.dataset], config=config)
        self.record["wandb_start_s"] = time.perf_counter() - t_wandb
        self.record["wandb"] = session.record_entry(tracker)
        callback = WandbCallback(tracker, log_every=settings.log_every, images=settings.images, reference=reference)
        return tracker, callback

    def fit_and_score(self, model, fitted, callback: WandbCallback, job: Scoring) -> RunRecord:
        fit = self.fit(model, fitted, job.train, callback)
        if fit.history:
            artifacts.write_history_csv(self.run_dir / "history.csv.gz", fit.history)
        scored_s = sum(cb.time_s for cb in self.step_scores)
        self.record["train"].update(train_stats(fit.model, fit.history, callback, scored_s))
        if self.step_scores:
            self.record["at_steps"] = self.step_scores[0].rows
        self.record["train"]["compile"] = compile_entry(self.ctx.compile, self.ctx.compiles(model, job.train), fit.model)
        if fit.status == "ok":
            try:
                score_run(dataclasses.replace(job, model=fit.model), self.record)
            except Exception as exc:
                raise_if_environment(exc, "scoring")
                fit.status, fit.reason = "failed", f"scoring failed: {type(exc).__name__}: {exc}"
                fit.tb = traceback.format_exc()
        tracker = job.tracker
        rec = self.finish(fit.status, fit.reason, tb=fit.tb, wandb_failed=tracker.failed)
        tracker.summary(wandb_summary(rec))
        if rec.status == "ok" and tracker.active:
            x = artifacts.read_samples(self.run_dir / "samples.pt")
            tracker.log_images({"samples": (sample_image(x, job.reference, title=self.spec.run_id), "final samples")})
        tracker.finish(exit_code=0 if rec.status == "ok" else 1)
        return rec

    def fit(self, model, fitted, train, callback: WandbCallback) -> _Fit:
        """Train the model (or take the one trained with other seeds); a divergence or an error of
        the run is how the fit ended, a failure of the machine is raised."""
        out = _Fit(model)
        try:
            if fitted is not None:
                out.model = adopt_packed(fitted, self.record)
            else:
                model.fit(train, seed=self.spec.seed, device=self.ctx.device, callbacks=[callback, *self.step_scores],
                          compile=self.ctx.compiles(model, train))
            out.history = list(out.model.history_)
        except DivergenceError as exc:                 # the model keeps nothing of a failed fit;
            out.status, out.reason, out.history = "diverged", str(exc), exc.history    # the error has its steps
        except Exception as exc:
            raise_if_environment(exc, "training")
            out.status, out.reason, out.tb = "failed", f"{type(exc).__name__}: {exc}", traceback.format_exc()
        return out

    def finish(self, status: str, reason: str | None, *, tb: str | None = None,
               wandb_failed: str | None = None) -> RunRecord:
        notes = []
        if tb:
            artifacts.write_bytes(self.run_dir / "error.txt", tb.encode())
            notes.append("traceback in error.txt")
        if wandb_failed:
            notes.append(f"W&B: {wandb_failed}")
        self.pause()
        wall = self.own_s - (self.record.get("wandb_start_s") or 0.0)
        return finish_record(self.record, status, reason, wall_time_s=wall, notes=notes)


def compile_entry(asked: str, wanted: bool, model) -> dict:
    """A record's ``train.compile``: the bench's ``--compile`` (``asked``), whether that asks this
    fit to compile (``wanted``) and whether its updates were compiled (``model.compiled_``); a fit
    that was asked to and was not: why (the model's reason, else its schedule)."""
    done = bool(getattr(model, "compiled_", False))
    entry = {"asked": asked, "compiled": done}
    if wanted and not done:
        entry["why_not"] = model.compile_refusal() or "the model's schedule, or the fit failed first"
    return entry


def model_config(model) -> dict:
    """A model's config as a record's ``config``."""
    try:
        return dataclasses.asdict(model.config)
    except TypeError:
        return dict(vars(model.config))


def run_data(ctx: RunContext, spec: RunSpec):
    """The run's training and reference splits; a failure to read them is the machine's."""
    try:
        return ctx.data.train(spec.settings), ctx.data.reference(spec.settings)
    except DataError as exc:                 # the data on disk is missing or damaged: not the run's fault
        raise EnvironmentFailure(f"the data could not be loaded: {exc}") from None
    except UserError:                        # a bad benchmark file
        raise
    except Exception as exc:
        raise EnvironmentFailure(f"loading the data failed: {type(exc).__name__}: {exc}") from exc


def train_entry(spec: RunSpec, model, train, reference) -> dict:
    """A record's ``train`` before the fit: what it trains on and how. ``reference_items`` is the
    size of the reference split loaded (after ``reference_subset``); the record's ``scoring``
    says how many of them the metrics used. ``sampled_with`` names the networks that sample and
    are scored (``model.sampling_nets()``: ``["G_ema"]`` for a GAN that averages its generator)."""
    settings = spec.settings
    return {"train_items": len(train), "train_subset": settings.train_subset or None,
            "reference_split": settings.reference_split, "reference_items": len(reference),
            "reference_subset": settings.reference_subset or None,
            "epochs": getattr(model.config, "epochs", None),
            "max_steps": getattr(model.config, "max_steps", None),
            "batch_size": getattr(model.config, "batch_size", None),
            "batches_per_step": getattr(model, "batches_per_step", 1),
            "preset": spec.preset, "overrides": spec.overrides,
            # the networks that sample (and so are scored): a GAN with ema > 0 its averaged G, G_ema
            "sampled_with": list(model.sampling_nets()),
            "n_samples": settings.n_samples, "sample_seed": spec.sample_seed}


def train_stats(model, history: list[dict], callback, scored_s: float = 0.0) -> dict:
    """The :data:`~genzoo.bench.tracking.summary.FIT_STATS` of a finished (or failed) fit;
    ``scored_s``: the time its scores on the way took (score_at_steps), left out of its train time."""
    out = {"steps": len(history)}
    if history and "epoch" in history[-1]:
        out["epochs_done"] = history[-1]["epoch"]
    t = getattr(model, "train_time_s_", None)
    spent = getattr(callback, "time_s", 0.0)
    out["train_time_s"] = None if t is None else max(t - spent - scored_s, 0.0)   # without the W&B logging
    out["logging_time_s"] = spent
    items = getattr(model, "items_seen_", None)
    if items is None and history:
        items = len(history) * (getattr(model.config, "batch_size", 0) or 0) * getattr(model, "batches_per_step", 1)
    out["items_seen"] = items
    return out
