"""``run_benchmark``: a benchmark profile's runs planned, checked, done by an engine through the
scheduler, and summed up.

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

The pipeline: :mod:`~genzoo.bench.plan` (profile, checked specs, what is recorded, preflight) ->
:mod:`~genzoo.bench.schedule` (locks, records, progress) -> :mod:`~genzoo.bench.engines` (local or
Ray) -> :mod:`~genzoo.bench.execute` (one run: fit, score, files) -> :mod:`~genzoo.bench.store`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .._io import sweep_stale_tmp
from ..errors import UserError
from ..training.compile import COMPILE_CHOICES
from .context import RunContext
from .data import Data
from .engines import choose_engine, open_executor, planned_workers
from .environment import GitState, clean_leftovers, git_state, versions
from .plan import (DEFAULT_OUT, PACK_MODES, Todo, checked_plan, packs, plan_todo, preflight, ready_evaluator,
                   resolve_profile)
from .ray_engine import RayOptions
from .record import RunRecord
from .runspec import RunSpec
from .schedule import Scheduler
from .spec import Benchmark, load_benchmark
from .store import check_writable
from .times import Progress, RunTimes, say
from .tracking.session import WandbSession
from .tracking.summary import log_comparison

# the columns of the summary printed at the end (the records hold every metric)
HEADLINE_METRICS = ("fid", "kid", "precision", "recall", "coverage", "classes_covered", "modes_covered",
                    "high_quality", "mode_kl", "fid_normal_prior")


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


def run_benchmark(benchmark: str | Path | Benchmark, *, profile: str | None = None,
                  models: list[str] | None = None, seeds: list[int] | None = None, device: str = "auto",
                  out: str | Path = DEFAULT_OUT, force: bool = False, wandb: bool = True,
                  wandb_project: str | None = None, quiet: bool = False,
                  comparison: bool | None = None, pack: str = "auto", engine: str = "local",
                  ray: RayOptions | None = None, specs: list[RunSpec] | None = None,
                  data_dir: str | Path | None = None, compile: str = "auto",
                  deadline: float | None = None) -> BenchResult:
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
    their records as they finish. Either way each run is :func:`~genzoo.bench.execute.execute_run`,
    recorded by :func:`~genzoo.bench.store.commit_run`.

    ``specs``: the runs to do instead of the profile's plan (``genzoo sweep``'s trials).

    ``data_dir``: the folder the dataset's files are read from (its loader's ``data_dir=``, for every
    split, and for training the evaluator that scores it on first use); a dataset whose loader
    takes no ``data_dir`` (generated data) refuses it in one line. Not part of any run's plan.

    ``compile``: whether each run's updates are compiled (``fit(compile=True)``,
    :mod:`genzoo.training.compile`): "on", "off", or "auto" (on a CUDA device, for fits of at least
    :data:`~genzoo.training.compile.COMPILE_MIN_STEPS` steps); each record's ``train.compile``
    says what was asked and done. Not part of any run's plan (compiled and eager runs compute the
    same up to float rounding).

    ``deadline``: a ``time.monotonic()`` after which no run is started; runs left then end the
    bench with :class:`~genzoo.errors.BudgetSpent` (the finished records are kept: the same call
    resumes)."""
    bench = benchmark if isinstance(benchmark, Benchmark) else load_benchmark(benchmark)
    if pack not in PACK_MODES:
        raise UserError(f"pack must be one of {', '.join(PACK_MODES)}, got {pack!r}")
    if compile not in COMPILE_CHOICES:
        raise UserError(f"compile must be one of {', '.join(COMPILE_CHOICES)}, got {compile!r}")
    ray, dev = choose_engine(engine, ray, device)
    profile, profile_why = resolve_profile(bench, profile, dev)
    specs = checked_plan(bench, profile, models, seeds, specs)
    runs_dir = Path(out) / bench.name / "runs"
    check_writable(runs_dir)
    sweep_stale_tmp(runs_dir)
    clean_leftovers(lambda line: say(line, quiet))
    plan = plan_todo(runs_dir, specs, force)
    data = Data(bench, data_dir)
    preflight(bench, plan.todo, data)                  # every input error before any run starts
    ready_evaluator(bench, plan.todo, data, progress=not quiet)   # trained here once, not in each run
    bench_run = _BenchRun(bench, BenchResult(bench.name, profile, runs_dir.parent, [], resumed=plan.resumed),
                          plan, data, RunTimes.read(bench, dev), dev, quiet, compile=compile, deadline=deadline)
    workers = planned_workers(engine)
    eta = bench_run.times.plan_line(plan.todo, workers) if workers else ""
    say(f"genzoo bench {bench.name}: profile {profile} ({profile_why}), {len(specs)} runs "
        f"({len(plan.resumed)} already done, {len(plan.todo)} to do) on {dev} -> {runs_dir.parent}"
        + (f"; {eta}" if eta else ""), quiet)
    session = bench_run.run(engine=engine, ray=ray, packed=packs(pack, dev), wandb=wandb,
                            wandb_project=wandb_project, comparison=comparison)
    if not quiet:
        print_summary(bench_run.result, session)
    return bench_run.result


@dataclass
class _BenchRun:
    """One benchmark invocation, planned: its runs (done and to do), data, times and result."""

    bench: Benchmark
    result: BenchResult
    plan: Todo
    data: Data
    times: RunTimes
    device: str
    quiet: bool
    compile: str = "auto"
    deadline: float | None = None

    def run(self, *, engine: str, ray: RayOptions | None, packed: bool, wandb: bool, wandb_project: str | None,
            comparison: bool | None) -> WandbSession | None:
        """Open W&B (when there is something to log), do the runs to do with the engine, and log
        the comparison; ``result.records`` then holds every planned run's record. Returns the
        (closed) W&B session."""
        plan, result = self.plan, self.result
        git = git_state() if plan.todo or comparison else GitState()
        session = _open_session(result, git, wandb, wandb_project, self.quiet) if plan.todo or comparison else None
        try:
            if plan.todo:
                ctx = RunContext(device=self.device, data=self.data, session=session, versions=versions(), git=git,
                                 quiet=self.quiet, compile=self.compile)
                scheduler = Scheduler(self.bench.name, result.out_dir / "runs", plan, Progress(plan.todo, self.times),
                                      packed=packed, quiet=self.quiet, executed=result.executed,
                                      by_others=result.by_others, deadline=self.deadline)
                with open_executor(engine, ctx, plan.todo, ray) as executor:
                    scheduler.run(executor)
            result.records = plan.ordered()
            if (bool(result.executed) if comparison is None else comparison) and session is not None \
                    and session.enabled:
                log_comparison(session, self.bench, result.profile, result.records)
        finally:
            if session is not None:
                session.close()
                result.wandb_mode = session.mode
                result.wandb_dirs = list(session.run_dirs)
                result.warnings = list(session.warnings)
        return session


def _open_session(result: BenchResult, git: GitState, wandb: bool, project: str | None, quiet: bool) -> WandbSession:
    """The bench's W&B session (its line says where the runs go, when W&B is on)."""
    session = WandbSession(project=project, group=result.benchmark, root=result.out_dir, enabled=wandb,
                           git_root=git.root)
    if session.enabled:
        say(f"W&B: {session.mode} ({session.why}); project {session.project!r}, group {result.benchmark!r}, "
            f"folder {session.wandb_dir}", quiet)
    result.wandb_mode = session.mode
    return session


def print_summary(result: BenchResult, session: WandbSession | None) -> None:
    """The end of a bench: its runs' table (the headline metrics), why the runs not ok are not,
    and where offline W&B runs wait to be synced."""
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
