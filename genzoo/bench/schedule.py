"""The scheduler: one bench's runs to do, done by an engine (:mod:`genzoo.bench.engines`), whichever
it is. For each run: take its lock (:mod:`genzoo.bench.locks`), read its record again (another
process may have recorded it since the plan: that record is taken, or a conflict raised), hand it
to the engine (with the other seeds of its plan, when packing), write what comes back
(:func:`genzoo.bench.store.commit_run`) and say how far the bench is and how long it has to go.
Runs another process holds are waited for once the others are done, then taken or done.

A failure of the machine (:class:`genzoo.errors.EnvironmentFailure`: the data, the disk, the GPU)
records nothing for its run (its traceback goes to the run's error.txt); no run starts after it,
those already running finish and are recorded, and the bench ends with one line saying what was
lost and that the same command resumes.

A ``deadline`` (``genzoo.gpu``'s time budget) stops the bench from starting runs once it has
passed: the bench then ends with :class:`~genzoo.errors.BudgetSpent`, its finished records kept,
and the same command does the rest."""

from __future__ import annotations

import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from tqdm.auto import tqdm

from ..errors import BudgetSpent, UserError
from .engines import Executor
from .execute import Outcome
from .locks import RunLock
from .plan import Todo, pack_groups
from .record import RunRecord, read_record
from .runspec import RunSpec
from .store import commit_run, conflict_error, forget, write_error
from .times import Progress, done_line, say

MINE, THEIRS, BUSY = "mine", "theirs", "busy"     # what taking a run's lock found


def fmt_overrides(overrides: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in overrides.items())


@dataclass
class Scheduler:
    """One bench's runs to do (``plan.todo``) in its results folder; ``plan.records`` gets every
    record as it is taken or made."""

    name: str                      # the benchmark's
    runs_dir: Path
    plan: Todo
    progress: Progress
    packed: bool = False           # train the seeds of one plan together
    quiet: bool = False
    executed: list[str] = field(default_factory=list)      # done by this process
    by_others: list[str] = field(default_factory=list)     # recorded meanwhile by another process
    lost: dict[str, str] = field(default_factory=dict)     # run_id -> the failure of the machine
    deadline: float | None = None  # time.monotonic() after which no run is started (None: none)
    held: dict[str, RunLock] = field(default_factory=dict)
    bar: object = None

    def run(self, executor: Executor) -> None:
        """Do the runs with ``executor`` (entered): those this process can lock, then those another
        process holds, once it lets them go."""
        todo = self.plan.todo
        self.progress.workers = executor.workers
        if executor.line:
            eta = self.progress.times.plan_line(todo, executor.workers)
            self.say(executor.line + (f"; {eta}" if eta else ""))
        self.bar = tqdm(total=len(todo), desc=f"bench {self.name} ({executor.name})", unit="run",
                        disable=True if self.quiet else None, position=0, leave=True)
        groups = pack_groups(todo) if self.packed else {}
        waiting: list[RunSpec] = []
        try:
            self._settle(executor, executor.run(self._taken(todo, groups, waiting), self._starting))
            self._settle(executor, executor.run(self._waited_for(waiting, groups), self._starting))
        finally:
            self.bar.close()
            for lock in self.held.values():
                lock.release()
            self.held.clear()
        if self.lost:
            raise UserError(self.failure())
        left = [s for s in todo if s.run_id not in self.progress.settled]
        if left and self.out_of_time():
            raise BudgetSpent(f"the time budget is spent: {len(left)} of {len(todo)} runs of {self.name} not "
                              f"done; the same command resumes them")

    def out_of_time(self) -> bool:
        """The deadline has passed: no run is started any more."""
        return self.deadline is not None and time.monotonic() >= self.deadline

    def say(self, line: str) -> None:
        say(line, self.quiet)

    def _taken(self, todo: list[RunSpec], groups: dict, waiting: list[RunSpec]) -> Iterator[list[RunSpec]]:
        """The groups of runs this process takes now, as the engine asks for them; runs another
        process holds go to ``waiting``."""
        for spec in todo:
            if self.lost or self.out_of_time():
                return                        # the machine failed, or the time is spent: nothing more is started
            if spec.run_id in self.held or spec.run_id in self.progress.settled:
                continue                      # taken with its pack, or settled
            self.bar.set_postfix_str(spec.run_id)
            found = self._take(spec, wait=False)
            if found == BUSY:
                waiting.append(spec)
            elif found == MINE:
                yield self._group(spec, groups)

    def _waited_for(self, waiting: list[RunSpec], groups: dict) -> Iterator[list[RunSpec]]:
        """The runs another process held, each once it lets it go (taken, or done here)."""
        for spec in waiting:
            if self.lost or self.out_of_time():
                return
            self.bar.set_postfix_str(f"waiting for {spec.run_id}")
            self.say(f"{spec.run_id}: being done by another process "
                     f"(pid {RunLock(self.runs_dir, spec.run_id).holder()}); waiting for it")
            if self._take(spec, wait=True) == MINE:
                yield self._group(spec, groups)

    def _group(self, spec: RunSpec, groups: dict) -> list[RunSpec]:
        """``spec`` (taken) and, when packing, the other runs of its plan this process can take now."""
        group = [spec]
        for other in groups.get(spec.run_id, []):
            if other.run_id != spec.run_id and other.run_id not in self.held and \
                    other.run_id not in self.progress.settled and self._take(other, wait=False) == MINE:
                group.append(other)
        return group

    def _take(self, spec: RunSpec, wait: bool) -> str:
        """Lock the run: :data:`MINE` (this process does it), :data:`THEIRS` (another process
        recorded it since the plan: its record is taken) or :data:`BUSY` (another process holds it)."""
        lock = RunLock(self.runs_dir, spec.run_id)
        if not lock.acquire(wait=wait):
            return BUSY
        rec = read_record(self.runs_dir / spec.run_id)
        if self.plan.recorded_since(rec, spec):
            lock.release()
            self._theirs(spec, rec)
            return THEIRS
        self.held[spec.run_id] = lock
        return MINE

    def _theirs(self, spec: RunSpec, rec: RunRecord) -> None:
        if rec.fingerprint != spec.fingerprint():
            raise conflict_error(self.runs_dir, spec, rec)
        self.plan.records[spec.run_id] = rec
        self.by_others.append(spec.run_id)
        self._line(self.progress.line(spec.run_id, f"{spec.run_id}: {rec.status} (done by another process)"))

    def _starting(self, spec: RunSpec) -> bool:
        """A run starts in this process (the engine says so, when it knows): its line, and the
        record a forced run replaces is removed. False: the machine failed, do not start it."""
        if self.lost:
            return False
        self.say(f"[{len(self.progress.settled) + 1}/{len(self.plan.todo)}] {spec.run_id}: {spec.model} on "
                 f"{spec.dataset}, seed {spec.seed}, preset {spec.preset}"
                 + (f", {fmt_overrides(spec.overrides)}" if spec.overrides else ""))
        forget(self.runs_dir, spec.run_id)
        return True

    def _settle(self, executor: Executor, outcomes: Iterator[Outcome]) -> None:
        with closing(outcomes):               # an error here stops the engine's runs too
            for outcome in outcomes:
                self._settled(executor, outcome)

    def _settled(self, executor: Executor, outcome: Outcome) -> None:
        """A run the engine is done with: its record written and reported, or its loss noted."""
        spec = outcome.spec
        lock = self.held.pop(spec.run_id, None)
        try:
            rec = None
            if outcome.output is not None:
                try:
                    rec = commit_run(self.runs_dir, outcome.output)
                except OSError as exc:        # the results folder cannot be written
                    outcome = Outcome.machine_failed(spec, exc)
            if rec is None:
                write_error(self.runs_dir, spec.run_id, outcome.story)
                self.lost[spec.run_id] = outcome.lost
                self.bar.update(1)
                return
            rec = executor.committed(rec, self.runs_dir / rec.run_id)
            self.plan.records[rec.run_id] = rec
            self.executed.append(rec.run_id)
            self._line(self.progress.line(rec.run_id, done_line(rec), rec))
        finally:
            if lock is not None:
                lock.release()

    def _line(self, text: str) -> None:
        self.bar.update(1)
        self.say(text)

    def failure(self) -> str:
        """The one line of a bench whose machine failed: what was lost, what was kept, what to do."""
        n = len(self.lost)
        left = [s for s in self.plan.todo if s.run_id not in self.progress.settled and s.run_id not in self.lost]
        return ("; ".join(f"{run_id}: {why}" for run_id, why in self.lost.items())
                + f". Nothing was recorded for {'it' if n == 1 else 'them'} "
                  f"(traceback in {'its' if n == 1 else 'their'} error.txt)"
                + (f" and {len(left)} more runs were not started" if left else "")
                + f"; the {len(self.plan.records)} finished records are kept. Fix the problem and run the same "
                  f"command again to resume")
