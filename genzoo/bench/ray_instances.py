"""The local Ray instances of genzoo drivers killed with ``kill -9``, found and stopped.

ray.init() without a cluster starts a local instance whose GCS server and raylet die with the
driver (Ray sets PR_SET_PDEATHSIG on them), but the raylet's own children, the dashboard and
runtime-env agents, outlive it (measured with Ray 2.60: still there minutes after a kill -9).
So the driver records the instance it started in a small file (genzoo's cache, ray-drivers/),
removed when it shuts the instance down; the next bench finds the files of drivers that are
gone and stops the processes still working for their sessions: those with a file open in the
session's folder that are Ray's (a raylet, GCS server, ``ray::`` process or a script of the
ray package). Nothing else is touched: not an instance `ray start` started, not one a live
driver uses, not another user's process.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from .._io import write_text
from ..data import cache_root

INSTANCES_DIR = "ray-drivers"
STOP_GRACE_S = 5.0           # SIGTERM, then SIGKILL for what is still there after this
STOP_DEADLINE_S = 60.0       # the longest a cleanup waits for the processes to go


def _instances_dir() -> Path:
    return cache_root() / INSTANCES_DIR


def proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks since boot) of a process; None when there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = stat.rsplit(")", 1)[1].split()          # from field 3 (state) on
    return fields[0], int(fields[19])


def _running(pid: int, start: int | None = None) -> bool:
    """Whether ``pid`` runs (a zombie does not), and is the process that started at ``start``."""
    stat = proc_stat(pid)
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
        stat = proc_stat(os.getpid())
        if node is None or not getattr(node, "all_processes", None) or stat is None:
            return None
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
        stat = proc_stat(pid)
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
