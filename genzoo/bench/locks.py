"""One lock per run, so that several ``genzoo bench`` processes can share a results folder.

A run is done only by the process that holds its lock, ``runs/.<run_id>.lock`` (an advisory
``flock`` on that file; the operating system drops it when the process ends, however it ends, so a
``kill -9`` leaves no stale lock). A process that finds a run locked does its other runs first,
then waits for the lock and takes the record the holder wrote (or does the run itself, when the
holder died before recording it). Two benches started on one folder therefore split its runs
between them, none is done twice, and each reports all of them.
"""

from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; runs are not shared between processes
    fcntl = None


_HELD: dict[str, list] = {}     # lock file -> [fd, holders]: a lock this process holds is re-entered


class RunLock:
    """The lock of one run folder; ``acquire(wait=False)`` returns whether it was taken. Within
    one process the lock is re-entrant (a caller holding it can run the bench that takes it)."""

    def __init__(self, runs_dir: Path, run_id: str):
        self.path = Path(runs_dir) / f".{run_id}.lock"
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, wait: bool = False) -> bool:
        if self._fd is not None:
            return True
        key = os.path.abspath(self.path)
        if key in _HELD:
            _HELD[key][1] += 1
            self._fd = _HELD[key][0]
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                os.close(fd)
                return False
            except BaseException:
                os.close(fd)
                raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        _HELD[key] = [fd, 1]
        return True

    def holder(self) -> str:
        """The pid written by the process holding the lock (best effort, for messages)."""
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    def busy(self) -> bool:
        """Whether another process holds this lock now (a run being done), without taking it."""
        if fcntl is None or not self.path.is_file():
            return False
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)           # also drops the shared lock, if it was taken
        return False

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        key = os.path.abspath(self.path)
        entry = _HELD.get(key)
        if entry is not None:
            entry[1] -= 1
            if entry[1] > 0:
                return
            del _HELD[key]
        os.close(fd)               # closing the descriptor drops the flock

    def __enter__(self) -> "RunLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()
