"""``genzoo bench --engine ray``: the runs of a benchmark as Ray tasks, on one machine or a cluster.

Each run (or each group of seeds trained together, ``--pack``) is one Ray task that calls the same
pure function as the local engine (:func:`genzoo.bench.execute.execute_group`) and returns the run's
record and files as bytes; only this process, the driver, writes the results folder (the
scheduler, :mod:`genzoo.bench.schedule`, the same for both engines: run locks, resuming,
fingerprints, conflict checks, progress). Results are yielded as the tasks finish (``ray.wait``):
each record is written, and the progress moves, while the other runs go on.

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
- A local instance the driver started is shut down when it ends; one of a driver killed with -9
  is cleaned up by the next bench (:mod:`genzoo.bench.ray_instances`).
- Time: the engine's line gives the wall time the runs should take with as many at once as the
  cluster holds (:func:`runs_at_once`), and the progress lines the time left, both from the
  reference records (:class:`genzoo.bench.times.RunTimes`, as the local engine does).
- W&B: the workers log nothing (a worker on another machine could not leave its offline folder
  where the driver finds it); the driver logs each finished run to W&B from its record and files,
  as ``genzoo wandb`` does (curves from the history, final sample grids, metrics), without the
  sample grids the local engine logs during training.

Ray is optional: ``pip install 'genzoo[ray]'``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import socket
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import torch

from ..errors import DataError, EnvironmentFailure, UserError
from .context import RunContext
from .draft import failed_record
from .execute import Outcome, execute_group
from .ray_instances import InstanceFile
from .record import RunRecord
from .runspec import RunSpec
from .store import RunOutput
from .tracking.replay import log_record, needs_logging

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
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "/" in host:
        return True
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout).close()
    except OSError:
        return False
    return True


def run_task(specs: list[RunSpec], data, shipped: RunContext, hook: Callable | None) -> list[RunOutput]:
    """A Ray task: the runs of ``specs`` (one, or seeds trained together), done in the worker with
    nothing written outside its scratch folders and W&B off."""
    if hook is not None:
        hook([s.run_id for s in specs])
    torch.set_num_threads(shipped.threads)
    ctx = shipped.in_worker(data)
    return [outcome.output for outcome in execute_group(specs, ctx, catch=False)]


class RayEngine:
    """The driver's side of one bench on Ray: the connection, the tasks, the runs' W&B logging."""

    name = "ray"
    workers = None                     # known once the cluster is looked at

    def __init__(self, ctx: RunContext, todo: list[RunSpec], options: RayOptions):
        self.options, self.todo = options, todo
        self.gpus = options.gpus(ctx.device)
        self.threads = max(1, int(options.cpus_per_run))
        self.ctx = dataclasses.replace(ctx, engine="ray", threads=self.threads)
        self.ray = self.task = self.data_ref = self.instance = None
        self.started = False
        self.line = ""

    def __enter__(self) -> "RayEngine":
        try:
            self.ctx = dataclasses.replace(self.ctx, data=self.ctx.data.only(self.todo))
        except DataError as exc:             # the data on disk is missing or damaged
            raise UserError(f"the data could not be loaded: {exc}; nothing was run") from None
        self.ray = import_ray()
        self.started = connect(self.options)
        try:
            if self.started:
                self.instance = InstanceFile.record(self.ray)
            self.task = self.ray.remote(run_task).options(
                num_cpus=self.options.cpus_per_run, num_gpus=self.gpus, max_retries=self.options.max_retries,
                retry_exceptions=False)
            self._look()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _look(self) -> None:
        """Check the cluster has room for a run; the engine's line says what it is."""
        ray, cpus = self.ray, self.options.cpus_per_run
        res = ray.cluster_resources()
        _check_room(ray, cpus, self.gpus)
        nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
        self.workers = runs_at_once(nodes, cpus, self.gpus, len(self.todo))
        self.line = (f"Ray at {ray.get_runtime_context().gcs_address}: {int(res.get('CPU', 0))} CPUs and "
                     f"{res.get('GPU', 0):g} GPUs in {len(nodes)} node(s); {cpus:g} CPU and "
                     f"{self.gpus:g} GPU per run, {self.workers} at once")

    def __exit__(self, *exc) -> None:
        if self.started:
            self.started = False
            self.ray.shutdown()
            if self.instance is not None:
                self.instance.remove()

    def run(self, groups: Iterable[list[RunSpec]], starting) -> Iterator[Outcome]:
        """Every group is taken at once and submitted (the cluster queues what it has no room
        for); the outcomes come as the tasks finish. Ray does not say when a task starts, so
        ``starting`` is not called."""
        groups = list(groups)
        if not groups:
            return
        ray = self.ray
        if self.data_ref is None:
            self.data_ref = ray.put(self.ctx.data)      # the data, once for every task
        shipped = self.ctx.shipped()
        refs = {self.task.remote(g, self.data_ref, shipped, self.options.task_hook): g for g in groups}
        self.ctx.say(f"{sum(map(len, groups))} runs submitted as {len(refs)} Ray tasks")
        try:
            while refs:
                # waited for in short slices: a Ctrl-C's KeyboardInterrupt is raised between two of
                # them, without relying on Ray's wait to look at signals
                ready, _ = ray.wait(list(refs), num_returns=1, timeout=POLL_S)
                for ref in ready:
                    yield from self._outcomes(ref, refs.pop(ref))
        finally:
            for ref in refs:                 # the tasks not finished (Ctrl-C); every record written stays
                ray.cancel(ref)

    def _outcomes(self, ref, group: list[RunSpec]) -> list[Outcome]:
        """The outcomes of a finished task: its runs' outputs, a failed record for each run of a
        task that raised, or nothing recorded when the machine failed or the worker was lost."""
        ray = self.ray
        try:
            outputs = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause if getattr(exc, "cause", None) is not None else exc
            story = "Traceback (most recent call last), in a Ray worker:\n" + \
                _ANSI.sub("", getattr(exc, "traceback_str", None) or str(exc))
            if isinstance(cause, EnvironmentFailure):     # the machine's fault: no record, as the local engine
                return [Outcome(spec, lost=str(cause), story=story) for spec in group]
            reason = f"{type(cause).__name__}: {cause}".splitlines()[0]
            return [Outcome(spec, RunOutput(failed_record(spec, self.ctx, reason), {"error.txt": story.encode()}))
                    for spec in group]
        except ray.exceptions.TaskCancelledError:
            raise KeyboardInterrupt from None
        except ray.exceptions.RayError as exc:            # a worker or node died more often than it is retried
            story = "".join(traceback.format_exception(exc))
            return [Outcome(spec, lost=f"its Ray worker was lost ({type(exc).__name__})", story=story)
                    for spec in group]
        return [Outcome(spec, output) for spec, output in zip(group, outputs)]

    def committed(self, rec: RunRecord, run_dir: Path) -> RunRecord:
        """The driver logs a finished run to W&B from its record (nothing when W&B is off)."""
        session = self.ctx.session
        if session is None or not session.enabled or not needs_logging(rec, Path(run_dir).parent.parent):
            return rec
        try:
            return log_record(session, Path(run_dir), rec, self.ctx.data)
        except UserError as exc:       # W&B could not start: the record stays as it is, as with the local engine
            session.warnings.append(str(exc))
            return rec


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
