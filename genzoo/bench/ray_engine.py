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
- W&B: the workers log nothing (a worker on another machine could not leave its offline folder
  where the driver finds it); the driver logs each finished run to W&B from its record and files,
  as ``genzoo wandb`` does (curves from the history, final sample grids, metrics), without the
  sample grids the local engine logs during training.

Ray is optional: ``pip install 'genzoo[ray]'``.
"""

from __future__ import annotations

import os
import re
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import EnvironmentFailure, UserError
from . import artifacts
from .locks import RunLock
from .record import RunRecord, read_record
from .runner import (EVAL_SEED_OFFSET, RunOutput, _Context, _say, commit_run, conflict_error, done_line,
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


def run_todo_ray(todo: list[RunSpec], records: dict, planned: dict, result, bench, dev: str, runs_dir: Path,
                 session, git: tuple, force: bool, quiet: bool, data, options: RayOptions, pack: bool) -> None:
    """Do the runs of ``todo`` as Ray tasks (the driver's half: locks, submission, records, W&B);
    those another process holds are waited for, then taken or done."""
    from tqdm.auto import tqdm

    ray = import_ray()
    started = connect(options)
    gpus = options.gpus(dev)
    threads = max(1, int(options.cpus_per_run))
    task = ray.remote(_run_task).options(num_cpus=options.cpus_per_run, num_gpus=gpus,
                                         max_retries=options.max_retries, retry_exceptions=False)
    held: dict[str, RunLock] = {}
    lost: list[str] = []
    bar = tqdm(total=len(todo), desc=f"bench {bench.name} (ray)", unit="run", disable=True if quiet else None)
    t_start, done = time.perf_counter(), 0
    data_ref = None

    def finished(line: str) -> None:
        nonlocal done
        done += 1
        bar.update(1)
        if done < len(todo):
            line += f"; about {_fmt((time.perf_counter() - t_start) / done * (len(todo) - done))} to go"
        _say(f"[{done}/{len(todo)}] {line}", quiet)

    def take(spec: RunSpec, wait: bool) -> bool:
        """Whether this process is to do the run: it holds its lock and no other process has
        recorded it since the plan was made (then its record is taken)."""
        lock = RunLock(runs_dir, spec.run_id)
        if not lock.acquire(wait=wait):
            return False
        rec = read_record(runs_dir / spec.run_id)
        if rec is not None and (not force or rec.created != planned.get(spec.run_id)):
            lock.release()
            if rec.fingerprint != spec.fingerprint():
                raise conflict_error(runs_dir, spec, rec)
            records[spec.run_id] = rec
            result.by_others.append(spec.run_id)
            finished(f"{spec.run_id}: {rec.status} (done by another process)")
            return False
        held[spec.run_id] = lock
        return True

    def run(mine: list[RunSpec]) -> None:
        nonlocal data_ref
        if not mine:
            return
        if data_ref is None:
            data_ref = ray.put(data.only(todo))          # the data, once for every task
        together = pack_groups(mine) if pack else {}
        groups, seen = [], set()
        for spec in mine:
            if spec.run_id not in seen:
                group = [s for s in together.get(spec.run_id, [spec]) if s in mine]
                seen.update(s.run_id for s in group)
                groups.append(group)
        refs = {task.remote(g, data_ref, dev, git, pack, threads, options.task_hook): g for g in groups}
        _say(f"{len(mine)} runs submitted as {len(refs)} Ray tasks", quiet)
        try:
            while refs:
                # waited for in short slices: a Ctrl-C's KeyboardInterrupt is raised between two of
                # them, without relying on Ray's wait to look at signals
                ready, _ = ray.wait(list(refs), num_returns=1, timeout=POLL_S)
                for ref in ready:
                    group = refs.pop(ref)
                    for rec in _collect(ray, ref, group, runs_dir, dev, git, lost):
                        records[rec.run_id] = rec = _log_wandb(session, runs_dir, rec, data)
                        result.executed.append(rec.run_id)
                        finished(done_line(rec))
                    for spec in group:
                        held.pop(spec.run_id).release()
        except KeyboardInterrupt:
            for ref in refs:                 # the tasks not finished; every record written stays
                ray.cancel(ref)
            raise

    try:
        res = ray.cluster_resources()
        _check_room(ray, options.cpus_per_run, gpus)
        _say(f"Ray at {ray.get_runtime_context().gcs_address}: {int(res.get('CPU', 0))} CPUs and {res.get('GPU', 0):g} GPUs in "
             f"{sum(1 for n in ray.nodes() if n.get('Alive'))} node(s); {options.cpus_per_run:g} CPU and "
             f"{gpus:g} GPU per run", quiet)
        busy = []
        mine = []
        for spec in todo:
            if take(spec, wait=False):
                mine.append(spec)
            elif spec.run_id not in records:
                busy.append(spec)
        run(mine)
        for spec in busy:
            _say(f"{spec.run_id}: being done by another process (pid {RunLock(runs_dir, spec.run_id).holder()}); "
                 f"waiting for it", quiet)
        run([spec for spec in busy if take(spec, wait=True)])
    finally:
        bar.close()
        for lock in held.values():
            lock.release()
        if started:
            ray.shutdown()
    if lost:
        raise UserError(f"{'; '.join(lost)}. Nothing was recorded for {'it' if len(lost) == 1 else 'them'} "
                        f"(traceback in error.txt); the {len(records)} finished records are kept. Fix the problem "
                        f"and run the same command again to resume")


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


def _fmt(s: float) -> str:
    from .runner import _fmt_s

    return _fmt_s(s)


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
