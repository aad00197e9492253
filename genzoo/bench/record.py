"""The run record: one frozen dataclass, written by the bench (``runs/<run_id>/record.json``,
:mod:`genzoo.bench.store`) and read by the bench (resume), ``genzoo wandb`` (replay) and ``genzoo report``.

A record is written as the JSON object of :meth:`RunRecord.to_dict`, with its ``schema`` version.
Records written before the version existed (schema 1, the committed ``results/``) load as they are:
a key they lack takes its default here, and a key this class does not know is kept in ``extra`` and
written back unchanged, so reading and writing a record loses nothing.

Fields are read as attributes only (``rec.status``); :meth:`RunRecord.to_dict` is the JSON object.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA_VERSION = 5        # 1: the records written before this class (no "schema" key); 2: + schema, engine;
                          # 3: + data (where the data was read), scoring (what the score measured); 4: + cpu;
                          # 5: + at_steps (scores on the way: the runner key score_at_steps)
FINAL_STATUSES = ("ok", "diverged", "failed", "skipped")


@dataclass(frozen=True)
class RunRecord:
    """What one (model, seed) run of a benchmark did and measured."""

    benchmark: str | None = None
    model: str | None = None
    dataset: str | None = None
    seed: int | None = None
    profile: str | None = None
    status: str = "unknown"              # one of FINAL_STATUSES for a finished run
    reason: str | None = None            # why a run is not ok
    config: dict = field(default_factory=dict)            # the model's config
    train: dict = field(default_factory=dict)             # what it was trained on, and the fit's statistics
    versions: dict = field(default_factory=dict)          # genzoo, torch, ... of the process that did it
    git_commit: str | None = None
    git_dirty: bool | None = None
    device: str | None = None
    wall_time_s: float | None = None
    throughput: dict = field(default_factory=dict)        # train_items_per_s, sample_items_per_s
    metrics: dict = field(default_factory=dict)           # name -> value (None: not finite)
    higher_is_better: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    per_class: dict | None = None                         # conditional models: class -> scores
    created: str | None = None                            # ISO time the record was written
    run_id: str | None = None
    plan: dict = field(default_factory=dict)              # fingerprint, preset, overrides, settings
    wandb: dict | None = None                             # the run's W&B run, when it has one
    wandb_start_s: float | None = None                    # W&B start-up time, not in wall_time_s
    torch_threads: int | None = None                      # CPU numbers depend on it (reduction order)
    engine: str | None = None                             # local or ray (None: before engines)
    sweep: dict | None = None                             # genzoo sweep's trial: trial, space, seed, settings
    data: dict | None = None                              # train / reference: where each was read (meta["source"])
    scoring: dict | None = None                           # what the main score measured (Scores.measured)
    cpu: dict | None = None                               # the CPU: model, vector extensions, PyTorch's kernels
    at_steps: list | None = None                          # scores on the way (score_at_steps): step, epoch,
                                                          # items_seen, metrics, score_s each
    schema: int = SCHEMA_VERSION
    extra: dict = field(default_factory=dict)             # keys of the JSON this class does not know

    @classmethod
    def from_dict(cls, data: dict) -> "RunRecord":
        """A record from its JSON object, of any schema version (a missing key: its default)."""
        if not isinstance(data, dict):
            raise ValueError(f"a run record is a JSON object, not {type(data).__name__}")
        names = _field_names()
        known = {k: v for k, v in data.items() if k in names and k != "extra"}
        known["schema"] = int(data.get("schema", 1))
        for key in ("config", "train", "versions", "throughput", "metrics", "higher_is_better", "plan"):
            if known.get(key) is None:
                known.pop(key, None)
        if known.get("notes") is None:
            known.pop("notes", None)
        extra = {k: v for k, v in data.items() if k not in names}
        return cls(**known, extra=extra)

    def to_dict(self) -> dict:
        """The JSON object written as ``record.json`` (unknown keys of an old record kept)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        return {**self.extra, **out}

    def replace(self, **changes) -> "RunRecord":
        return dataclasses.replace(self, **changes)

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def fingerprint(self) -> str | None:
        return (self.plan or {}).get("fingerprint")


def _field_names() -> frozenset:
    return _FIELDS


_FIELDS = frozenset(f.name for f in dataclasses.fields(RunRecord))


def load_record(path: str | Path) -> RunRecord:
    """A ``record.json`` (raises OSError or ValueError when it cannot be read or is not a record)."""
    return RunRecord.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def read_record(run_dir: str | Path) -> RunRecord | None:
    """The run's record if it is complete (parses, with a final status), else None."""
    try:
        rec = load_record(Path(run_dir) / "record.json")
    except (OSError, ValueError, TypeError):
        return None
    return rec if rec.finished else None
