"""From a benchmark to the runs to do: the profile, the checked run specs, what is already recorded
(resume), which runs can be trained together, and the checks made before any run starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import genzoo

from ..errors import DataError, UserError
from .data import Data, DatasetOptionsError
from .record import RunRecord, read_record
from .runspec import RunSpec
from .._args import given_twice
from .spec import Benchmark
from .store import conflict_error, run_state

AUTO = "auto"
DEFAULT_OUT = "out"            # a user's runs; the committed reference lives in results/
PACK_MODES = ("auto", "on", "off")


def resolve_profile(bench: Benchmark, profile: str | None, device: str) -> tuple[str, str]:
    """``(profile, why)``: ``auto`` (or None) is ``paper`` on a CUDA device, the benchmark's
    default profile (``quick``) otherwise; a named profile is itself."""
    if profile not in (None, AUTO):
        return profile, "asked for"
    if device.startswith("cuda") and "paper" in bench.profiles:
        return "paper", "a CUDA device"
    return bench.default_profile, "no CUDA device" if not device.startswith("cuda") else "no paper profile"


def packs(pack: str, device: str) -> bool:
    """Whether ``pack`` (one of :data:`PACK_MODES`) trains the seeds of a plan together on ``device``:
    "auto" on a CUDA device only (on this project's 2-core CPU it does not pay, ``results/speed/cpu.md``)."""
    return pack == "on" or (pack == "auto" and device.startswith("cuda"))


def check_unique(kind: str, values) -> None:
    twice = given_twice(values)
    if twice:
        raise UserError(f"{kind} given twice: {', '.join(map(str, twice))}")


def checked_plan(bench: Benchmark, profile: str, models: list[str] | None, seeds: list[int] | None,
                 specs: list[RunSpec] | None) -> list[RunSpec]:
    """The runs to plan (``specs``, else the profile's for these models and seeds), each model
    known and its overrides accepted: else a one-line :class:`UserError`, before any work."""
    known = genzoo.list_models()
    check_unique("models", models)
    check_unique("seeds", seeds)
    for m in models or []:
        if m not in known:
            raise UserError(f"unknown model {m!r}; choose from {known}")
    if specs is None:
        specs = bench.plan(profile, models=models, seeds=seeds)
    for spec in specs:  # fail fast on a bad override, before any training
        if spec.model not in known:
            raise UserError(f"{bench.path}: unknown model {spec.model!r}; choose from {known}")
        try:
            genzoo.get_model(spec.model, preset=spec.preset, **spec.overrides)
        except (TypeError, ValueError) as exc:
            raise UserError(f"{bench.path} (profile {profile!r}, model {spec.model!r}): {exc}") from None
    return specs


@dataclass
class Todo:
    """A bench's runs as planned against its results folder: every planned run, those to do (no
    record, or forced), and the records there are (run_id -> record; those taken or made later
    are added as they come)."""

    specs: list[RunSpec]                                 # every planned run, in plan order
    todo: list[RunSpec]                                  # those without a record (or forced)
    records: dict[str, RunRecord] = field(default_factory=dict)
    # run_id -> the created time of the record --force replaces (None: none)
    replaced: dict[str, str | None] = field(default_factory=dict)
    force: bool = False

    @property
    def resumed(self) -> list[str]:
        """The runs recorded before this bench (in plan order)."""
        return [s.run_id for s in self.specs if s.run_id in self.records]

    def recorded_since(self, rec: RunRecord | None, spec: RunSpec) -> bool:
        """Whether ``rec`` (read under the run's lock) is another process's, made since the plan."""
        return rec is not None and (not self.force or rec.created != self.replaced.get(spec.run_id))

    def ordered(self) -> list[RunRecord]:
        """The records of the planned runs, in plan order."""
        return [self.records[s.run_id] for s in self.specs if s.run_id in self.records]


def plan_todo(runs_dir: Path, specs: list[RunSpec], force: bool) -> Todo:
    """The runs to do in ``runs_dir``: a finished record of the same plan is done (unless
    ``force``), a finished record of another plan a one-line :class:`UserError`."""
    out = Todo(specs=list(specs), todo=[], force=force)
    for spec in specs:
        state, rec = run_state(runs_dir, spec, force)
        if state == "conflict":
            raise conflict_error(runs_dir, spec, rec)
        if state == "done":
            out.records[spec.run_id] = rec
        else:
            out.todo.append(spec)
            old = read_record(runs_dir / spec.run_id) if force else None    # what --force replaces
            out.replaced[spec.run_id] = old.created if old else None
    return out


def unsupported(model, data) -> str | None:
    """Why ``model`` does not apply to ``data`` (its run is recorded as skipped), or None."""
    if hasattr(model, "unsupported_reason"):
        return model.unsupported_reason(data)
    if not model.supports(data):
        return f"{model.name} does not apply to {data.kind} data ({data.name}, items of shape {data.shape})"
    return None


def preflight(bench: Benchmark, specs: list[RunSpec], data: Data) -> None:
    """Before any run starts: the data each run of ``specs`` trains on and is scored against
    loads (into ``data``, which the runs then use), and each distinct plan's model accepts its
    training data (``model.check_data``); else a one-line :class:`UserError` naming the benchmark
    file, the profile and the model. A model that does not apply to the data is left to its run
    (recorded as skipped), and data that cannot be read from disk (:class:`DataError`: missing,
    damaged) to the runs, which stop the bench as a failure of the machine."""
    seen = set()
    for spec in specs:
        key = spec.same_plan()
        if key in seen:
            continue
        seen.add(key)
        where = f"{bench.path} (profile {spec.profile!r}, model {spec.model!r})"
        try:
            train = data.train(spec.settings)
            data.reference(spec.settings)
        except DatasetOptionsError as exc:
            raise UserError(f"{where}: {exc.why}") from None
        except DataError:
            continue
        model = genzoo.get_model(spec.model, preset=spec.preset, **spec.overrides)
        if unsupported(model, train):
            continue
        try:
            model.check_data(train)
        except ValueError as exc:
            raise UserError(f"{where}: {' '.join(str(exc).split())}") from None


def ready_evaluator(bench: Benchmark, specs: list[RunSpec], data: Data, progress: bool = True) -> str | None:
    """Before any run starts, when there are runs to do: the evaluator the dataset declares
    (``DatasetInfo.evaluator``) loaded, or trained now on its data (read from ``data.data_dir``)
    when genzoo's cache has none for it, so that the runs (each a Ray task, perhaps) find it there
    instead of each training it. Returns its id (None: no runs, or no evaluator); a failure is one
    line (:class:`UserError`)."""
    info = genzoo.data.find_info(bench.dataset)
    if not specs or info is None or not info.evaluator:
        return None
    from ..metrics.evaluator import EvaluatorWeightsError, get_evaluator

    try:
        return get_evaluator(info.evaluator, data_dir=data.data_dir, progress=progress).id
    except (DataError, EvaluatorWeightsError, ValueError, OSError) as exc:
        raise UserError(f"{bench.path}: the evaluator {info.evaluator!r} that scores {bench.dataset!r} could not "
                        f"be made ready: {' '.join(str(exc).split())}") from None


def pack_groups(specs: list[RunSpec]) -> dict[str, list[RunSpec]]:
    """run_id -> the runs it can be trained with: the same model, preset, overrides and settings,
    other seeds (groups of two or more)."""
    groups: dict[str, list[RunSpec]] = {}
    for spec in specs:
        groups.setdefault(spec.same_plan(), []).append(spec)
    return {s.run_id: g for g in groups.values() if len(g) > 1 for s in g}
