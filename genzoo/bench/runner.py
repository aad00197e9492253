"""The benchmark runner: for each (model, seed) of a benchmark profile, fit, score, and record.

Layout of one benchmark's results (``<out>/<benchmark>/``)::

    runs/<model>-s<seed>/record.json      the run record (written last, atomically)
                         history.csv.gz   model.history_ (gzip-compressed CSV)
                         samples.png      64 samples from seed 1234 (cGAN: one row per class;
                                          points: a scatter plot of 2500 samples over the data)
                         samples.pt       those samples (images as uint8 0..255)
                         checkpoint/      model.save_pretrained
                         sampler/         model.save_pretrained(sampler_only=True): what genzoo demo loads
                         samples_normal_prior.{pt,png}   the AE's N(0, I) samples
                         error.txt        the traceback of a failed run
    wandb/                                W&B run folders (offline-run-*/ until synced)

A run whose ``record.json`` exists is finished (whatever its status) and is skipped next time
unless ``force``; a run killed half-way has no record and is done again from scratch. A run is
done only by the process holding its lock (:mod:`genzoo.bench.locks`), so two benches on one
folder share its runs. A failure of the environment rather than of the run (the data cannot be
read, the disk is full, the GPU fails) records nothing and stops the bench with a one-line error:
the next invocation does that run again.

Before any run starts, the data each run needs is loaded and each plan's model checks it
(:func:`preflight`): a bad dataset option or a batch larger than the data is a one-line error
naming the benchmark file, profile and model, and nothing is recorded. Each run works in a scratch
folder ``$TMPDIR/genzoo-<run_id>-pid<pid>-XXXXXXXX``; the next run removes those of processes
that are gone (:func:`clean_leftovers`).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import inspect
import platform
import shutil
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .._io import scratch_dir, sweep_stale_scratch, sweep_stale_tmp
from ..errors import DataError, DivergenceError, EnvironmentFailure, UserError
from ..models.base import resolve_device as models_resolve_device
from . import artifacts
from .artifacts import finite_or_none
from .locks import RunLock
from .record import FINAL_STATUSES, SCHEMA_VERSION, RunRecord, load_record, read_record  # noqa: F401  (read_record: the runner's API)
from .spec import Benchmark, RunSpec, given_twice, load_benchmark

GRID_SEED = 1234               # samples.png / samples.pt (and W&B grids during training)
EVAL_SEED_OFFSET = 10_000      # scored samples come from seed 10_000 + run seed
POINTS_IN_PLOT = 2500
MAX_PER_CLASS_CLASSES = 32
# the columns of the summary printed at the end (the records hold every metric)
HEADLINE_METRICS = ("fid", "kid", "precision", "recall", "coverage", "classes_covered", "modes_covered",
                    "high_quality", "mode_kl", "fid_normal_prior")     # per-class scores only for datasets with at most this many classes


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` when CUDA is present, else ``cpu``; anything else is checked."""
    try:
        return str(models_resolve_device(device or "auto"))
    except ValueError as exc:
        raise UserError(str(exc)) from None


def versions() -> dict:
    from importlib import metadata

    import genzoo

    out = {"genzoo": getattr(genzoo, "__version__", None)}
    for dist in ("torch", "torchvision", "torchmetrics", "wandb"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    out["python"] = platform.python_version()
    return out


def _git(where: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_state() -> tuple[str | None, bool | None, str | None]:
    """(commit, dirty, root) of the git work tree genzoo was imported from (else of the working
    folder); commit is None outside a repository or before its first commit."""
    import genzoo

    for where in (Path(genzoo.__file__).resolve().parents[1], Path.cwd()):
        root = _git(where, "rev-parse", "--show-toplevel")
        if root is None:
            continue
        commit = _git(where, "rev-parse", "--verify", "-q", "HEAD")
        status = _git(where, "status", "--porcelain", "--untracked-files=no")
        return commit or None, (bool(status) if status is not None and commit else None), root
    return None, None, None


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class BenchResult:
    benchmark: str
    profile: str
    out_dir: Path
    records: list[RunRecord]                 # one per planned run, in plan order
    executed: list[str] = field(default_factory=list)        # done by this call
    resumed: list[str] = field(default_factory=list)         # recorded before this call
    by_others: list[str] = field(default_factory=list)       # recorded meanwhile by another process
    wandb_mode: str = "disabled"
    wandb_dirs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def table(self, metrics: list[str] | None = None):
        """A pandas DataFrame, one row per run: status, wall time and the metrics (all of them,
        or those named)."""
        import pandas as pd

        rows = []
        for r in self.records:
            row = {"run": r.run_id or f"{r.model}-s{r.seed}", "status": r.status, "time_s": r.wall_time_s}
            row.update({k: v for k, v in r.metrics.items() if metrics is None or k in metrics})
            rows.append(row)
        return pd.DataFrame(rows).set_index("run") if rows else pd.DataFrame()


class DatasetOptionsError(UserError):
    """The benchmark's dataset options make no dataset (the loader refused them); ``why`` says so
    without the benchmark's name, for a message that names the file, profile and model."""

    def __init__(self, bench: Benchmark, why: str):
        self.why = why
        super().__init__(f"benchmark {bench.name!r}: {why}")


class Data:
    """Loads each split once per benchmark invocation (and each subset once)."""

    def __init__(self, bench: Benchmark):
        self.bench = bench
        self._cache: dict = {}

    def _load(self, split: str, options: dict, subset: int):
        import json

        import genzoo.data

        key = (split, json.dumps(options, sort_keys=True), subset)
        if key not in self._cache:
            full_key = (split, key[1], 0)
            if full_key not in self._cache:
                try:
                    self._cache[full_key] = genzoo.data.load(self.bench.dataset, split, **options)
                except (TypeError, ValueError) as exc:
                    raise DatasetOptionsError(self.bench, f"cannot load dataset {self.bench.dataset!r} ({split}) "
                                                          f"with {options}: {exc}") from None
            ds = self._cache[full_key]
            if subset and subset < len(ds):
                ds = ds.subset(subset, seed=0)
            self._cache[key] = ds
        return self._cache[key]

    def only(self, specs: list[RunSpec]) -> "Data":
        """The splits (and subsets) these runs train on and are scored against, loaded now, and
        nothing else: what a Ray task gets from the object store."""
        import json

        out = Data(self.bench)
        for spec in specs:
            for ds, (split, subset) in ((self.train(spec.settings), ("train", spec.settings["train_subset"])),
                                        (self.reference(spec.settings), (spec.settings["reference_split"],
                                                                         spec.settings["reference_subset"]))):
                out._cache[(split, json.dumps(self.options(spec.settings), sort_keys=True), subset)] = ds
        return out

    def options(self, settings: dict) -> dict:
        return {**self.bench.dataset_options, **settings.get("dataset_options", {})}

    def train(self, settings: dict):
        """The training split of a run with these (a RunSpec's) settings."""
        return self._load("train", self.options(settings), settings["train_subset"])

    def reference(self, settings: dict):
        """The split its samples are scored against."""
        return self._load(settings["reference_split"], self.options(settings), settings["reference_subset"])


def _say(msg: str, quiet: bool) -> None:
    if not quiet:
        from tqdm.auto import tqdm

        tqdm.write(msg, file=sys.stdout)


def _fmt_overrides(overrides: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in overrides.items())


def _fmt_s(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else (f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s")


def run_state(runs_dir: Path, spec: RunSpec, force: bool = False) -> tuple[str, RunRecord | None]:
    """``("todo", None)``, ``("done", record)`` or ``("conflict", record)``: a finished run of
    another plan (profile, overrides, settings) sits where this one would be written."""
    rec = None if force else read_record(runs_dir / spec.run_id)
    if rec is None:
        return "todo", None
    return ("done" if rec.fingerprint == spec.fingerprint() else "conflict"), rec


def conflict_error(runs_dir: Path, spec: RunSpec, rec: RunRecord) -> UserError:
    """The error for a ``"conflict"`` of :func:`run_state`."""
    return UserError(
        f"{runs_dir / spec.run_id} holds a finished run of a different plan "
        f"(profile {rec.profile!r}, fingerprint {rec.fingerprint}) "
        f"than profile {spec.profile!r} asks for ({spec.fingerprint()}); pass --force to redo it, "
        f"or --out to write elsewhere")


def check_writable(folder: Path, what: str = "--out") -> None:
    """Fail fast, with one line, when ``folder`` cannot be created or written."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = artifacts.tmp_path_beside(folder / "write-test")
        probe.unlink()
    except (FileExistsError, NotADirectoryError):
        raise UserError(f"{what} {folder}: a file is in the way (it must be a folder)") from None
    except OSError as exc:
        raise UserError(f"{what} {folder}: cannot write there ({exc.strerror or exc})") from None


def check_unique(kind: str, values) -> None:
    twice = given_twice(values)
    if twice:
        raise UserError(f"{kind} given twice: {', '.join(map(str, twice))}")


AUTO = "auto"
DEFAULT_OUT = "out"            # a user's runs; the committed reference lives in results/
REFERENCE = "results"


def resolve_profile(bench: Benchmark, profile: str | None, device: str) -> tuple[str, str]:
    """``(profile, why)``: ``auto`` (or None) is ``paper`` on a CUDA device, the benchmark's
    default profile (``quick``) otherwise; a named profile is itself."""
    if profile not in (None, AUTO):
        return profile, "asked for"
    if device.startswith("cuda") and "paper" in bench.profiles:
        return "paper", "a CUDA device"
    return bench.default_profile, "no CUDA device" if not device.startswith("cuda") else "no paper profile"


TIMED_STATUSES = ("ok", "skipped")     # records whose wall time says how long such a run takes


@dataclass(frozen=True)
class RunTimes:
    """How long runs take, from finished records: the median wall time of each (model, profile)
    over the ``ok`` (and ``skipped``) records of the same kind of device. The time a plan should
    take (:meth:`wall_s`) is the same number however long the bench has been going: the start
    line and every progress line of both engines use it."""

    medians: dict = field(default_factory=dict)      # (model, profile) -> seconds
    records: int = 0                                 # how many records they come from
    source: str | None = None                        # the folder they were read from

    @classmethod
    def from_records(cls, records, device: str, source: str | None = None) -> "RunTimes":
        import statistics

        times: dict[tuple, list[float]] = {}
        for rec in records:
            if rec.status not in TIMED_STATUSES or rec.wall_time_s is None or \
                    str(rec.device or "")[:3] != device[:3]:
                continue
            times.setdefault((rec.model, rec.profile), []).append(float(rec.wall_time_s))
        return cls({k: statistics.median(v) for k, v in times.items()}, sum(map(len, times.values())), source)

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
        """The reference time of one run (None: no reference record of its model and profile)."""
        return self.medians.get((spec.model, spec.profile))

    def pace(self, finished) -> float:
        """How the finished runs (records) compared with their reference times: the sum of their
        wall times over the sum of their reference times (1 when none has a reference)."""
        took = ref = 0.0
        for rec in finished:
            t = self.medians.get((rec.model, rec.profile))
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
        return (f"about {_fmt_s(wall)} of wall time with {at_once}, judging by the reference records in "
                f"{self.source} (each model's median; {_fmt_s(self.wall_s(specs, 1))} of run time in all)")


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
        return out + (f"; about {_fmt_s(eta)} to go" if eta is not None else "")


def run_benchmark(benchmark: str | Path | Benchmark, *, profile: str | None = None,
                  models: list[str] | None = None, seeds: list[int] | None = None, device: str = "auto",
                  out: str | Path = DEFAULT_OUT, force: bool = False, wandb: bool = True,
                  wandb_project: str | None = None, quiet: bool = False,
                  comparison: bool | None = None, pack: str = "auto", engine: str = "local",
                  ray: "RayOptions | None" = None, specs: list[RunSpec] | None = None) -> BenchResult:
    """Run (or resume) one benchmark; returns every planned run's record. ``comparison``: whether
    to log a W&B summary run comparing the models (None: when any run was done here).

    ``pack``: whether the seeds of one model are trained together in this process
    (:func:`genzoo.fit_seeds`): "on", "off", or "auto" (on a CUDA device only: on this project's
    2-core CPU it does not pay, ``results/speed/cpu.md``). Each seed still gets its own record,
    whose ``train.packed_with`` lists the seeds it was trained with.

    Runs that another process is doing (it holds their lock) are waited for once this process
    has done the others, and their records are returned with the rest. A failure of the
    environment (:class:`genzoo.errors.EnvironmentFailure`) records nothing for its run and is
    raised as a :class:`UserError` once the finished runs are safe.

    ``engine``: ``"local"`` does the runs one after another in this process; ``"ray"`` does them
    as Ray tasks (:mod:`genzoo.bench.ray_engine`, placed as ``ray`` says), this process writing
    their records as they finish. Either way each run is :func:`execute_run`, recorded by
    :func:`commit_run`.

    ``specs``: the runs to do instead of the profile's plan (``genzoo sweep``'s trials)."""
    bench = benchmark if isinstance(benchmark, Benchmark) else load_benchmark(benchmark)
    if pack not in PACK_MODES:
        raise UserError(f"pack must be one of {', '.join(PACK_MODES)}, got {pack!r}")
    if engine not in ENGINES:
        raise UserError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    dev = resolve_device(device)
    if engine == "ray":
        from .ray_engine import RayOptions, import_ray

        import_ray()                               # not installed: say how, before any work
        ray = ray or RayOptions()
        ray.check()
        dev = ray.device(dev)
    profile, profile_why = resolve_profile(bench, profile, dev)
    specs = checked_plan(bench, profile, models, seeds, specs)
    bench_dir = Path(out) / bench.name
    runs_dir = bench_dir / "runs"
    check_writable(runs_dir)
    sweep_stale_tmp(runs_dir)
    clean_leftovers(quiet)
    todo, records, planned = plan_todo(runs_dir, specs, force)
    data = Data(bench)
    preflight(bench, todo, data)                  # every input error before any run starts
    result = BenchResult(bench.name, profile, bench_dir, [], resumed=[s.run_id for s in specs if s.run_id in records])
    times = RunTimes.read(bench, dev)
    _say(f"genzoo bench {bench.name}: profile {profile} ({profile_why}), {len(specs)} runs "
         f"({len(result.resumed)} already done, {len(todo)} to do) on {dev} -> {bench_dir}"
         + (f"; {times.plan_line(todo, 1)}" if engine == "local" and times.plan_line(todo, 1) else ""), quiet)
    state = BenchState(bench=bench, profile=profile, device=dev, runs_dir=runs_dir, specs=specs, todo=todo, records=records,
                       planned=planned, result=result, session=None, git=(None, None, None), force=force,
                       quiet=quiet, data=data, progress=Progress(todo, times))
    try:
        _do_todo(state, engine, ray, pack, wandb, wandb_project, comparison)
    finally:
        if state.session is not None:
            state.session.close()
            result.wandb_mode = state.session.mode
            result.wandb_dirs = list(state.session.run_dirs)
            result.warnings = list(state.session.warnings)
    if not quiet:
        _print_summary(result, state.session)
    return result


def checked_plan(bench: Benchmark, profile: str, models: list[str] | None, seeds: list[int] | None,
                 specs: list[RunSpec] | None) -> list[RunSpec]:
    """The runs to plan (``specs``, else the profile's for these models and seeds), each model
    known and its overrides accepted: else a one-line :class:`UserError`, before any work."""
    import genzoo

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


def _do_todo(state: "BenchState", engine: str, ray, pack: str, wandb: bool, wandb_project: str | None,
             comparison: bool | None) -> None:
    """Open W&B (when there is something to log), do the runs to do with the engine, and log the
    comparison; ``state.result.records`` then holds every planned run's record."""
    bench, result, quiet = state.bench, state.result, state.quiet
    if state.todo or comparison:
        from .tracking import WandbSession

        state.git = git_state()
        state.session = session = WandbSession(project=wandb_project, group=bench.name, root=result.out_dir,
                                               enabled=wandb, git_root=state.git[2])
        if session.enabled:
            _say(f"W&B: {session.mode} ({session.why}); project {session.project!r}, group {bench.name!r}, "
                 f"folder {session.wandb_dir}", quiet)
        result.wandb_mode = session.mode
    packed = pack == "on" or (pack == "auto" and state.device.startswith("cuda"))
    if state.todo and engine == "ray":
        from .ray_engine import run_todo_ray

        try:
            state.data = state.data.only(state.todo)
        except DataError as exc:             # the data on disk is missing or damaged
            raise UserError(f"the data could not be loaded: {exc}; nothing was run") from None
        run_todo_ray(state, ray, packed)
    elif state.todo:
        _run_todo(state, pack=packed)
    result.records = [state.records[s.run_id] for s in state.specs if s.run_id in state.records]
    session = state.session
    if (bool(result.executed) if comparison is None else comparison) and session is not None and session.enabled:
        log_comparison(session, bench, state.profile, result.records)


def clean_leftovers(quiet: bool = False) -> None:
    """Remove, and say in one line each, what killed benches left on this machine: their scratch
    folders in ``$TMPDIR`` (:func:`genzoo._io.sweep_stale_scratch`) and the processes of the
    local Ray instances their drivers started (:func:`genzoo.bench.ray_engine.clean_dead_instances`)."""
    import tempfile

    from .ray_engine import clean_dead_instances

    removed = sweep_stale_scratch()
    if removed:
        _say(f"removed {len(removed)} scratch folder{'s' if len(removed) > 1 else ''} of killed genzoo runs "
             f"from {tempfile.gettempdir()}", quiet)
    for line in clean_dead_instances():
        _say(line, quiet)


def plan_todo(runs_dir: Path, specs: list[RunSpec], force: bool) -> tuple[list[RunSpec], dict, dict]:
    """``(todo, records, planned)``: the runs to do, the records of those done (run_id -> record),
    and for each run to do the creation time of the record ``--force`` replaces (None: none)."""
    todo, records, planned = [], {}, {}
    for spec in specs:
        state, rec = run_state(runs_dir, spec, force)
        if state == "conflict":
            raise conflict_error(runs_dir, spec, rec)
        if state == "done":
            records[spec.run_id] = rec
        else:
            todo.append(spec)
            old = read_record(runs_dir / spec.run_id) if force else None    # what --force replaces
            planned[spec.run_id] = old.created if old else None
    return todo, records, planned


def preflight(bench: Benchmark, specs: list[RunSpec], data: "Data") -> None:
    """Before any run starts: the data each run of ``specs`` trains on and is scored against
    loads (into ``data``, which the runs then use), and each distinct plan's model accepts its
    training data (``model.check_data``); else a one-line :class:`UserError` naming the benchmark
    file, the profile and the model. A model that does not apply to the data is left to its run
    (recorded as skipped), and data that cannot be read from disk (:class:`DataError`: missing,
    damaged) to the runs, which stop the bench as a failure of the machine."""
    import json

    import genzoo

    seen = set()
    for spec in specs:
        settings = spec.settings
        key = json.dumps([spec.model, spec.preset, spec.overrides, data.options(settings), settings["train_subset"],
                          settings["reference_split"], settings["reference_subset"]], sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        where = f"{bench.path} (profile {spec.profile!r}, model {spec.model!r})"
        try:
            train = data.train(settings)
            data.reference(settings)
        except DatasetOptionsError as exc:
            raise UserError(f"{where}: {exc.why}") from None
        except DataError:
            continue
        model = genzoo.get_model(spec.model, preset=spec.preset, **spec.overrides)
        if _unsupported(model, train):
            continue
        try:
            model.check_data(train)
        except ValueError as exc:
            raise UserError(f"{where}: {' '.join(str(exc).split())}") from None


PACK_MODES = ("auto", "on", "off")
ENGINES = ("local", "ray")


def pack_groups(specs: list[RunSpec]) -> dict[str, list[RunSpec]]:
    """run_id -> the runs it can be trained with: the same model, preset, overrides and settings,
    other seeds (groups of two or more)."""
    import json

    groups: dict[str, list[RunSpec]] = {}
    for spec in specs:
        key = json.dumps([spec.model, spec.preset, spec.overrides, spec.settings], sort_keys=True, default=str)
        groups.setdefault(key, []).append(spec)
    return {s.run_id: g for g in groups.values() if len(g) > 1 for s in g}


def _fit_packed(group: list[RunSpec], ctx: "_Context", locks: list[RunLock]) -> dict:
    """Train the runs of ``group`` whose locks this process gets together (``fit_seeds``); returns
    run_id -> fitted model (nothing when fewer than two could be locked, when the model cannot be
    packed, or when a seed diverged: those runs are then trained one by one, as without packing)."""
    mine = []
    for spec in group:
        lock = RunLock(ctx.runs_dir, spec.run_id)
        if lock.acquire(wait=False):
            locks.append(lock)
            if read_record(ctx.runs_dir / spec.run_id) is None or spec.run_id in ctx.redo:
                mine.append(spec)
    return fit_together(mine, ctx)


def fit_together(mine: list[RunSpec], ctx: "_Context") -> dict:
    """Train the runs of ``mine`` (the same model and plan, other seeds) together with
    ``genzoo.fit_seeds``; run_id -> fitted model, or nothing when they are better trained one by
    one (fewer than two, a model that cannot be packed, a seed that diverged)."""
    import genzoo
    from genzoo.training.packed import check_packable

    if len(mine) < 2:
        return {}
    first = mine[0]
    model = genzoo.get_model(first.model, preset=first.preset, **first.overrides)
    try:
        train = ctx.data.train(first.settings)
        check_packable(model, train)
    except ValueError as exc:
        _say(f"{first.model}: its seeds are trained one by one ({exc})", ctx.quiet)
        return {}
    seeds = [s.seed for s in mine]
    _say(f"{first.model}: seeds {', '.join(map(str, seeds))} trained together in this process (genzoo.fit_seeds)",
         ctx.quiet)
    try:
        models = genzoo.fit_seeds(model, train, seeds=seeds, device=ctx.device)
    except DivergenceError as exc:
        _say(f"{first.model}: a seed diverged when packed ({exc}); its seeds are trained one by one", ctx.quiet)
        return {}
    except Exception as exc:
        _raise_if_environment(exc, "training")
        _say(f"{first.model}: packing failed ({type(exc).__name__}: {exc}); its seeds are trained one by one",
             ctx.quiet)
        return {}
    for m in models:                  # each run's share of the pack's time
        m.packed_time_s_ = m.train_time_s_
        m.train_time_s_ = m.train_time_s_ / len(models)
    return {spec.run_id: m for spec, m in zip(mine, models)}


def done_line(rec: RunRecord) -> str:
    """The progress line of a finished run: its status, why, and how long it took."""
    line = f"{rec.run_id}: {rec.status}"
    if rec.reason:
        line += f" ({rec.reason.splitlines()[0][:160]})"
    return line + f" in {_fmt_s(rec.wall_time_s or 0.0)}"


@dataclass
class BenchState:
    """One bench invocation's runs as both engines do them: what is planned and recorded, where,
    and how it is reported."""

    bench: Benchmark
    profile: str
    device: str
    runs_dir: Path
    specs: list[RunSpec]                 # every planned run, in plan order
    todo: list[RunSpec]                  # those without a record (or forced)
    records: dict                        # run_id -> record, as they are taken or made
    planned: dict                        # run_id -> created time of the record --force replaces
    result: BenchResult
    session: object                      # the W&B session (None: nothing to log)
    git: tuple
    force: bool
    quiet: bool
    data: "Data"
    progress: Progress

    def take_other(self, spec: RunSpec, rec: RunRecord) -> str:
        """Take the record another process made of ``spec`` since the plan (its line)."""
        if rec.fingerprint != spec.fingerprint():
            raise conflict_error(self.runs_dir, spec, rec)
        self.records[spec.run_id] = rec
        self.result.by_others.append(spec.run_id)
        return self.progress.line(spec.run_id, f"{spec.run_id}: {rec.status} (done by another process)")

    def recorded_since(self, rec: RunRecord | None, spec: RunSpec) -> bool:
        """Whether ``rec`` (read under the run's lock) is another process's, made since the plan."""
        return rec is not None and (not self.force or rec.created != self.planned.get(spec.run_id))

    def say(self, line: str) -> None:
        _say(line, self.quiet)


def _run_todo(state: BenchState, pack: bool = False) -> None:
    """Do the runs of ``state.todo`` this process can lock, then wait for those another process holds."""
    from tqdm.auto import tqdm

    todo, runs_dir = state.todo, state.runs_dir
    context = _Context(bench=state.bench, device=state.device, runs_dir=runs_dir, data=state.data,
                       session=state.session, versions=versions(), git=state.git, quiet=state.quiet,
                       redo=set(state.planned) if state.force else set())
    local = _LocalRuns(state, context, pack_groups(todo) if pack else {})
    bar = tqdm(total=len(todo), desc=f"bench {state.bench.name}", unit="run", disable=True if state.quiet else None,
               position=0, leave=True)
    try:
        waiting = []
        for spec in todo:
            bar.set_postfix_str(spec.run_id)
            if not local.attempt(spec, wait=False):
                waiting.append(spec)
            else:
                bar.update(1)
        for spec in waiting:
            bar.set_postfix_str(f"waiting for {spec.run_id}")
            state.say(f"{spec.run_id}: being done by another process (pid {RunLock(runs_dir, spec.run_id).holder()}); "
                      f"waiting for it")
            local.attempt(spec, wait=True)
            bar.update(1)
    finally:
        bar.close()
        for lock in local.pack_locks:
            lock.release()


@dataclass
class _LocalRuns:
    """The local engine's runs: each done in this process under its lock."""

    state: BenchState
    context: "_Context"
    groups: dict                                          # run_id -> the runs it is packed with
    prefit: dict = field(default_factory=dict)            # run_id -> a model fitted with its pack
    pack_locks: list = field(default_factory=list)

    def attempt(self, spec: RunSpec, wait: bool) -> bool:
        """Whether the run is settled (done here or by another process); False: locked elsewhere."""
        state = self.state
        lock = RunLock(state.runs_dir, spec.run_id)
        if not lock.acquire(wait=wait):
            return False
        with lock:
            rec = read_record(state.runs_dir / spec.run_id)
            if state.recorded_since(rec, spec):
                line = state.take_other(spec, rec)
            else:
                rec = self.do(spec)
                line = state.progress.line(spec.run_id, done_line(rec), rec)
        state.say(line)
        return True

    def do(self, spec: RunSpec) -> RunRecord:
        """Do the run here and record it (a failure of the machine: a one-line UserError)."""
        state = self.state
        n = len(state.progress.settled)
        state.say(f"[{n + 1}/{len(state.todo)}] {spec.run_id}: {spec.model} on {state.bench.dataset}, seed {spec.seed}, "
                  f"preset {spec.preset}" + (f", {_fmt_overrides(spec.overrides)}" if spec.overrides else ""))
        if spec.run_id in self.groups:
            group = self.groups.pop(spec.run_id)
            for other in group:
                self.groups.pop(other.run_id, None)
            self.prefit.update(_fit_packed(group, self.context, self.pack_locks))
        (state.runs_dir / spec.run_id / "record.json").unlink(missing_ok=True)   # a forced run: gone now
        try:
            rec = commit_run(state.runs_dir, execute_run(spec, self.context, fitted=self.prefit.pop(spec.run_id, None)))
        except EnvironmentFailure as exc:
            try:                            # the whole story, for whoever fixes the machine
                artifacts.write_bytes(state.runs_dir / spec.run_id / "error.txt",
                                      "".join(traceback.format_exception(exc)).encode())
            except OSError:
                pass
            left = len(state.todo) - n - 1
            raise UserError(
                f"{spec.run_id}: {exc}. Nothing was recorded for it (traceback in its error.txt)"
                + (f" and {left} more runs were not started" if left else "")
                + f"; the {len(state.records)} finished records are kept. Fix the problem and run the same "
                f"command again to resume") from None
        state.records[spec.run_id] = rec
        state.result.executed.append(spec.run_id)
        return rec


@dataclass
class _Context:
    bench: Benchmark
    device: str
    runs_dir: Path
    data: Data
    session: object
    versions: dict
    git: tuple
    quiet: bool = False
    redo: set = field(default_factory=set)      # run ids --force redoes


def _model_config(model) -> dict:
    try:
        return dataclasses.asdict(model.config)
    except TypeError:
        return dict(vars(model.config))


@dataclass(frozen=True)
class RunOutput:
    """What a run returns: its record and its files (path in the run folder -> bytes), written
    into the results folder by the driver only (:func:`commit_run`)."""

    record: RunRecord
    files: dict


def execute_run(spec: RunSpec, ctx: _Context, fitted=None, engine: str = "local") -> RunOutput:
    """Fit, score and record one run, as a pure function of the run: its files are made in a
    private scratch folder and returned as bytes with the record; nothing is written into the
    results folder. Never raises for a failure of the run itself (the record says it failed);
    raises :class:`EnvironmentFailure` for a failure of the machine. ``fitted``: the run's model,
    already trained with other seeds by ``genzoo.fit_seeds`` (it is scored and recorded; its W&B
    run gets the losses from its history, without mid-training sample grids)."""
    sweep_stale_scratch()                    # what killed runs left in $TMPDIR
    scratch = scratch_dir(spec.run_id)
    try:
        record = _execute(spec, ctx, scratch, fitted)
        record["engine"] = engine
        files = {p.relative_to(scratch).as_posix(): p.read_bytes()
                 for p in sorted(scratch.rglob("*")) if p.is_file()}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return RunOutput(RunRecord.from_dict(artifacts.clean_json(record)), files)


def commit_run(runs_dir: Path, output: RunOutput) -> RunRecord:
    """Write a run's files and record into ``runs_dir/<run_id>/`` (the driver's job): all of them
    into a temporary folder beside it, which then replaces the run's folder; the record is
    therefore there only with every file of the run."""
    import os

    rec = output.record
    run_dir = Path(runs_dir) / rec.run_id
    stage = artifacts.tmp_dir_beside(run_dir)
    try:
        for name, data in output.files.items():
            artifacts.write_bytes(stage / name, data)        # each file on disk (fsync) before the record
        artifacts.write_json(stage / "record.json", rec.to_dict())
        (run_dir / "record.json").unlink(missing_ok=True)    # a kill from here on leaves no record
        if run_dir.exists():
            shutil.rmtree(run_dir)                            # what a killed or forced run left
        os.replace(stage, run_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return rec


def _new_record(spec: RunSpec, ctx: _Context) -> dict:
    """A run's record as it starts: failed until it says otherwise."""
    commit, dirty, _ = ctx.git
    return {
        "benchmark": spec.benchmark, "model": spec.model, "dataset": spec.dataset, "seed": spec.seed,
        "profile": spec.profile, "status": "failed", "reason": None, "config": {}, "train": {},
        "versions": ctx.versions, "git_commit": commit, "git_dirty": dirty, "device": ctx.device,
        "wall_time_s": None, "throughput": {"train_items_per_s": None, "sample_items_per_s": None},
        "metrics": {}, "higher_is_better": {}, "notes": [], "per_class": None, "created": None,
        "run_id": spec.run_id, "plan": plan_entry(spec), "sweep": spec.sweep,
        "wandb": None, "wandb_start_s": 0.0,
        # CPU results depend on the thread count at ~1e-4 relative (reduction order); a Ray task
        # uses --cpus-per-run threads, so the count is recorded with the numbers
        "torch_threads": torch.get_num_threads(), "engine": None, "data": None, "scoring": None,
        "schema": SCHEMA_VERSION,
    }


def _run_data(ctx: _Context, settings: dict):
    """The run's training and reference splits; a failure to read them is the machine's."""
    try:
        return ctx.data.train(settings), ctx.data.reference(settings)
    except DataError as exc:                 # the data on disk is missing or damaged: not the run's fault
        raise EnvironmentFailure(f"the data could not be loaded: {exc}") from None
    except UserError:                        # a bad benchmark file
        raise
    except Exception as exc:
        raise EnvironmentFailure(f"loading the data failed: {type(exc).__name__}: {exc}") from exc


def _train_entry(spec: RunSpec, model, train, reference) -> dict:
    """A record's ``train`` before the fit: what it trains on and how. ``reference_items`` is the
    size of the reference split loaded (after ``reference_subset``); the record's ``scoring``
    says how many of them the metrics used."""
    settings = spec.settings
    return {"train_items": len(train), "train_subset": settings["train_subset"] or None,
            "reference_split": settings["reference_split"], "reference_items": len(reference),
            "reference_subset": settings["reference_subset"] or None,
            "epochs": getattr(model.config, "epochs", None),
            "max_steps": getattr(model.config, "max_steps", None),
            "batch_size": getattr(model.config, "batch_size", None),
            "batches_per_step": getattr(model, "batches_per_step", 1),
            "preset": spec.preset, "overrides": spec.overrides,
            "n_samples": settings["n_samples"], "sample_seed": EVAL_SEED_OFFSET + spec.seed}


def _execute(spec: RunSpec, ctx: _Context, run_dir: Path, fitted) -> dict:
    import genzoo

    t0 = time.perf_counter()
    settings = spec.settings
    record = _new_record(spec, ctx)
    model = genzoo.get_model(spec.model, preset=spec.preset, **spec.overrides)
    record["config"] = _model_config(model)
    train, reference = _run_data(ctx, settings)
    record["train"] = _train_entry(spec, model, train, reference)
    # where each split was read (files and how they were found; a generated set: its loader)
    record["data"] = {"train": train.meta.get("source"), "reference": reference.meta.get("source")}

    reason = _unsupported(model, train)
    if reason:
        return _finish(record, run_dir, t0, "skipped", reason)

    from .tracking import WandbCallback, sample_image

    t_wandb = time.perf_counter()
    tracker = ctx.session.start(name=spec.run_id, job_type=spec.model, tags=[spec.profile, spec.dataset],
                                config=wandb_config(record))
    record["wandb_start_s"] = time.perf_counter() - t_wandb    # not counted in wall_time_s
    record["wandb"] = ctx.session.record_entry(tracker)
    callback = WandbCallback(tracker, log_every=settings["log_every"], images=settings["images"],
                             reference=reference)
    status, reason, tb, history = "ok", None, None, []
    try:
        try:
            if fitted is not None:
                model = fitted
                record["train"]["packed_with"] = list(model.packed_with_)
                record["train"]["packed_train_time_s"] = model.packed_time_s_
                record["notes"].append(f"trained together with seeds {list(model.packed_with_)} in one process "
                                       f"(genzoo.fit_seeds); train_time_s is its share of their time")
                callback.replay(model)
            else:
                model.fit(train, seed=spec.seed, device=ctx.device, callbacks=[callback])
            history = list(model.history_)
        except DivergenceError as exc:                 # the model keeps nothing of a failed fit;
            status, reason, history = "diverged", str(exc), exc.history    # the error has its steps
        except Exception as exc:
            _raise_if_environment(exc, "training")
            status, reason, tb = "failed", f"{type(exc).__name__}: {exc}", traceback.format_exc()
        if history:
            artifacts.write_history_csv(run_dir / "history.csv.gz", history)
        record["train"].update(_train_stats(model, history, callback))
        if status == "ok":
            try:
                _evaluate(model, spec, record, run_dir, train, reference, ctx, tracker)
            except Exception as exc:
                _raise_if_environment(exc, "scoring")
                status, reason, tb = "failed", f"scoring failed: {type(exc).__name__}: {exc}", traceback.format_exc()
        rec = _finish(record, run_dir, t0, status, reason, tb=tb, wandb_failed=tracker.failed)
        tracker.summary(wandb_summary(artifacts.clean_json(rec)))
        if status == "ok" and tracker.active:
            x = artifacts.read_samples(run_dir / "samples.pt")
            tracker.log_images({"samples": (sample_image(x, reference, title=spec.run_id), "final samples")})
        tracker.finish(exit_code=0 if status == "ok" else 1)
        return rec
    except BaseException as exc:  # Ctrl-C, or the environment failed: close the W&B run as crashed, no record
        tracker.finish(exit_code=255)
        if isinstance(exc, Exception) and not isinstance(exc, EnvironmentFailure):
            _raise_if_environment(exc, "writing the run's files")
        raise


def plan_entry(spec: RunSpec) -> dict:
    """A record's ``plan``: what the run was asked to do, and its fingerprint."""
    return {"fingerprint": spec.fingerprint(), "preset": spec.preset, "overrides": spec.overrides,
            "settings": spec.settings}


def is_environment_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure of the machine rather than of the run: the disk or the file
    system (OSError: full, read-only, gone), memory, or the GPU (CUDA errors, out of memory)."""
    if isinstance(exc, (EnvironmentFailure, OSError, MemoryError, DataError)):
        return True
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    accelerator_error = getattr(torch, "AcceleratorError", None)
    if accelerator_error is not None and isinstance(exc, accelerator_error):
        return True
    return isinstance(exc, RuntimeError) and ("CUDA error" in str(exc) or "CUDA out of memory" in str(exc))


def _raise_if_environment(exc: BaseException, during: str) -> None:
    if isinstance(exc, EnvironmentFailure):
        raise exc
    if is_environment_failure(exc):
        raise EnvironmentFailure(f"{during} failed: {type(exc).__name__}: {exc}") from exc


def _unsupported(model, data) -> str | None:
    if hasattr(model, "unsupported_reason"):
        return model.unsupported_reason(data)
    if not model.supports(data):
        return f"{model.name} does not apply to {data.kind} data ({data.name}, items of shape {data.shape})"
    return None


def wandb_config(record: dict) -> dict:
    """A run's W&B config, from its record as it is when the fit starts (without the
    :data:`FIT_STATS` of a finished record, which ``genzoo wandb`` reads)."""
    plan = record.get("plan") or {}
    return {"benchmark": record["benchmark"], "profile": record["profile"], "model": record["model"],
            "dataset": record["dataset"], "seed": record["seed"], "preset": plan.get("preset"),
            "overrides": artifacts.clean_json(plan.get("overrides") or {}),
            "model_config": artifacts.clean_json(record["config"]),
            "train": artifacts.clean_json({k: v for k, v in record["train"].items() if k not in FIT_STATS}),
            "settings": artifacts.clean_json(plan.get("settings") or {}), "device": record["device"],
            "versions": record["versions"], "git_commit": record["git_commit"]}


def wandb_summary(record: dict) -> dict:
    """A finished run's W&B summary: status, time, throughput, metrics and per-class scores."""
    return {"status": record["status"], "reason": record.get("reason") or "", "wall_time_s": record["wall_time_s"],
            **{f"throughput/{k}": v for k, v in (record.get("throughput") or {}).items() if v is not None},
            **{k: v for k, v in (record.get("metrics") or {}).items() if v is not None},
            **{f"per_class/{c}/{k}": v for c, entry in (record.get("per_class") or {}).items()
               for k, v in entry.items() if isinstance(v, (int, float)) and v is not None}}


FIT_STATS = ("steps", "epochs_done", "train_time_s", "logging_time_s", "items_seen")  # record["train"] after fit


def _train_stats(model, history: list[dict], callback) -> dict:
    """The :data:`FIT_STATS` of a finished (or failed) fit."""
    out = {"steps": len(history)}
    if history and "epoch" in history[-1]:
        out["epochs_done"] = history[-1]["epoch"]
    t = getattr(model, "train_time_s_", None)
    spent = getattr(callback, "time_s", 0.0)
    out["train_time_s"] = None if t is None else max(t - spent, 0.0)   # without the W&B logging
    out["logging_time_s"] = spent
    items = getattr(model, "items_seen_", None)
    if items is None and history:
        items = len(history) * (getattr(model.config, "batch_size", 0) or 0) * getattr(model, "batches_per_step", 1)
    out["items_seen"] = items
    return out


def _finish(record: dict, run_dir: Path, t0: float, status: str, reason: str | None, *, tb: str | None = None,
            wandb_failed: str | None = None) -> dict:
    record["status"], record["reason"] = status, reason
    if tb:
        artifacts.write_bytes(run_dir / "error.txt", tb.encode())
        record["notes"].append("traceback in error.txt")
    if wandb_failed:
        record["notes"].append(f"W&B: {wandb_failed}")
    t = record["train"].get("train_time_s")
    items = record["train"].get("items_seen")
    if t and items:
        record["throughput"]["train_items_per_s"] = items / t
    record["wall_time_s"] = time.perf_counter() - t0 - (record.get("wandb_start_s") or 0.0)
    record["created"] = now_iso()
    return record


def _sample_grid(model, data) -> tuple[torch.Tensor, int]:
    """The samples of samples.png: (64, C, H, W), cGAN one row of 8 per class, points 2500."""
    if data.kind == "points":
        return model.sample(POINTS_IN_PLOT, seed=GRID_SEED), 8
    if getattr(model, "conditional", False) and data.num_classes <= 16:
        labels = torch.arange(data.num_classes).repeat_interleave(8)
        return model.sample(len(labels), labels, seed=GRID_SEED), 8
    return model.sample(64, seed=GRID_SEED), 8


def _accepts_prior(model) -> bool:
    try:
        return "prior" in inspect.signature(model.sample).parameters
    except (TypeError, ValueError):
        return False


def _evaluate(model, spec: RunSpec, record: dict, run_dir: Path, train, reference, ctx: _Context, tracker) -> None:
    from genzoo import metrics as gm

    settings = spec.settings
    n = settings["n_samples"]
    names = settings["metrics"] or None
    seed = EVAL_SEED_OFFSET + spec.seed

    grid, nrow = _sample_grid(model, train)
    artifacts.write_samples(run_dir / "samples.pt", grid)
    artifacts.save_png(run_dir / "samples.png", grid, nrow=nrow, reference=reference, title=spec.run_id)

    t = time.perf_counter()
    samples = model.sample(n, seed=seed)
    dt = time.perf_counter() - t
    record["throughput"]["sample_items_per_s"] = n / dt if dt > 0 else None
    scores = gm.score(samples, reference, names, n=n, seed=spec.seed, device=ctx.device, **_quiet_kw(gm.score))
    _merge_scores(record, scores)
    # what the score measured (the reference items it used, the evaluator, ...): train.reference_items
    # is the size of the reference split loaded, scoring.reference_items what the metrics compared with
    measured = getattr(scores, "measured", None)
    record["scoring"] = dict(measured) if measured else None

    if settings["normal_prior"] and _accepts_prior(model) and getattr(model.config, "sample_prior", None) != "normal":
        grid_n = model.sample(len(grid), seed=GRID_SEED, prior="normal")
        artifacts.write_samples(run_dir / "samples_normal_prior.pt", grid_n)
        artifacts.save_png(run_dir / "samples_normal_prior.png", grid_n, nrow=nrow, reference=reference)
        scores_n = gm.score(model.sample(n, seed=seed, prior="normal"), reference, names, n=n, seed=spec.seed,
                            device=ctx.device, **_quiet_kw(gm.score))
        _merge_scores(record, scores_n, suffix="_normal_prior")
        measured_n = getattr(scores_n, "measured", None)
        if measured_n and record["scoring"] is not None:
            record["scoring"]["normal_prior"] = dict(measured_n)
        if tracker.active:
            from .tracking import sample_image

            tracker.log_images({"samples_normal_prior": (sample_image(grid_n, reference), "N(0, I) codes")})

    if getattr(model, "conditional", False) and settings["per_class"]:
        if train.num_classes <= MAX_PER_CLASS_CLASSES:
            record["per_class"] = _per_class(model, spec, reference, ctx, gm)
        else:
            record["notes"].append(f"per-class scores skipped: {train.num_classes} classes "
                                   f"(more than {MAX_PER_CLASS_CLASSES})")

    artifacts.save_checkpoint(model, run_dir / "checkpoint")
    artifacts.save_checkpoint(model, run_dir / artifacts.SAMPLER_DIR, sampler_only=True)   # for genzoo demo


def _merge_scores(record: dict, scores, suffix: str = "") -> None:
    for k, v in scores.items():
        record["metrics"][k + suffix] = finite_or_none(v)
    hib = getattr(scores, "higher_is_better", {}) or {}
    for k, v in hib.items():
        record["higher_is_better"][k + suffix] = bool(v)
    for note in getattr(scores, "notes", []) or []:
        record["notes"].append(f"{note} [{suffix.strip('_')}]" if suffix else note)


def _per_class(model, spec: RunSpec, reference, ctx: _Context, gm) -> dict:
    """Sample each class k with label k; the share the evaluator (images) or the nearest mixture
    mean (points) assigns to k, and the run's metrics against the reference items of class k."""
    settings = spec.settings
    m = settings["per_class_samples"]
    names = settings["per_class_metrics"] or (["fid"] if reference.kind == "image" else None)
    k_all = reference.num_classes
    labels = torch.arange(k_all).repeat_interleave(m)
    x = model.sample(len(labels), labels, seed=EVAL_SEED_OFFSET + spec.seed + 1)
    class_names = [reference.class_names[k] if k < len(reference.class_names) else str(k) for k in range(k_all)]
    out = {name: {} for name in class_names}
    if reference.kind == "points":
        means = reference.meta.get("means")
        if means is not None:
            nearest = torch.cdist(x.float(), means.float()).argmin(1)
            for k, name in enumerate(class_names):
                out[name]["accuracy"] = (nearest[labels == k] == k).float().mean().item()
    elif reference.shape[0] == 1 and hasattr(gm, "per_class_accuracy"):
        for name, entry in gm.per_class_accuracy(x, labels, class_names).items():
            out[name]["accuracy"] = finite_or_none(entry.get("accuracy"))
    for k, name in enumerate(class_names):
        ref_k = reference.of_class(k)
        if len(ref_k) < 2:
            out[name]["note"] = f"{len(ref_k)} reference items of this class: not scored"
            continue
        try:
            scores = gm.score(x[labels == k], ref_k, names, n=m, seed=spec.seed, device=ctx.device,
                              **_quiet_kw(gm.score))
            out[name].update({key: finite_or_none(v) for key, v in scores.items()})
        except Exception as exc:  # e.g. too few samples for a stable FID: keep the accuracy
            out[name]["note"] = f"{type(exc).__name__}: {exc}"
    return out


def _quiet_kw(score_fn) -> dict:
    """``progress=False`` for a score() that takes it (its per-batch bars would flood the log)."""
    try:
        return {"progress": False} if "progress" in inspect.signature(score_fn).parameters else {}
    except (TypeError, ValueError):
        return {}


def log_comparison(session, bench: Benchmark, profile: str, records: list[RunRecord]) -> None:
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


def _print_summary(result: BenchResult, session) -> None:
    import pandas as pd

    present = {k for r in result.records for k in r.metrics}
    headline = [k for k in HEADLINE_METRICS if k in present] or sorted(present)[:8]
    df = result.table(headline)
    print()
    print(f"genzoo bench {result.benchmark} ({result.profile}): {len(result.records)} runs, "
          f"{len(result.executed)} run now, {len(result.resumed)} already done; records in {result.out_dir / 'runs'}")
    if not df.empty:
        with pd.option_context("display.width", 200, "display.max_columns", 30, "display.float_format",
                               lambda v: f"{v:.4g}"):
            print(df.to_string())
    for r in result.records:
        if r.status != "ok" and r.reason:
            print(f"  {r.run_id or f'{r.model}-s{r.seed}'}: {r.status}: {r.reason.splitlines()[0][:200]}")
    if session is not None and session.mode == "offline" and session.offline_dirs():
        print(f"\nW&B runs were saved offline in {session.wandb_dir}; to upload them:\n"
              f"  wandb sync {session.wandb_dir}/offline-run-*")
