"""The one builder of run records: every record (ok, diverged, failed, skipped; made by a run, or by
the Ray driver for a task that raised) starts as :func:`start_record` and ends as :func:`finish_record`.

Between the two a record is its JSON object (a dict the run fills in as it goes: a run that fails
half-way keeps what it measured before); :func:`finish_record` makes the :class:`RunRecord` of it."""

from __future__ import annotations

import torch

from .artifacts import clean_json
from .context import RunContext
from .environment import cpu_info, now_iso
from .record import SCHEMA_VERSION, RunRecord
from .runspec import RunSpec


def start_record(spec: RunSpec, ctx: RunContext) -> dict:
    """A run's record as it starts: failed until it says otherwise."""
    return {
        "benchmark": spec.benchmark, "model": spec.model, "dataset": spec.dataset, "seed": spec.seed,
        "profile": spec.profile, "status": "failed", "reason": None, "config": {},
        "train": {"sample_seed": spec.sample_seed},
        "versions": ctx.versions, "git_commit": ctx.git.commit, "git_dirty": ctx.git.dirty, "device": ctx.device,
        "wall_time_s": None, "throughput": {"train_items_per_s": None, "sample_items_per_s": None},
        "metrics": {}, "higher_is_better": {}, "notes": [], "per_class": None, "created": None,
        "run_id": spec.run_id, "plan": spec.plan_entry(), "sweep": spec.sweep,
        "wandb": None, "wandb_start_s": 0.0,
        # CPU results depend on the thread count at ~1e-4 relative (reduction order); a Ray task
        # uses --cpus-per-run threads, so the count is recorded with the numbers
        "torch_threads": torch.get_num_threads() if ctx.threads is None else ctx.threads,
        "engine": ctx.engine, "data": None, "scoring": None, "cpu": cpu_info(), "schema": SCHEMA_VERSION,
    }


def finish_record(record: dict, status: str, reason: str | None, *, wall_time_s: float,
                  notes: list[str] = ()) -> RunRecord:
    """The finished record: its status and why, these notes added, its throughput and time."""
    record["status"], record["reason"] = status, reason
    record["notes"].extend(notes)
    t = record["train"].get("train_time_s")
    items = record["train"].get("items_seen")
    if t and items:
        record["throughput"]["train_items_per_s"] = items / t
    record["wall_time_s"] = wall_time_s
    record["created"] = now_iso()
    return RunRecord.from_dict(clean_json(record))


def failed_record(spec: RunSpec, ctx: RunContext, reason: str) -> RunRecord:
    """The record of a run that raised before it could record itself (its traceback in error.txt)."""
    return finish_record(start_record(spec, ctx), "failed", reason, wall_time_s=0.0,
                         notes=["traceback in error.txt"])
