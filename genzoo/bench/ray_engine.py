"""``genzoo bench --engine ray``: the runs of a benchmark as Ray tasks, on one machine or a cluster.

Each run (or each group of seeds trained together, ``--pack``) is one Ray task that calls the same
pure function as the local engine (:func:`genzoo.bench.runner.execute_run`) and returns the run's
record and files as bytes; only this process, the driver, writes the results folder
(:func:`genzoo.bench.runner.commit_run`), so resuming, fingerprints, conflict checks and run locks
work as with ``--engine local``. Results are taken with ``ray.wait`` as they finish: each record is
written, and the progress bar moves, while the other runs go on.

- Resources: a task asks for ``num_cpus`` = ``--cpus-per-run`` (and uses as many torch threads)
  and ``num_gpus`` = ``--gpus-per-run`` (fractional: 0.125 puts 8 runs on a GPU). Ray reuses its
  worker processes between tasks.
- Failures: a worker or node that dies has its task retried on another (``max_retries``); a Python
  error raised by a run is never retried (``retry_exceptions=False``): a failure of the run itself
  is already in its record (status ``failed``), any other error is recorded as that run's
  failure, and a failure of the machine (:class:`genzoo.errors.EnvironmentFailure`: the data, the
  disk, the GPU) records nothing for the run, as with the local engine, while the others go on.
- The training and reference data are loaded once by the driver and put in the object store once.
- Ctrl-C cancels the tasks not yet finished; every record already written stays.
- A local instance the driver started is shut down when it ends; a driver killed with -9 leaves
  the instance's dashboard and runtime-env agents running, and the next bench stops them and says
  so (:func:`clean_dead_instances`: only instances recorded by genzoo drivers that are gone).
- Time: the start line gives the wall time the runs should take with as many at once as the
  cluster holds (:func:`runs_at_once`), and the progress lines the time left, both from the
  reference records (:class:`genzoo.bench.runner.RunTimes`, as the local engine does).
- W&B: the workers log nothing (a worker on another machine could not leave its offline folder
  where the driver finds it); the driver logs each finished run to W&B from its record and files,
  as ``genzoo wandb`` does (curves from the history, final sample grids, metrics), without the
  sample grids the local engine logs during training.

Ray is optional: ``pip install 'genzoo[ray]'``.
"""

from __future__ import annotations

import os
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import EnvironmentFailure, UserError
from . import artifacts
from .locks import RunLock
from .record import RunRecord, read_record
from .runner import (EVAL_SEED_OFFSET, RunOutput, _Context, commit_run, done_line,
                     fit_together, now_iso, pack_groups, plan_entry, versions)
from .spec import RunSpec

INSTALL = "pip install 'genzoo[ray]'"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
AUTO_GPU_SHARE = 1 / 16     # --gpus-per-run auto on a CUDA device: 16 runs per GPU
POLL_S = 0.5                # the driver's wait for finished tasks, between two looks at Ctrl-C


def import_ray():
    """The ``ray`` module, or a one-line :class:`UserError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UserError(f"--engine ray needs Ray, which is not installed here: {INSTALL}") from None
    return ray


@dataclass(frozen=True)
class RayOptions:
    """How the runs are placed on Ray."""

    address: str | None = None          # a cluster's address; None: RAY_ADDRESS, else a local instance
    gpus_per_run: float | None = None   # None (auto): AUTO_GPU_SHARE on a CUDA device, else 0
    cpus_per_run: float = 1.0
    max_retries: int = 3                # tasks of a dead worker or node are retried this often
    task_hook: Callable | None = None   # called in the worker with a task's run ids before it runs

    def gpus(self, device: str) -> float:
        if self.gpus_per_run is not None:
            return float(self.gpus_per_run)
        return AUTO_GPU_SHARE if device.startswith("cuda") else 0.0

    def device(self, device: str) -> str:
        """The device the runs use: cuda when they get a share of a GPU (Ray sets which one)."""
        return "cuda" if self.gpus(device) > 0 else device

    def check(self) -> None:
        if self.gpus_per_run is not None and not 0 <= self.gpus_per_run <= 64:
            raise UserError(f"--gpus-per-run must be between 0 and 64, got {self.gpus_per_run}")
        if not self.cpus_per_run > 0:
            raise UserError(f"--cpus-per-run must be above 0, got {self.cpus_per_run}")
        if self.max_retries < 0:
            raise UserError(f"max_retries must be >= 0, got {self.max_retries}")


def connect(options: RayOptions) -> bool:
    """Start or join Ray unless this process already has; returns whether it did (and should
    call ``ray.shutdown``: the end of a local instance it started, the driver's leaving a cluster). Without an address: RAY_ADDRESS, else the cluster ``ray start`` started on this
    machine, else a new local instance sized to the machine (its CPUs and GPUs)."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    address = options.address or os.environ.get("RAY_ADDRESS") or None
    if address is None:
        # the cluster `ray start` last started here, if its file says so: Ray would wait for ever
        # on one that has gone since, so a local instance is started instead
        recorded = _recorded_cluster()
        if recorded is not None and not _answers(recorded):
            address = "local"
    elif not _answers(address):
        raise UserError(f"no Ray cluster answers at {address} (is `ray start --head` running there, and is "
                        f"its port open to this machine?)")
    try:
        ray.init(address=address, logging_level="ERROR", log_to_driver=False, include_dashboard=False)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        hint = ("" if os.environ.get("RAY_AUTH_MODE") else
                "; if the cluster uses token authentication (the default of `ray start` since Ray 2.59), "
                "set RAY_AUTH_MODE=token and give this machine its token (`ray get-auth-token` on the head)")
        raise UserError(f"cannot connect to Ray at {address or 'a local instance'}: "
                        f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}{hint}") from None
    return True


def _recorded_cluster() -> str | None:
    """The address of the cluster ``ray start`` last started on this machine (None: none)."""
    try:
        from ray._private.services import canonicalize_bootstrap_address
        return canonicalize_bootstrap_address(None)
    except Exception:                   # not in this Ray version, or nothing recorded
        return None


def _answers(address: str, timeout: float = 5.0) -> bool:
    """Whether something listens at a ``host:port`` address (anything else, e.g. ``local``,
    ``auto`` or ``ray://...``, is left to Ray)."""
    import socket

    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "/" in host:
        return True
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout).close()
    except OSError:
        return False
    return True


def _run_task(specs: list[RunSpec], data, device: str, git: tuple, pack: bool, threads: int,
              hook: Callable | None) -> list[RunOutput]:
    """A Ray task: the runs of ``specs`` (one, or seeds trained together), done in the worker with
    nothing written outside its scratch folders and W&B off."""
    import torch

    from .tracking import WandbSession

    if hook is not None:
        hook([s.run_id for s in specs])
    torch.set_num_threads(threads)
    ctx = _Context(bench=data.bench, device=device, runs_dir=Path("."), data=data,
                   session=WandbSession(project=None, group=data.bench.name, root=Path("."), enabled=False),
                   versions=versions(), git=git, quiet=True)
    fitted = fit_together(specs, ctx) if pack and len(specs) > 1 else {}
    from .runner import execute_run

    return [execute_run(spec, ctx, fitted=fitted.pop(spec.run_id, None), engine="ray") for spec in specs]


def failed_record(spec: RunSpec, reason: str, device: str, git: tuple) -> RunRecord:
    """The record of a run whose task raised (not a failure it recorded itself)."""
    commit, dirty, _ = git
    return RunRecord(benchmark=spec.benchmark, model=spec.model, dataset=spec.dataset, seed=spec.seed,
                     profile=spec.profile, status="failed", reason=reason, versions=versions(),
                     git_commit=commit, git_dirty=dirty, device=device, wall_time_s=0.0,
                     throughput={"train_items_per_s": None, "sample_items_per_s": None},
                     notes=["traceback in error.txt"], created=now_iso(), run_id=spec.run_id,
                     plan=plan_entry(spec), train={"sample_seed": EVAL_SEED_OFFSET + spec.seed}, engine="ray",
                     sweep=spec.sweep)


def run_todo_ray(state, options: RayOptions, pack: bool) -> None:
    """Do the runs of ``state.todo`` (a :class:`genzoo.bench.runner.BenchState`) as Ray tasks (the
    driver's half: locks, submission, records, W&B); those another process holds are waited for,
    then taken or done."""
    from tqdm.auto import tqdm

    ray = import_ray()
    started = connect(options)
    driver = _RayDriver(state, options, pack, ray, started)
    driver.bar = tqdm(total=len(state.todo), desc=f"bench {state.bench.name} (ray)", unit="run",
                      disable=True if state.quiet else None)
    try:
        if started:
            driver.instance = InstanceFile.record(ray)
        driver.start()
        busy, mine = [], []
        for spec in state.todo:
            if driver.take(spec, wait=False):
                mine.append(spec)
            elif spec.run_id not in state.records:
                busy.append(spec)
        driver.run(mine)
        for spec in busy:
            state.say(f"{spec.run_id}: being done by another process (pid {RunLock(state.runs_dir, spec.run_id).holder()}); "
                      f"waiting for it")
        driver.run([spec for spec in busy if driver.take(spec, wait=True)])
    finally:
        driver.close()
    if driver.lost:
        raise UserError(f"{'; '.join(driver.lost)}. Nothing was recorded for {'it' if len(driver.lost) == 1 else 'them'} "
                        f"(traceback in error.txt); the {len(state.records)} finished records are kept. Fix the problem "
                        f"and run the same command again to resume")


class _RayDriver:
    """The driver's side of one bench on Ray: the run locks it holds, the task, the progress."""

    def __init__(self, state, options: RayOptions, pack: bool, ray, started: bool):
        self.state, self.options, self.pack, self.ray, self.started = state, options, pack, ray, started
        self.gpus = options.gpus(state.device)
        self.threads = max(1, int(options.cpus_per_run))
        self.task = ray.remote(_run_task).options(num_cpus=options.cpus_per_run, num_gpus=self.gpus,
                                                  max_retries=options.max_retries, retry_exceptions=False)
        self.held: dict[str, RunLock] = {}
        self.lost: list[str] = []
        self.data_ref = None
        self.bar = None
        self.instance = None

    def start(self) -> None:
        """Check the cluster has room for a run; say what it is and how long the runs should take."""
        ray, state = self.ray, self.state
        res = ray.cluster_resources()
        _check_room(ray, self.options.cpus_per_run, self.gpus)
        nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
        workers = runs_at_once(nodes, self.options.cpus_per_run, self.gpus, len(state.todo))
        state.progress.workers = workers
        eta = state.progress.times.plan_line(state.todo, workers)
        state.say(f"Ray at {ray.get_runtime_context().gcs_address}: {int(res.get('CPU', 0))} CPUs and "
                  f"{res.get('GPU', 0):g} GPUs in {len(nodes)} node(s); {self.options.cpus_per_run:g} CPU and "
                  f"{self.gpus:g} GPU per run, {workers} at once" + (f"; {eta}" if eta else ""))

    def finished(self, line: str) -> None:
        self.bar.update(1)
        self.state.say(line)

    def take(self, spec: RunSpec, wait: bool) -> bool:
        """Whether this process is to do the run: it holds its lock and no other process has
        recorded it since the plan was made (then its record is taken)."""
        state = self.state
        lock = RunLock(state.runs_dir, spec.run_id)
        if not lock.acquire(wait=wait):
            return False
        rec = read_record(state.runs_dir / spec.run_id)
        if state.recorded_since(rec, spec):
            lock.release()
            self.finished(state.take_other(spec, rec))
            return False
        self.held[spec.run_id] = lock
        return True

    def groups(self, mine: list[RunSpec]) -> list[list[RunSpec]]:
        """The tasks: one run each, or (packing) the seeds of one plan together."""
        together = pack_groups(mine) if self.pack else {}
        groups, seen = [], set()
        for spec in mine:
            if spec.run_id not in seen:
                group = [s for s in together.get(spec.run_id, [spec]) if s in mine]
                seen.update(s.run_id for s in group)
                groups.append(group)
        return groups

    def run(self, mine: list[RunSpec]) -> None:
        if not mine:
            return
        ray, state = self.ray, self.state
        if self.data_ref is None:
            self.data_ref = ray.put(state.data.only(state.todo))      # the data, once for every task
        refs = {self.task.remote(g, self.data_ref, state.device, state.git, self.pack, self.threads,
                                 self.options.task_hook): g for g in self.groups(mine)}
        state.say(f"{len(mine)} runs submitted as {len(refs)} Ray tasks")
        try:
            while refs:
                # waited for in short slices: a Ctrl-C's KeyboardInterrupt is raised between two of
                # them, without relying on Ray's wait to look at signals
                ready, _ = ray.wait(list(refs), num_returns=1, timeout=POLL_S)
                for ref in ready:
                    self.collected(ref, refs.pop(ref))
        except KeyboardInterrupt:
            for ref in refs:                 # the tasks not finished; every record written stays
                ray.cancel(ref)
            raise

    def collected(self, ref, group: list[RunSpec]) -> None:
        """A finished task: its records written, logged and reported; its runs' locks let go."""
        state = self.state
        for rec in _collect(self.ray, ref, group, state.runs_dir, state.device, state.git, self.lost):
            state.records[rec.run_id] = rec = _log_wandb(state.session, state.runs_dir, rec, state.data)
            state.result.executed.append(rec.run_id)
            self.finished(state.progress.line(rec.run_id, done_line(rec), rec))
        for spec in group:
            self.held.pop(spec.run_id).release()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        for lock in self.held.values():
            lock.release()
        if self.started:
            self.ray.shutdown()
            if self.instance is not None:
                self.instance.remove()


def runs_at_once(nodes: list[dict], cpus: float, gpus: float, tasks: int) -> int:
    """How many runs the alive nodes (their ``Resources``) hold at once, at most ``tasks``."""
    room = 0
    for r in nodes:
        fits = [int(r.get("CPU", 0) / cpus + 1e-9)] if cpus > 0 else []
        fits += [int(r.get("GPU", 0) / gpus + 1e-9)] if gpus > 0 else []
        room += min(fits) if fits else tasks
    return max(1, min(room, tasks))


def _check_room(ray, cpus: float, gpus: float) -> None:
    """A one-line error, rather than tasks that wait for ever, when no node of the cluster has
    the CPUs and GPUs a run asks for."""
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    if any(r.get("CPU", 0) >= cpus and r.get("GPU", 0) >= gpus for r in nodes):
        return
    most = max(((r.get("CPU", 0), r.get("GPU", 0)) for r in nodes), default=(0, 0))
    raise UserError(f"no node of the Ray cluster has the {cpus:g} CPUs and {gpus:g} GPUs a run asks for (the "
                    f"largest has {most[0]:g} CPUs and {most[1]:g} GPUs); lower --cpus-per-run or --gpus-per-run"
                    + (", or run on the CPU (--device cpu)" if gpus and not most[1] else ""))


def _collect(ray, ref, group: list[RunSpec], runs_dir: Path, dev: str, git: tuple,
             lost: list[str]) -> list[RunRecord]:
    """The records of a finished task, written into the results folder."""
    try:
        outputs = ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause if getattr(exc, "cause", None) is not None else exc
        story = "Traceback (most recent call last), in a Ray worker:\n" + \
            _ANSI.sub("", getattr(exc, "traceback_str", None) or str(exc))
        if isinstance(cause, EnvironmentFailure):     # the machine's fault: no record, as the local engine
            for spec in group:
                _write_error(runs_dir, spec, story)
                lost.append(f"{spec.run_id}: {cause}")
            return []
        reason = f"{type(cause).__name__}: {cause}".splitlines()[0]
        out = []
        for spec in group:
            out.append(commit_run(runs_dir, RunOutput(failed_record(spec, reason, dev, git),
                                                      {"error.txt": story.encode()})))
        return out
    except ray.exceptions.TaskCancelledError:
        raise KeyboardInterrupt from None
    except ray.exceptions.RayError as exc:            # a worker or node died more often than it is retried
        story = "".join(traceback.format_exception(exc))
        for spec in group:
            _write_error(runs_dir, spec, story)
            lost.append(f"{spec.run_id}: its Ray worker was lost ({type(exc).__name__})")
        return []
    return [commit_run(runs_dir, output) for output in outputs]


def _write_error(runs_dir: Path, spec: RunSpec, story: str) -> None:
    try:
        artifacts.write_bytes(runs_dir / spec.run_id / "error.txt", story.encode())
    except OSError:
        pass


def _log_wandb(session, runs_dir: Path, rec: RunRecord, data) -> RunRecord:
    """The driver logs a finished run to W&B from its record (nothing when W&B is off)."""
    if session is None or not session.enabled:
        return rec
    from .replay import log_record, needs_logging

    if not needs_logging(rec, runs_dir.parent):
        return rec
    try:
        return log_record(session, runs_dir / rec.run_id, rec, data)
    except UserError as exc:       # W&B could not start: the record stays as it is, as with the local engine
        session.warnings.append(str(exc))
        return rec


# ------------------------------------------------- local Ray instances of drivers killed with -9
#
# ray.init() without a cluster starts a local instance whose GCS server and raylet die with the
# driver (Ray sets PR_SET_PDEATHSIG on them), but the raylet's own children, the dashboard and
# runtime-env agents, outlive it (measured with Ray 2.60: still there minutes after a kill -9).
# So the driver records the instance it started in a small file (genzoo's cache, ray-drivers/),
# removed when it shuts the instance down; the next bench finds the files of drivers that are
# gone and stops the processes still working for their sessions: those with a file open in the
# session's folder that are Ray's (a raylet, GCS server, ``ray::`` process or a script of the
# ray package). Nothing else is touched: not an instance `ray start` started, not one a live
# driver uses, not another user's process.

INSTANCES_DIR = "ray-drivers"
STOP_GRACE_S = 5.0           # SIGTERM, then SIGKILL for what is still there after this
STOP_DEADLINE_S = 60.0       # the longest a cleanup waits for the processes to go


def _instances_dir() -> Path:
    from ..data.fashion import cache_root

    return cache_root() / INSTANCES_DIR


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks since boot) of a process; None when there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = stat.rsplit(")", 1)[1].split()          # from field 3 (state) on
    return fields[0], int(fields[19])


def _running(pid: int, start: int | None = None) -> bool:
    """Whether ``pid`` runs (a zombie does not), and is the process that started at ``start``."""
    stat = _proc_stat(pid)
    return stat is not None and stat[0] not in ("Z", "X") and (start is None or stat[1] == start)


@dataclass(frozen=True)
class InstanceFile:
    """The record of a local Ray instance a genzoo driver started: its pid and session folder."""

    path: Path
    driver_pid: int
    driver_start: int | None
    session_dir: str

    @classmethod
    def record(cls, ray, folder: Path | None = None) -> "InstanceFile | None":
        """Record the instance this process started (None: it joined one, or no /proc to tell)."""
        node = getattr(ray._private.worker, "_global_node", None)
        stat = _proc_stat(os.getpid())
        if node is None or not getattr(node, "all_processes", None) or stat is None:
            return None
        from .._io import write_text
        import json

        pid, session = os.getpid(), os.path.realpath(node.get_session_dir_path())
        path = Path(folder or _instances_dir()) / f"driver-{pid}.json"
        try:
            write_text(path, json.dumps({"driver_pid": pid, "driver_start": stat[1], "session_dir": session,
                                         "started": sorted(p.process.pid for ps in node.all_processes.values()
                                                           for p in ps if getattr(p, "process", None))}) + "\n")
        except OSError:                  # genzoo's cache cannot be written: the bench goes on without it
            return None
        return cls(path, pid, stat[1], session)

    @classmethod
    def all(cls, folder: Path | None = None) -> list["InstanceFile"]:
        import json

        out = []
        for path in sorted(Path(folder or _instances_dir()).glob("driver-*.json")):
            try:
                raw = json.loads(path.read_text())
                out.append(cls(path, int(raw["driver_pid"]), raw.get("driver_start"), str(raw["session_dir"])))
            except (OSError, ValueError, KeyError, TypeError):
                continue                 # being written, or not ours: left alone
        return out

    def driver_alive(self) -> bool:
        return _running(self.driver_pid, self.driver_start)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def _is_ray(argv: list[str]) -> bool:
    """Whether a command line is one of Ray's processes."""
    if not argv:
        return False
    name = os.path.basename(argv[0])
    return argv[0].startswith("ray::") or name in ("raylet", "gcs_server") or \
        any(f"{os.sep}ray{os.sep}" in a and a.endswith(".py") for a in argv[1:3])


def _open_in(pid: int, folder: str) -> bool:
    """Whether process ``pid`` has its working folder or a file open in ``folder``."""
    prefix = folder.rstrip(os.sep) + os.sep
    base = Path(f"/proc/{pid}")
    try:
        links = [base / "cwd", *(base / "fd").iterdir()]
    except OSError:                      # gone, or another user's
        return False
    for link in links:
        try:
            if os.readlink(link).startswith(prefix):
                return True
        except OSError:
            continue
    return False


def session_processes(session_dir: str) -> dict[int, int]:
    """pid -> start time of the running Ray processes of the instance whose session folder is
    ``session_dir`` (this process excluded)."""
    out = {}
    for entry in Path("/proc").glob("[0-9]*"):
        pid = int(entry.name)
        if pid == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        stat = _proc_stat(pid)
        if stat is None or stat[0] in ("Z", "X") or not _is_ray([a for a in argv if a] or [""]):
            continue
        if _open_in(pid, session_dir):
            out[pid] = stat[1]
    return out


def _signal(procs: dict[int, int], sig) -> None:
    for pid, start in procs.items():
        if _running(pid, start):                 # never a pid that now names another process
            try:
                os.kill(pid, sig)
            except OSError:
                pass


def _stop(procs: dict[int, int], deadline_s: float = STOP_DEADLINE_S) -> list[int]:
    """SIGTERM the processes (pid -> start time), SIGKILL those still there after STOP_GRACE_S;
    returns those that did not go by the deadline."""
    import signal
    import time

    t0 = time.monotonic()
    _signal(procs, signal.SIGTERM)
    killed = False
    while True:
        left = {p: s for p, s in procs.items() if _running(p, s)}
        waited = time.monotonic() - t0
        if not left or waited > deadline_s:
            return sorted(left)
        if not killed and waited > STOP_GRACE_S:
            _signal(left, signal.SIGKILL)
            killed = True
        time.sleep(0.05)


def clean_dead_instances(folder: Path | None = None) -> list[str]:
    """Stop the processes left by the local Ray instances of genzoo drivers that are gone (a
    ``kill -9``), and remove their files; one line each for what was stopped."""
    if not Path("/proc/self/stat").exists():
        return []
    lines = []
    for inst in InstanceFile.all(folder):
        if inst.driver_alive():
            continue
        procs = session_processes(inst.session_dir)
        left = _stop(procs) if procs else []
        if not left:
            inst.remove()
        if procs:
            lines.append(f"stopped {len(procs) - len(left)} of {len(procs)} processes left by the local Ray instance "
                         f"of a killed genzoo bench (driver pid {inst.driver_pid}, {inst.session_dir})"
                         + (f"; still running: {', '.join(map(str, left))}" if left else ""))
    return lines
