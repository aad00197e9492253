"""How long runs take, and what a bench says as it goes: :class:`RunTimes` (from the reference
records), :class:`Progress` (the progress lines, the same for both engines) and :func:`say`."""

from __future__ import annotations

import math
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from .record import RunRecord, load_record
from .runspec import RunSpec
from .spec import Benchmark

REFERENCE = "results"          # the committed reference records, which the estimates read


def say(line: str, quiet: bool = False) -> None:
    """One line of a bench's output on stdout (above its progress bar), unless ``quiet``."""
    if not quiet:
        tqdm.write(line, file=sys.stdout)


def fmt_s(s: float) -> str:
    """Seconds as ``42s``, ``3m05s`` or ``1h02m``."""
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else (f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s")


TIMED_STATUSES = ("ok", "skipped")     # records whose wall time says how long such a run takes


def budget_of(config) -> tuple[str, float] | None:
    """A run's training budget from its model config (a dict, or a config dataclass):
    ``("max_steps", n)`` when it stops at a step count, else ``("epochs", e)``; None: neither."""
    get = config.get if isinstance(config, dict) else (lambda key: getattr(config, key, None))
    for key in ("max_steps", "epochs"):
        value = get(key)
        if value is not None:
            try:
                value = float(value)
            except (TypeError, ValueError):          # a record that is not ours: no budget to scale by
                return None
            return (key, value) if math.isfinite(value) else None
    return None


def planned_budget(spec: RunSpec) -> tuple[str, float] | None:
    """The budget ``spec`` trains at (its preset and overrides; None: its model is not registered,
    or the overrides are not valid for it: the run itself will say so)."""
    from ..models import get_model_class
    try:
        return budget_of(get_model_class(spec.model).from_preset(spec.preset, **spec.overrides).config)
    except (KeyError, ValueError, TypeError):
        return None


@dataclass(frozen=True)
class RunTimes:
    """How long runs take, from finished records: the median wall time of each (model, profile)
    over the ``ok`` (and ``skipped``) records of the same kind of device. The time a plan should
    take (:meth:`wall_s`) is the same number however long the bench has been going: the start
    line and every progress line of both engines use it.

    A run planned at another budget than its reference records (a profile's epochs or steps
    changed since they were made) gets their training time scaled to its budget: the median of
    the records' training times (``train.train_time_s``) times the ratio of the budgets, plus
    the median of the rest of their wall time (data, scoring, saving). Only when every record of
    the (model, profile) has one budget of the same kind (both epochs or both steps)."""

    medians: dict = field(default_factory=dict)      # (model, profile) -> seconds
    records: int = 0                                 # how many records they come from
    source: str | None = None                        # the folder they were read from
    budgets: dict = field(default_factory=dict)      # (model, profile) -> (budget, train s, rest s)
    planned: dict = field(default_factory=dict, compare=False, repr=False)   # (model, fingerprint) -> budget

    @classmethod
    def from_records(cls, records, device: str, source: str | None = None) -> "RunTimes":
        times: dict[tuple, list[float]] = {}
        split: dict[tuple, list[tuple]] = {}
        for rec in records:
            if rec.status not in TIMED_STATUSES or rec.wall_time_s is None or \
                    str(rec.device or "")[:3] != device[:3]:
                continue
            key, wall = (rec.model, rec.profile), float(rec.wall_time_s)
            times.setdefault(key, []).append(wall)
            train = (rec.train or {}).get("train_time_s") if rec.status == "ok" else None
            budget = budget_of(rec.config or {})
            split.setdefault(key, []).append((budget, float(train), wall - float(train))
                                             if isinstance(train, (int, float)) and 0 <= train <= wall and budget
                                             and budget[1] > 0 else None)
        budgets = {}
        for key, rows in split.items():
            if None not in rows and len({b for b, _, _ in rows}) == 1:
                budgets[key] = (rows[0][0], statistics.median(t for _, t, _ in rows),
                                statistics.median(r for _, _, r in rows))
        return cls({k: statistics.median(v) for k, v in times.items()}, sum(map(len, times.values())), source,
                   budgets)

    def _scaled(self, key: tuple, budget: tuple[str, float] | None) -> float | None:
        """The reference time of (model, profile) at ``budget`` (see the class)."""
        t = self.medians.get(key)
        ref = self.budgets.get(key)
        if t is None or ref is None or budget is None or budget[0] != ref[0][0] or budget == ref[0]:
            return t
        return ref[1] * budget[1] / ref[0][1] + ref[2]

    @classmethod
    def read(cls, bench: Benchmark, device: str, reference: str | Path = REFERENCE) -> "RunTimes":
        """The reference records of ``bench`` (the committed results) in ``reference``."""
        records = []
        for path in sorted((Path(reference) / bench.name / "runs").glob("*/record.json")):
            try:
                records.append(load_record(path))
            except (OSError, ValueError, TypeError):
                continue
        return cls.from_records(records, device, source=f"{reference}/{bench.name}")

    def of(self, spec: RunSpec) -> float | None:
        """The reference time of one run, at its budget (None: no reference record of its model
        and profile)."""
        key = (spec.model, spec.profile)
        if key not in self.budgets:
            return self.medians.get(key)
        plan = (spec.model, spec.fingerprint())   # every progress line asks again: built once per plan
        if plan not in self.planned:
            self.planned[plan] = planned_budget(spec)
        return self._scaled(key, self.planned[plan])

    def pace(self, finished) -> float:
        """How the finished runs (records) compared with their reference times: the sum of their
        wall times over the sum of their reference times (1 when none has a reference)."""
        took = ref = 0.0
        for rec in finished:
            t = self._scaled((rec.model, rec.profile), budget_of(rec.config or {}))
            if t and rec.status == "ok" and rec.wall_time_s is not None:
                took, ref = took + float(rec.wall_time_s), ref + t
        return took / ref if ref > 0 else 1.0

    def wall_s(self, specs: list[RunSpec], workers: int = 1, finished=()) -> float | None:
        """Seconds of wall time the runs of ``specs`` should take on ``workers`` running at once:
        their reference times (scaled by :meth:`pace` of the ``finished`` records) summed and
        divided by the workers, and never less than the longest. A run without a reference time
        counts as the mean of the finished runs; None when there is none to judge by."""
        finished = list(finished)
        pace = self.pace(finished)
        done = [float(r.wall_time_s) for r in finished if r.status == "ok" and r.wall_time_s is not None]
        each = []
        for spec in specs:
            t = self.of(spec)
            if t is None and not done:
                return None
            each.append(t * pace if t is not None else sum(done) / len(done))
        return max(sum(each) / max(1, int(workers)), max(each, default=0.0))

    def plan_line(self, specs: list[RunSpec], workers: int) -> str:
        """The start line's estimate ("" when there is none)."""
        wall = self.wall_s(specs, workers) if specs else None
        if wall is None:
            return ""
        at_once = f"{workers} run{'s' if workers != 1 else ''} at once"
        scaled = sorted({s.model for s in specs if self.of(s) != self.medians.get((s.model, s.profile))})
        rescaled = (f"; the training time of {', '.join(scaled)} scaled from the records' budget to the planned one"
                    if scaled else "")
        return (f"about {fmt_s(wall)} of wall time with {at_once}, judging by the reference records in "
                f"{self.source} (each model's median{rescaled}; {fmt_s(self.wall_s(specs, 1))} of run time in all)")


@dataclass
class Progress:
    """The progress lines of one bench, the same for both engines: runs settled so far of those
    to do, and the time left, :meth:`RunTimes.wall_s` of the runs not settled on the workers
    (never elapsed time over runs done, which swings with the load of the machine)."""

    todo: list[RunSpec]
    times: RunTimes = field(default_factory=RunTimes)
    workers: int = 1
    settled: set = field(default_factory=set)
    finished: list = field(default_factory=list)     # records of the runs done by this process

    def line(self, run_id: str, text: str, rec: RunRecord | None = None) -> str:
        """``[k/n] text; about T to go`` for a run now settled (``rec``: done here)."""
        self.settled.add(run_id)
        if rec is not None:
            self.finished.append(rec)
        out = f"[{len(self.settled)}/{len(self.todo)}] {text}"
        left = [s for s in self.todo if s.run_id not in self.settled]
        eta = self.times.wall_s(left, self.workers, self.finished) if left else None
        return out + (f"; about {fmt_s(eta)} to go" if eta is not None else "")


def done_line(rec: RunRecord) -> str:
    """The progress line of a finished run: its status, why, and how long it took."""
    line = f"{rec.run_id}: {rec.status}"
    if rec.reason:
        line += f" ({rec.reason.splitlines()[0][:160]})"
    return line + f" in {fmt_s(rec.wall_time_s or 0.0)}"
