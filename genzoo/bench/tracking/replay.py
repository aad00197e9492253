"""``genzoo wandb BENCHMARK``: log recorded runs that have no W&B run to Weights & Biases.

A run done with ``--no-wandb``, on a machine without wandb, or whose W&B run could not start
still has its record and the files beside it. This makes its W&B run from them, as the bench would
have: the same config, group and folder, the training curves from ``history.csv.gz`` at the steps
the runner logs, the final sample grids and the record's metrics as the summary; then the models'
comparison table. What a record cannot give back is not invented: the sample grids the runner logs
*during* training are missing from such a run, and its config says ``logged_from_record``.
The record's ``wandb`` entry is filled in, so a second invocation logs nothing twice. An offline
entry whose folder is gone (a fresh clone: ``wandb/`` is not committed) counts as no W&B run.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from tqdm.auto import tqdm

from ...errors import UserError
from ...training.loop import planned_steps
from .. import artifacts
from ..data import Data
from ..record import RunRecord, read_record
from ..runspec import RunSettings
from ..spec import Benchmark, load_benchmark
from .callback import logged_steps, sample_image
from .session import WandbSession
from .summary import log_comparison, wandb_config, wandb_summary

TAG = "from-record"


def needs_logging(rec: RunRecord, bench_dir: Path) -> bool:
    """Whether a finished record should have a W&B run and has none (or only a lost offline one:
    its folder is neither where the record says nor in ``bench_dir/wandb``, e.g. a relative path
    read from another working directory). The runner starts no W&B run for a skipped run or one
    whose data did not load (empty ``train``)."""
    if rec.status == "skipped" or not rec.train:
        return False
    entry = rec.wandb
    if not entry:
        return True
    if entry.get("mode") != "offline" or not entry.get("dir"):
        return False
    folder = Path(entry["dir"])
    return not (folder.is_dir() or (Path(bench_dir) / "wandb" / folder.name).is_dir())


def log_records(benchmark: str | Path | Benchmark, *, results: str | Path = "out", project: str | None = None,
                quiet: bool = False) -> list[RunRecord]:
    """Log the benchmark's recorded runs that have no W&B run; returns their updated records.
    ``project``: default, the project the other records name, else genzoo's."""
    bench = benchmark if isinstance(benchmark, Benchmark) else load_benchmark(benchmark)
    bench_dir = Path(results) / bench.name
    runs_dir = bench_dir / "runs"
    dirs = sorted(d for d in runs_dir.iterdir() if d.is_dir()) if runs_dir.is_dir() else []
    records = {d: rec for d in dirs if (rec := read_record(d)) is not None}
    if not records:
        raise UserError(f"no finished run records in {runs_dir} (run `genzoo bench {bench.name} "
                        f"--out {results}` first)")
    todo = {d: rec for d, rec in records.items() if needs_logging(rec, bench_dir)}
    if not todo:
        if not quiet:
            print(f"genzoo wandb {bench.name}: all {len(records)} recorded runs that W&B would track have a "
                  f"W&B run; nothing to log", flush=True)
        return []
    named = Counter(p for r in records.values() if (p := (r.wandb or {}).get("project")))
    project = project or (named.most_common(1)[0][0] if named else None)
    session = WandbSession(project=project, group=bench.name, root=bench_dir)
    if not session.enabled:
        raise UserError(f"W&B is off ({session.why}); unset it to log the records")
    if not quiet:
        print(f"genzoo wandb {bench.name}: {len(todo)} of {len(records)} recorded runs have no W&B run; "
              f"logging them {session.mode} ({session.why}) to project {session.project!r}, "
              f"folder {session.wandb_dir}", flush=True)
    data = Data(bench)
    done = []
    try:
        for run_dir, rec in tqdm(todo.items(), desc=f"wandb {bench.name}", unit="run",
                                 disable=True if quiet else None):
            done.append(log_record(session, run_dir, rec, data))
    finally:   # the comparison of every recorded run of the profiles logged now, also after a failure
        try:
            logged = {r.run_id: r for r in done}
            for profile in sorted({r.profile for r in done}):
                log_comparison(session, bench, profile, [logged.get(r.run_id, r) for r in records.values()
                                                         if r.profile == profile])
        finally:
            session.close()          # every run's data on disk before this returns
    if not quiet and session.mode == "offline" and session.offline_dirs():
        print(f"W&B runs were saved offline in {session.wandb_dir}; to upload them:\n"
              f"  wandb sync {session.wandb_dir}/offline-run-*")
    return done


def log_record(session, run_dir: Path, rec: RunRecord, data: Data) -> RunRecord:
    """Log one recorded run to a W&B run of ``session`` from its record and files, and write the
    record again naming that W&B run; returns the new record."""
    tracker = session.start(name=rec.run_id, job_type=rec.model, tags=[rec.profile, rec.dataset, TAG],
                            config={**wandb_config(rec), "logged_from_record": True})
    if not tracker.active:
        why = "; ".join(session.warnings) or "no reason given"
        raise UserError(f"W&B could not start a run for {run_dir}: {why}")
    entry = session.record_entry(tracker)
    try:
        _log_history(tracker, run_dir, rec)
        _log_samples(tracker, run_dir, rec, data)
        tracker.summary(wandb_summary(rec))
    except BaseException:   # a broken file, Ctrl-C: close the W&B run as crashed, leave the record as it was
        tracker.finish(exit_code=255)
        raise
    tracker.finish(exit_code=0 if rec.status == "ok" else 1)
    rec = rec.replace(wandb={**entry, "logged_from_record": True})
    if tracker.failed:   # as the runner does: what was logged stays on disk for `wandb sync`; the record says so
        rec = rec.replace(notes=[*rec.notes, f"W&B (logged from the record): {tracker.failed}"])
    artifacts.write_json(run_dir / "record.json", rec.to_dict())
    return rec


def _log_history(tracker, run_dir: Path, rec: RunRecord) -> None:
    """The losses at the steps the runner logs them (:func:`tracking.logged_steps` of the planned
    steps), read from the run's history file."""
    path = next((p for p in (run_dir / "history.csv.gz", run_dir / "history.csv") if p.is_file()), None)
    if path is None:
        return
    try:
        rows = artifacts.read_history_csv(path)
    except (OSError, EOFError, ValueError) as exc:
        raise UserError(f"{path} cannot be read ({type(exc).__name__}: {exc})") from None
    train, settings = rec.train, RunSettings.from_dict(rec.plan.get("settings"))
    try:
        total = planned_steps(train["max_steps"], train["epochs"], train["batch_size"],
                              train.get("batches_per_step") or 1, train["train_items"])
    except (KeyError, TypeError):   # not a runner's record: every step it has
        total = len(rows)
    every, image_steps = logged_steps(total, settings.log_every or 0, settings.images)
    tracker.summary({"total_steps": total})
    for i, row in enumerate(rows, start=1):
        step = row.get("step", i)
        if not isinstance(step, int):
            raise UserError(f"{path}: row {i} has step {step!r}, not a whole number")
        if step % every == 0 or step == 1 or step in image_steps:
            tracker.log({f"train/{k}": v for k, v in row.items()
                         if k != "step" and isinstance(v, (int, float)) and math.isfinite(v)}, step=step)


def _log_samples(tracker, run_dir: Path, rec: RunRecord, data: Data) -> None:
    grids = {"samples": ("samples.pt", "final samples"),
             "samples_normal_prior": ("samples_normal_prior.pt", "N(0, I) codes")}
    reference, settings = None, rec.plan.get("settings") or {}
    for key, (name, caption) in grids.items():
        if not (run_dir / name).is_file():
            continue
        x = artifacts.read_samples(run_dir / name)
        if x.dim() == 2 and reference is None and "reference_split" in settings:   # points: over the reference
            reference = data.reference(RunSettings.from_dict(settings))
        tracker.log_images({key: (sample_image(x, reference, title=rec.run_id if key == "samples" else ""),
                                  caption)})
