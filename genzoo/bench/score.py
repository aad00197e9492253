"""Scoring a fitted model as a benchmark does: the sample grid, the metrics of ``n_samples``
samples against the reference split, the N(0, I) samples of a model that takes ``prior=``, the
per-class scores of a conditional model, and the checkpoints. The results go into the run's
record (its JSON object, as :mod:`genzoo.bench.draft` builds it) as they come: a run whose scoring
fails half-way keeps what was measured before."""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from genzoo import metrics as gm

from . import artifacts
from .artifacts import finite_or_none
from .runspec import RunSpec
from .tracking.callback import sample_image
from .tracking.session import Tracker

GRID_SEED = 1234               # samples.png / samples.pt (and W&B grids during training)
POINTS_IN_PLOT = 2500
MAX_PER_CLASS_CLASSES = 32     # per-class scores only for datasets with at most this many classes


@dataclass(frozen=True)
class Scoring:
    """One run's scoring: its fitted model and plan, its data, where it runs and writes, its W&B run."""

    model: object
    spec: RunSpec
    train: object                 # the training split (a genzoo.data dataset)
    reference: object             # the split the samples are scored against
    device: str
    run_dir: Path                 # the run's scratch folder
    tracker: Tracker
    data_dir: str | None = None   # where the data's files are (genzoo bench --data-dir): the evaluator's too

    def score(self, samples, reference=None, names=None, n: int | None = None):
        """genzoo.metrics.score of these samples, with the run's seed and device (an evaluator
        trained on first use reads its data from ``data_dir``)."""
        return gm.score(samples, self.reference if reference is None else reference, names,
                        n=self.spec.settings.n_samples if n is None else n, seed=self.spec.seed,
                        device=self.device, data_dir=self.data_dir, **quiet_kw(gm.score))


def ready_to_sample(model, train) -> None:
    """Before a model is sampled part-way through its fit: what the end of its fit computes
    first (the AE's prior fitted to the codes of the training images as stored: uint8 images stay
    uint8, converted a chunk at a time), its networks back in training mode after."""
    if "prior" in model.nets_:
        model.on_train_end(train.x.to(model.device_), train.y.to(model.device_))
        model.nets_.train()


class StepScores:
    """A fit callback that scores the run's model after each step of its ``score_at_steps`` the
    fit reaches, as :func:`score_run` scores it at the end (the same sample seed, metrics and
    reference) but without its files, per-class or N(0, I) scores; on W&B as ``at_steps/<metric>``
    at that step. ``rows``: one entry per step scored (step, epoch, items_seen, metrics, score_s):
    the record's ``at_steps``. ``time_s``: the time it took, which the run's ``train_time_s``
    leaves out (as the W&B logging's). Both start again with each fit it is given to."""

    def __init__(self, job: Scoring):
        self.job, self.steps = job, sorted(job.spec.settings.score_at_steps)
        self.rows: list[dict] = []
        self.time_s = 0.0

    def on_fit_start(self, model, total: int) -> None:
        self.rows, self.time_s = [], 0.0      # a fit begun again (seeds packed, then one by one): its own rows

    def sync_steps(self, total: int) -> list[int]:
        return [s for s in self.steps if s <= total]

    def on_step_end(self, model, step, record) -> None:
        if step not in self.steps:
            return
        t = time.perf_counter()
        job, settings = self.job, self.job.spec.settings
        ready_to_sample(model, job.train)
        scores = job.score(model.sample(settings.n_samples, seed=job.spec.sample_seed), names=settings.metrics or None)
        epoch = record.get("epoch")
        self.rows.append({"step": step, "epoch": epoch,
                          "items_seen": None if epoch is None else round(epoch * len(job.train)),
                          "metrics": {k: finite_or_none(v) for k, v in scores.items()},
                          "score_s": time.perf_counter() - t})
        if job.tracker.active:             # W&B: a point of each metric at this step
            job.tracker.log({f"at_steps/{k}": v for k, v in self.rows[-1]["metrics"].items() if v is not None},
                            step=step)
        self.time_s += time.perf_counter() - t


def sample_grid(model, data) -> tuple[torch.Tensor, int]:
    """The samples of samples.png: (64, C, H, W), cGAN one row of 8 per class, points 2500."""
    if data.kind == "points":
        return model.sample(POINTS_IN_PLOT, seed=GRID_SEED), 8
    if getattr(model, "conditional", False) and data.num_classes <= 16:
        labels = torch.arange(data.num_classes).repeat_interleave(8)
        return model.sample(len(labels), labels, seed=GRID_SEED), 8
    return model.sample(64, seed=GRID_SEED), 8


def accepts_prior(model) -> bool:
    """Whether ``model.sample`` takes ``prior=`` (the AE's N(0, I) codes)."""
    try:
        return "prior" in inspect.signature(model.sample).parameters
    except (TypeError, ValueError):
        return False


def quiet_kw(score_fn) -> dict:
    """``progress=False`` for a score() that takes it (its per-batch bars would flood the log)."""
    try:
        return {"progress": False} if "progress" in inspect.signature(score_fn).parameters else {}
    except (TypeError, ValueError):
        return {}


def score_run(job: Scoring, record: dict) -> None:
    """Score the run's model into ``record`` and write its sample files and checkpoints."""
    model, spec, settings = job.model, job.spec, job.spec.settings
    grid, nrow = sample_grid(model, job.train)
    artifacts.write_samples(job.run_dir / "samples.pt", grid)
    artifacts.save_png(job.run_dir / "samples.png", grid, nrow=nrow, reference=job.reference, title=spec.run_id)

    t = time.perf_counter()
    samples = model.sample(settings.n_samples, seed=spec.sample_seed)
    dt = time.perf_counter() - t
    record["throughput"]["sample_items_per_s"] = settings.n_samples / dt if dt > 0 else None
    scores = job.score(samples, names=settings.metrics or None)
    merge_scores(record, scores)
    # what the score measured (the reference items it used, the evaluator, ...): train.reference_items
    # is the size of the reference split loaded, scoring.reference_items what the metrics compared with
    measured = getattr(scores, "measured", None)
    record["scoring"] = dict(measured) if measured else None

    if settings.normal_prior and accepts_prior(model) and getattr(model.config, "sample_prior", None) != "normal":
        _score_normal_prior(job, record, len(grid), nrow)
    if getattr(model, "conditional", False) and settings.per_class:
        if job.train.num_classes <= MAX_PER_CLASS_CLASSES:
            record["per_class"] = per_class_scores(job, record["notes"])
        else:
            record["notes"].append(f"per-class scores skipped: {job.train.num_classes} classes "
                                   f"(more than {MAX_PER_CLASS_CLASSES})")

    artifacts.save_checkpoint(model, job.run_dir / "checkpoint")
    artifacts.save_checkpoint(model, job.run_dir / artifacts.SAMPLER_DIR, sampler_only=True)   # for genzoo demo


def _score_normal_prior(job: Scoring, record: dict, grid_size: int, nrow: int) -> None:
    """The AE's samples from N(0, I) codes (not its fitted prior): their grid and scores (``_normal_prior``)."""
    model, spec, settings = job.model, job.spec, job.spec.settings
    grid_n = model.sample(grid_size, seed=GRID_SEED, prior="normal")
    artifacts.write_samples(job.run_dir / "samples_normal_prior.pt", grid_n)
    artifacts.save_png(job.run_dir / "samples_normal_prior.png", grid_n, nrow=nrow, reference=job.reference)
    scores_n = job.score(model.sample(settings.n_samples, seed=spec.sample_seed, prior="normal"),
                         names=settings.metrics or None)
    merge_scores(record, scores_n, suffix="_normal_prior")
    measured_n = getattr(scores_n, "measured", None)
    if measured_n and record["scoring"] is not None:
        record["scoring"]["normal_prior"] = dict(measured_n)
    if job.tracker.active:
        job.tracker.log_images({"samples_normal_prior": (sample_image(grid_n, job.reference), "N(0, I) codes")})


def merge_scores(record: dict, scores, suffix: str = "") -> None:
    """A ``genzoo.metrics.score`` result into the record's metrics, directions and notes."""
    for k, v in scores.items():
        record["metrics"][k + suffix] = finite_or_none(v)
    hib = getattr(scores, "higher_is_better", {}) or {}
    for k, v in hib.items():
        record["higher_is_better"][k + suffix] = bool(v)
    for note in getattr(scores, "notes", []) or []:
        record["notes"].append(f"{note} [{suffix.strip('_')}]" if suffix else note)


def per_class_scores(job: Scoring, notes: list | None = None) -> dict:
    """Sample each class k with label k; the share the evaluator (images) or the nearest mixture
    mean (points) assigns to k, and the run's per-class metrics against the reference items of class k.

    Images also get the bar those metrics have on real data: ``entry["real"]``, the same metrics of
    as many real images of class k (training images, a random subset seeded with the run's sample
    seed) against the same reference items of class k, so a within-class collapse (samples of a
    class that are near-copies: low per-class recall and coverage) shows against what the data
    itself scores at this sample size. The 2-D mixtures have none: their per-class scores are
    against the known means and std of each component already.

    A metric that needs more samples than a class has (FID's covariance) is left out of every
    class it cannot be computed for, with one note for the record in ``notes`` (not one per class)."""
    settings, reference = job.spec.settings, job.reference
    m = settings.per_class_samples
    names = settings.per_class_metrics or (["fid"] if reference.kind == "image" else None)
    k_all = reference.num_classes
    labels = torch.arange(k_all).repeat_interleave(m)
    x = job.model.sample(len(labels), labels, seed=job.spec.sample_seed + 1)
    class_names = [reference.class_names[k] if k < len(reference.class_names) else str(k) for k in range(k_all)]
    out = {name: {} for name in class_names}
    _class_accuracy(out, x, labels, class_names, reference, job.data_dir)
    left_out: dict[tuple, list[str]] = {}          # (metrics, why) -> the classes they were left out of
    no_real: list[str] = []
    for k, name in enumerate(class_names):
        ref_k = reference.of_class(k)
        if len(ref_k) < 2:
            out[name]["note"] = f"{len(ref_k)} reference items of this class: not scored"
            continue
        scores, scored = _class_scores(job, x[labels == k], ref_k, names, name, left_out)
        out[name].update(scores)
        if reference.kind != "image" or not scored:
            continue
        real = _real_of_class(job.train, k, m, job.spec.sample_seed)
        if real is None:
            no_real.append(name)
        else:
            out[name]["real"] = _class_scores(job, real, ref_k, scored, name, left_out)[0]
    if notes is not None:
        notes.extend(_per_class_notes(left_out, no_real, class_names, m, job.spec.sample_seed,
                                      any("real" in e for e in out.values())))
    return out


FID_METRICS = ("fid", "fid_inception")     # the per-class metrics that need a covariance (enough samples)


def _class_scores(job: Scoring, x, ref_k, names, class_name: str, left_out: dict) -> tuple[dict, list | None]:
    """The metrics ``names`` of x against ``ref_k`` and the names they were computed for: a FID
    that has too few samples is left out (and its reason kept in ``left_out``), the rest scored;
    another failure is the entry's ``note`` (nothing scored: None)."""
    names = None if names is None else list(names)
    while True:
        try:
            scores = job.score(x, ref_k, names, n=len(x))
            return {key: finite_or_none(v) for key, v in scores.items()}, names
        except gm.TooFewSamplesError as exc:
            drop = _fid_of(exc, names)
            if not drop:
                return {"note": f"{type(exc).__name__}: {exc}"}, None
            left_out.setdefault((tuple(drop), str(exc)), []).append(class_name)
            names = [n for n in names if n not in drop]
            if not names:
                return {}, []
        except Exception as exc:  # e.g. a reference the metrics refuse: keep the accuracy
            return {"note": f"{type(exc).__name__}: {exc}"}, None


def _fid_of(exc: Exception, names) -> list[str]:
    """The FID metric of ``names`` a TooFewSamplesError is about (its message starts with the name),
    else every FID metric of ``names``."""
    named = str(exc).split(" ", 1)[0]
    fids = [n for n in (names or []) if n in FID_METRICS]
    return [named] if named in fids else fids


def _real_of_class(train, k: int, m: int, seed: int):
    """``m`` real images of class k (a random subset of the training split's, ``seed``), or None
    when it has fewer."""
    real = train.of_class(k)
    return real.subset(m, seed=seed).x if len(real) >= m else None


def _per_class_notes(left_out: dict, no_real: list[str], class_names: list[str], m: int, seed: int,
                     has_real: bool) -> list[str]:
    """The record's notes on its per-class scores: each metric left out and why (once, naming the
    classes unless it is all of them), where the real baseline comes from, the classes without one."""
    def which(names: list[str]) -> str:
        names = list(dict.fromkeys(names))
        return "every class" if len(names) == len(class_names) else ", ".join(names)

    notes = [f"per-class {', '.join(drop)} left out ({which(cls)}): {why}" for (drop, why), cls in left_out.items()]
    if has_real:
        notes.append(f"per-class real baseline (per_class[class]['real']): {m} training images of the class "
                     f"(a random subset, seed {seed}), the same metrics against the same reference items")
    if no_real:
        notes.append(f"per-class real baseline left out ({which(no_real)}): fewer than {m} training images "
                     f"of the class")
    return notes


def _class_accuracy(out: dict, x, labels, class_names: list[str], reference, data_dir=None) -> None:
    """Each class's share of its samples that the nearest mixture mean (points) or the evaluator
    (images whose declaration counts classes with it: ``genzoo.metrics.per_class_accuracy``, which
    gives nothing for the others) assigns to it, into ``out[class]["accuracy"]``."""
    if reference.kind == "points":
        means = reference.meta.get("means")
        if means is not None:
            nearest = torch.cdist(x.float(), means.float()).argmin(1)
            for k, name in enumerate(class_names):
                out[name]["accuracy"] = (nearest[labels == k] == k).float().mean().item()
    elif reference.kind == "image":
        for name, entry in gm.per_class_accuracy(x, labels, class_names, reference=reference,
                                                 data_dir=data_dir).items():
            out[name]["accuracy"] = finite_or_none(entry.get("accuracy"))
