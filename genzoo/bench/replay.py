"""``genzoo wandb BENCHMARK``: log recorded runs that have no W&B run to Weights & Biases.

A run done with ``--no-wandb``, on a machine without wandb, or whose W&B run could not start
still has its record and the files beside it. This makes its W&B run from them, as the runner would have:
the same config, group and folder, the training curves from ``history.csv.gz`` (at the runner's
logging rate), the final sample grids and the record's metrics as the summary; then the models'
comparison table. What a record cannot give back is not invented: the sample grids the runner logs
*during* training are missing from such a run, and its config says ``logged_from_record``.
The record's ``wandb`` entry is filled in, so a second invocation logs nothing twice.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..errors import UserError
from . import artifacts
from .runner import Data, log_comparison, read_record, wandb_config, wandb_summary
from .spec import Benchmark, load_benchmark

TAG = "from-record"
CURVE_POINTS = 500          # the runner logs the losses every max(1, steps // 500) steps (log_every = 0)


def log_records(benchmark: str | Path | Benchmark, *, results: str | Path = "results", project: str | None = None,
                quiet: bool = False) -> list[dict]:
    """Log the benchmark's recorded runs that have no W&B run; returns their updated records."""
    from tqdm.auto import tqdm

    from .tracking import WandbSession

    bench = benchmark if isinstance(benchmark, Benchmark) else load_benchmark(benchmark)
    bench_dir = Path(results) / bench.name
    runs_dir = bench_dir / "runs"
    dirs = sorted(d for d in runs_dir.iterdir() if d.is_dir()) if runs_dir.is_dir() else []
    records = {d: rec for d in dirs if (rec := read_record(d)) is not None}
    if not records:
        raise UserError(f"no finished run records in {runs_dir} (run `genzoo bench {bench.name} "
                        f"--out {results}` first)")
    # the runner makes no W&B run for a skipped run (a model that does not apply to the data)
    todo = {d: rec for d, rec in records.items() if not rec.get("wandb") and rec["status"] != "skipped"}
    session = WandbSession(project=project, group=bench.name, root=bench_dir)
    if not session.enabled:
        raise UserError(f"W&B is off ({session.why}); unset it to log the records")
    if not quiet:
        print(f"genzoo wandb {bench.name}: {len(todo)} of {len(records)} recorded runs have no W&B run; "
              f"logging them {session.mode} ({session.why}) to project {session.project!r}, "
              f"folder {session.wandb_dir}", flush=True)
    data = Data(bench)
    done = []
    for run_dir, rec in tqdm(todo.items(), desc=f"wandb {bench.name}", unit="run", disable=True if quiet else None):
        tracker = session.start(name=rec["run_id"], job_type=rec["model"], tags=[rec["profile"], rec["dataset"], TAG],
                                config={**wandb_config(rec), "logged_from_record": True})
        if not tracker.active:
            why = "; ".join(session.warnings) or "no reason given"
            raise UserError(f"W&B could not start a run for {run_dir}: {why}")
        entry = session.record_entry(tracker)
        _log_history(tracker, run_dir, rec)
        _log_samples(tracker, run_dir, rec, data)
        tracker.summary(wandb_summary(rec))
        tracker.finish(exit_code=0 if rec["status"] == "ok" else 1)
        if tracker.failed:
            raise UserError(f"W&B logging failed for {run_dir}: {tracker.failed}")
        rec["wandb"] = {**entry, "logged_from_record": True}
        artifacts.write_json(run_dir / "record.json", rec)
        done.append(rec)
    if done:   # the comparison of every recorded run, one table per profile
        for profile in sorted({r["profile"] for r in records.values()}):
            log_comparison(session, bench, profile, [r for r in records.values() if r["profile"] == profile])
    if not quiet and session.mode == "offline" and session.offline_dirs():
        print(f"W&B runs were saved offline in {session.wandb_dir}; to upload them:\n"
              f"  wandb sync {session.wandb_dir}/offline-run-*")
    return done


def _log_history(tracker, run_dir: Path, rec: dict) -> None:
    path = next((p for p in (run_dir / "history.csv.gz", run_dir / "history.csv") if p.is_file()), None)
    if path is None:
        return
    rows = artifacts.read_history_csv(path)
    every = ((rec.get("plan") or {}).get("settings") or {}).get("log_every") or max(1, len(rows) // CURVE_POINTS)
    for i, row in enumerate(rows, start=1):
        step = int(row.get("step", i))
        if step % every == 0 or step == 1:
            tracker.log({f"train/{k}": v for k, v in row.items()
                         if k != "step" and isinstance(v, (int, float)) and math.isfinite(v)}, step=step)


def _log_samples(tracker, run_dir: Path, rec: dict, data: Data) -> None:
    from .tracking import sample_image

    grids = {"samples": ("samples.pt", "final samples"),
             "samples_normal_prior": ("samples_normal_prior.pt", "N(0, I) codes")}
    reference = None
    for key, (name, caption) in grids.items():
        if not (run_dir / name).is_file():
            continue
        x = artifacts.read_samples(run_dir / name)
        if x.dim() == 2 and reference is None:   # points are drawn over the reference set
            reference = data.reference((rec.get("plan") or {}).get("settings") or {})
        tracker.log_images({key: (sample_image(x, reference, title=rec["run_id"]), caption)})
