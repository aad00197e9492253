"""What a run's record tells W&B: its config as the fit starts (:func:`wandb_config`), its summary
once finished (:func:`wandb_summary`), and the comparison of a benchmark's runs (:func:`log_comparison`).
Both the live runs (:mod:`genzoo.bench.execute`) and those logged from records
(:mod:`genzoo.bench.tracking.replay`) use them, so the two look the same."""

from __future__ import annotations

from ..artifacts import clean_json
from ..record import RunRecord
from ..spec import Benchmark

FIT_STATS = ("steps", "epochs_done", "train_time_s", "logging_time_s", "items_seen", "compile")  # record.train after fit


def wandb_config(record: RunRecord) -> dict:
    """A run's W&B config, from its record as it is when the fit starts (without the
    :data:`FIT_STATS` of a finished record, which ``genzoo wandb`` reads)."""
    plan = record.plan or {}
    return {"benchmark": record.benchmark, "profile": record.profile, "model": record.model,
            "dataset": record.dataset, "seed": record.seed, "preset": plan.get("preset"),
            "overrides": clean_json(plan.get("overrides") or {}),
            "model_config": clean_json(record.config),
            "train": clean_json({k: v for k, v in record.train.items() if k not in FIT_STATS}),
            "settings": clean_json(plan.get("settings") or {}), "device": record.device,
            "versions": record.versions, "git_commit": record.git_commit}


def wandb_summary(record: RunRecord) -> dict:
    """A finished run's W&B summary: status, time, throughput, metrics and per-class scores."""
    return {"status": record.status, "reason": record.reason or "", "wall_time_s": record.wall_time_s,
            **{f"throughput/{k}": v for k, v in (record.throughput or {}).items() if v is not None},
            **{k: v for k, v in (record.metrics or {}).items() if v is not None},
            **{f"per_class/{c}/{k}": v for c, entry in (record.per_class or {}).items()
               for k, v in entry.items() if isinstance(v, (int, float)) and v is not None}}


def log_comparison(session, bench: Benchmark, profile: str, records: list[RunRecord]) -> None:
    """One W&B run of the benchmark's profile: the table of its runs and how many ended how."""
    metric_keys = sorted({k for r in records for k in r.metrics})
    columns = ["run", "model", "seed", "status", "reason", "wall_time_s", "train_items_per_s", *metric_keys]
    rows = []
    for r in records:
        rows.append([f"{r.model}-s{r.seed}", r.model, r.seed, r.status, r.reason or "", r.wall_time_s,
                     r.throughput.get("train_items_per_s"), *[r.metrics.get(k) for k in metric_keys]])
    tracker = session.start(name=f"{bench.name}-summary", job_type="summary", tags=[profile, bench.dataset],
                            config={"benchmark": bench.name, "profile": profile, "dataset": bench.dataset,
                                    "models": sorted({r.model for r in records}),
                                    "seeds": sorted({r.seed for r in records})})
    tracker.log_table("comparison", columns, rows)
    counts = {}
    for r in records:
        counts[r.status] = counts.get(r.status, 0) + 1
    tracker.summary({f"runs/{k}": v for k, v in counts.items()})
    tracker.finish()
