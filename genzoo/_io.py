"""Atomic file writes, the one implementation every genzoo module uses (run artifacts, model
folders, reports, caches).

A file is written to a temporary file beside it, then renamed over it with ``os.replace``, so a
reader sees the old file, the new one, or none, never half of one. The temporary file is named
``.<name>.<pid>.<random>.tmp`` and gets the permissions an ordinary ``open`` would give it
(``0666`` less the umask; ``mkstemp``'s ``0600`` would make results unreadable to a group).

A clean exit, an exception or Ctrl-C removes the temporary file; a ``kill -9`` cannot, so
:func:`sweep_stale_tmp` removes the temporary files of processes that no longer run (the pid in
the name tells), and the writers call it on the folders they write. The same holds for the private
scratch folders of :func:`scratch_dir` (``$TMPDIR/genzoo-<tag>-pid<pid>-XXXXXXXX``), which
:func:`sweep_stale_scratch` removes once their process has gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path

_TMP = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$")
_SCRATCH = re.compile(r"^genzoo-.+-pid(\d+)-[a-z0-9_]{8}$")    # tempfile.mkdtemp's 8 random characters


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()


def _new_beside(path: str | os.PathLike, make) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            make(tmp)
        except FileExistsError:
            continue
        return tmp


def tmp_path_beside(path: str | os.PathLike) -> Path:
    """A new, empty temporary file beside ``path`` (its folder is created), with normal permissions."""
    return _new_beside(path, lambda tmp: os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)))


def tmp_dir_beside(path: str | os.PathLike) -> Path:
    """A new, empty temporary folder beside ``path``, named as :func:`tmp_path_beside` names files."""
    return _new_beside(path, lambda tmp: tmp.mkdir())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yields a temporary path beside ``path``; on a clean exit it replaces ``path``, on an
    exception it is removed."""
    path = Path(path)
    tmp = tmp_path_beside(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike, data: bytes, *, fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8, newlines as they are) to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (ours always does; another user's counts as running)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):   # it exists (another user's) or we cannot tell: keep its file
        return True
    return True


def sweep_stale_tmp(folder: str | os.PathLike, *, recursive: bool = False) -> list[Path]:
    """Remove the temporary files (and folders) that a killed writer left in ``folder``: those
    named by :func:`tmp_path_beside` whose process no longer runs. Returns what was removed."""
    import shutil

    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for p in (folder.rglob(".*.tmp") if recursive else folder.glob(".*.tmp")):
        m = _TMP.match(p.name)
        if m is None or pid_alive(int(m.group(1))):
            continue
        try:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
        except FileNotFoundError:
            pass
    return removed


def scratch_dir(tag: str) -> Path:
    """A new private folder in the temporary folder (``$TMPDIR``), named
    ``genzoo-<tag>-pid<pid>-XXXXXXXX`` so that :func:`sweep_stale_scratch` can tell its owner."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix=f"genzoo-{tag}-pid{os.getpid()}-"))


def sweep_stale_scratch(folder: str | os.PathLike | None = None) -> list[Path]:
    """Remove the folders of :func:`scratch_dir` in ``folder`` (default: the temporary folder)
    whose process no longer runs (a ``kill -9`` leaves them), and only those. Returns what was
    removed."""
    import shutil
    import tempfile

    folder = Path(tempfile.gettempdir() if folder is None else folder)
    try:
        entries = list(folder.glob("genzoo-*-pid*-*"))
    except OSError:
        return []
    removed = []
    for p in entries:
        m = _SCRATCH.match(p.name)
        if m is None or pid_alive(int(m.group(1))) or p.is_symlink() or not p.is_dir():
            continue
        shutil.rmtree(p, ignore_errors=True)
        if not p.exists():
            removed.append(p)
    return removed
