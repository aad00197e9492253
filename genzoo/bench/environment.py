"""The machine a bench runs on: its device, the versions and git state a record names, what killed
benches left behind, and whether an error is the machine's failure rather than the run's."""

from __future__ import annotations

import datetime as _dt
import functools
import os
import platform
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

import torch

import genzoo

from .._io import sweep_stale_scratch
from ..errors import DataError, EnvironmentFailure, UserError
from ..models.base import resolve_device as models_resolve_device
from .ray_instances import clean_dead_instances


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` when CUDA is present, else ``cpu``; anything else is checked."""
    try:
        return str(models_resolve_device(device or "auto"))
    except ValueError as exc:
        raise UserError(str(exc)) from None


VECTOR_FLAGS = ("avx512f", "avx512_bf16", "amx_tile", "avx2", "fma", "avx", "neon", "asimd")   # as /proc/cpuinfo names them
ISA_ENV = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")       # what limits the kernels


@functools.lru_cache(maxsize=1)
def cpu_info() -> dict:
    """The CPU a run's numbers and times come from (a record's ``cpu``): its model name, logical
    CPUs, the vector extensions it has (of :data:`VECTOR_FLAGS`, from /proc/cpuinfo where there is
    one), the ones PyTorch's own kernels use (``torch.backends.cpu.get_cpu_capability()``, e.g.
    ``AVX2`` where ``ATEN_CPU_CAPABILITY=avx2`` limits them) and the :data:`ISA_ENV` variables set."""
    name, flags = platform.processor() or platform.machine(), []
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            name = value.strip()
        elif key.strip() in ("flags", "Features") and not flags:
            have = set(value.split())
            flags = [f for f in VECTOR_FLAGS if f in have]
    return {"model": name, "logical_cpus": os.cpu_count(), "vector_extensions": flags,
            "torch_kernels": torch.backends.cpu.get_cpu_capability(),
            "isa_env": {k: os.environ[k] for k in ISA_ENV if os.environ.get(k)}}


def versions() -> dict:
    """genzoo's and its main dependencies' versions, and Python's (a record's ``versions``)."""
    out = {"genzoo": getattr(genzoo, "__version__", None)}
    for dist in ("torch", "torchvision", "torchmetrics", "wandb"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    out["python"] = platform.python_version()
    return out


@dataclass(frozen=True)
class GitState:
    """The git work tree genzoo was imported from: commit (None outside a repository or before its
    first commit), whether it has uncommitted changes, and its root folder."""

    commit: str | None = None
    dirty: bool | None = None
    root: str | None = None


def _git(where: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_state() -> GitState:
    """The :class:`GitState` of the work tree genzoo was imported from (else of the working folder)."""
    for where in (Path(genzoo.__file__).resolve().parents[1], Path.cwd()):
        root = _git(where, "rev-parse", "--show-toplevel")
        if root is None:
            continue
        commit = _git(where, "rev-parse", "--verify", "-q", "HEAD")
        status = _git(where, "status", "--porcelain", "--untracked-files=no")
        return GitState(commit or None, bool(status) if status is not None and commit else None, root)
    return GitState()


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


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


def raise_if_environment(exc: BaseException, during: str) -> None:
    """Raise ``exc`` as an :class:`EnvironmentFailure` (what ``during`` was doing failed) when it
    is the machine's failure; return when it is the run's."""
    if isinstance(exc, EnvironmentFailure):
        raise exc
    if is_environment_failure(exc):
        raise EnvironmentFailure(f"{during} failed: {type(exc).__name__}: {exc}") from exc


def clean_leftovers(say: Callable[[str], None]) -> None:
    """Remove, and say in one line each, what killed benches left on this machine: their scratch
    folders in ``$TMPDIR`` (:func:`genzoo._io.sweep_stale_scratch`) and the processes of the
    local Ray instances their drivers started (:func:`genzoo.bench.ray_instances.clean_dead_instances`)."""
    removed = sweep_stale_scratch()
    if removed:
        say(f"removed {len(removed)} scratch folder{'s' if len(removed) > 1 else ''} of killed genzoo runs "
            f"from {tempfile.gettempdir()}")
    for line in clean_dead_instances():
        say(line)
